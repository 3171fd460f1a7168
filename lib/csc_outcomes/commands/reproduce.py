"""The `reproduce` subcommand: check a published run against its manifest, and re-run it."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

DESCRIPTION = """\
Check a published run against its manifest (reports/<period>/manifest.json) and re-run
it. Compared, each named when it differs:

  raw inputs       every raw file the warehouse was built from, re-hashed in the input
                   folder (--input, else the one the manifest names); changed, missing
                   or added files fail
  warehouse        its content (the rows of its tables, not the file's bytes: re-ingesting
                   identical inputs reproduces)
  measures         the run's own copy of its rows, and the measures recomputed from the
                   warehouse, value by value (LA, measure, period, both values)
  published files  every file the manifest vouches for, re-hashed in the reports tree
  code, packages   git commit, dirty flag, code hash, package versions: reported, and
                   failing only with --strict
  report data      the notebooks re-run into a scratch folder (nothing published is
                   touched), their tables and printed numbers compared (--no-rerun skips)

Paths in the manifest are relative to the project folder (the reports folder's parent).
"""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register `reproduce`."""
    p = subparsers.add_parser(
        "reproduce", help="re-run a published run from its manifest and compare outputs",
        description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="exit codes: 0 everything compared matches, 1 something differs, the re-run "
               "failed or the warehouse must be rebuilt, 2 usage error (no such manifest, or "
               "not one this kit can check)")
    p.add_argument("manifest", type=Path, help="path to a run's manifest.json")
    p.add_argument("--workdir", type=Path, default=None, metavar="DIR",
                   help="scratch folder for the re-run (default a temporary folder, removed after)")
    p.add_argument("--jobs", type=int, default=None, metavar="N",
                   help="notebooks run at once (default as in the manifest)")
    p.add_argument("--input", type=Path, default=None, metavar="DIR",
                   help="the raw input folder (default: the one the manifest names)")
    p.add_argument("--project", type=Path, default=None, metavar="DIR",
                   help="the folder the manifest's paths are relative to (default: the "
                        "parent of the reports folder holding the manifest)")
    p.add_argument("--strict", action="store_true",
                   help="a different code version or package set fails too")
    p.add_argument("--no-rerun", action="store_true",
                   help="compare inputs, measures and published files only; do not re-run "
                        "the notebooks")
    p.add_argument("--no-recompute", action="store_true",
                   help="do not recompute the measures from the warehouse")
    p.add_argument("--json", action="store_true", help="print the comparison as JSON")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    from csc_outcomes.reporting.reproduce import reproduce
    from csc_outcomes.warehouse import WarehouseSchemaError

    if not args.manifest.is_file():
        print(f"reproduce: no manifest at {args.manifest}", file=sys.stderr)
        return 2
    try:
        report = reproduce(args.manifest, workdir=args.workdir, jobs=args.jobs,
                           recompute_measures=not args.no_recompute, input_dir=args.input,
                           project=args.project, rerun=not args.no_rerun, strict=args.strict)
    except WarehouseSchemaError as exc:  # the data cannot be checked: re-ingest (exit 1)
        print(f"reproduce: {exc}", file=sys.stderr)
        return 1
    except ValueError as exc:
        print(f"reproduce: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(report.as_dict(), indent=2))
    else:
        print(report.summary())
    return 0 if report.ok else 1
