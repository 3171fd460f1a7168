"""The `reproduce` subcommand: re-run a published run from its manifest and compare."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

DESCRIPTION = """\
Re-run the notebooks of a published run from its manifest (reports/<period>/manifest.json)
with the same parameters, into a scratch folder (nothing published is touched), and
compare: the input files' hashes now and then, the period's rows of the measures table
(recomputed from the warehouse when it is present), and each executed notebook's text
outputs (tables and printed numbers; images and HTML pages embed versions and dates, so
they are not compared byte for byte). Prints what matches and what differs.
"""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register `reproduce`."""
    p = subparsers.add_parser(
        "reproduce", help="re-run a published run from its manifest and compare outputs",
        description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="exit codes: 0 everything compared matches, 1 something differs or the "
               "re-run failed, 2 usage error (no such manifest)")
    p.add_argument("manifest", type=Path, help="path to a run's manifest.json")
    p.add_argument("--workdir", type=Path, default=None, metavar="DIR",
                   help="scratch folder for the re-run (default a temporary folder, removed after)")
    p.add_argument("--jobs", type=int, default=None, metavar="N",
                   help="notebooks run at once (default as in the manifest)")
    p.add_argument("--no-recompute", action="store_true",
                   help="do not recompute the measures from the warehouse")
    p.add_argument("--json", action="store_true", help="print the comparison as JSON")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    from csc_outcomes.reporting.reproduce import reproduce

    if not args.manifest.is_file():
        print(f"reproduce: no manifest at {args.manifest}", file=sys.stderr)
        return 2
    try:
        report = reproduce(args.manifest, workdir=args.workdir, jobs=args.jobs,
                           recompute_measures=not args.no_recompute)
    except ValueError as exc:
        print(f"reproduce: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(report.as_dict(), indent=2))
    else:
        print(report.summary())
    return 0 if report.ok else 1
