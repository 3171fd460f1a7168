"""The `run` subcommand: execute the report notebooks, render, leak-scan and publish."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from csc_outcomes.commands import arguments

if TYPE_CHECKING:
    from csc_outcomes.reporting.config import RunConfig

DESCRIPTION = """\
Run the report notebooks for one period with papermill (one run per notebook and LA),
render them (Quarto when 'quarto' is on PATH, else the built-in renderer), scan
everything to be published for child identifiers, then publish:

  reports/<period_end>/<la_code>/<notebook>.html (and .pdf)
  reports/<period_end>/manifest.json        inputs, parameters, versions, output hashes
  reports/index.html                        links to every period, LA and report
  restricted/<period_end>/<la_code>/        executed notebooks (child-level; never published)

Before anything runs, the options are checked (exit 2, naming the file, key or
option): every parameters file against its schema (defaults.yaml, <LA>.yaml,
schedules/*.yaml; suppression_threshold is a whole number of at least 5), each --la an
LA code the warehouse holds, --jobs at least 1. A warehouse written by another version
of the kit, or lacking a table or column, stops the run (exit 1) naming what is
missing and how to rebuild it.

If the measures CSV is missing (or has no rows for the period) it is computed from the
warehouse first. An LA whose notebook or render fails is not published; the others
are, the failure is listed in the manifest and on the index page, and the run exits 1.
A leak-scan hit fails the whole run (exit 1): nothing is published. One run at a time
per reports folder: a second exits 1 at once, naming the run in progress. Ctrl-C (exit
130) or SIGTERM (exit 143) stops a run within seconds: its kernels and workers are
stopped, nothing more starts, its private folder is removed and nothing is published
(a stop during the final swap waits for it and the index). Options not
given come from parameters/defaults.yaml, or from the schedule's file with --schedule
(parameters/schedules/<name>.yaml).

What is reused: each report (one notebook for one LA) is keyed by everything it
depends on: the notebook, its parameters, the LA's parameters and context files, the
run's measures rows, the LA's rows in the warehouse, the pooled models it uses, the
published figures, the QA report, the code and package versions, the renderer. A
report done for the same key (kept in restricted/<period_end>/done/, checked by hash)
is not run or rendered again; so a run killed part-way resumes where it stopped, and
a run for one LA after a run for all reuses the pooled models and runs only its own
notebooks. When every report is reused and published as it is, the run stops at once:
"nothing changed since run <id>". --force runs everything again, the pooled models
included (fitted again into the model cache, restricted/cache/models/; 'csc-outcomes
cache list|clear' shows or removes what is cached there).
"""

EPILOG = """\
examples:
  csc-outcomes run --period-end 2026-03-31
  csc-outcomes run --period-end 2026-03-31 --la SYN01 --la SYN02 --format html --format pdf
  csc-outcomes run --schedule monthly          # unattended: the latest period covered, all LAs
  csc-outcomes run --period-end latest_covered # the latest 31 March every LA's returns reach
periods: a period end before an LA's first SSDA903/CIN return is refused (exit 2); one
  past its latest return is refused (exit 1, naming the LAs and their latest return)
  unless --allow-incomplete, which puts an "incomplete data" banner on every page.
exit codes: 0 published, 1 a notebook, render or leak scan failed, the period is past
  the returns loaded, or the warehouse cannot be read, 2 usage error (an option or
  parameters file, including a period before any return)
"""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register `run`."""
    p = subparsers.add_parser(
        "run", help="run the report notebooks, render and publish them",
        description=DESCRIPTION, epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--period-end", metavar="DATE",
                   help="period end, YYYY-MM-DD, 'last_month_end' or 'latest_covered' (the "
                        "latest the loaded returns cover); default from "
                        "parameters/defaults.yaml or the schedule")
    p.add_argument("--allow-incomplete", action="store_true",
                   help="publish a period past an LA's latest return; every page then "
                        "carries an 'incomplete data' banner")
    p.add_argument("--la", dest="la_codes", action="append", metavar="CODE",
                   type=arguments.la_code,
                   help="LA code to report on (repeat for several); default: every LA "
                        "with measures for the period")
    p.add_argument("--warehouse", type=Path, default=None, metavar="PATH",
                   help="warehouse written by 'csc-outcomes ingest' (default data/warehouse.duckdb)")
    p.add_argument("--measures", type=Path, default=None, metavar="PATH",
                   help="measures CSV (default data/measures.csv; computed from the "
                        "warehouse when missing)")
    p.add_argument("--reports-dir", type=Path, default=None, metavar="DIR",
                   help="published tree (default reports)")
    p.add_argument("--restricted-dir", type=Path, default=None, metavar="DIR",
                   help="restricted tree for executed notebooks (default restricted; "
                        "must not be inside the reports folder)")
    p.add_argument("--format", dest="formats", action="append", choices=["html", "pdf"],
                   help="output format (repeat for both; default from defaults.yaml, else html)")
    p.add_argument("--jobs", type=arguments.jobs, default=None, metavar="N",
                   help="notebooks run at once, at least 1 (default: the machine's cores plus "
                        f"one, {arguments.default_jobs()} here); also the worker processes "
                        "writing trackers, reports and workbooks")
    p.add_argument("--notebook", dest="notebooks", action="append", metavar="NAME",
                   help="notebook to run, by name in notebooks/ (repeat; default all four)")
    p.add_argument("--schedule", metavar="NAME",
                   help="take defaults from parameters/schedules/NAME.yaml (e.g. monthly)")
    p.add_argument("--renderer", choices=["auto", "quarto", "builtin"], default=None,
                   help="auto (default): Quarto when on PATH, else built-in")
    p.add_argument("--parameters-dir", type=Path, default=None, metavar="DIR",
                   help="folder of defaults.yaml, <LA>.yaml and schedules/ (default parameters)")
    p.add_argument("--notebooks-dir", type=Path, default=None, metavar="DIR",
                   help="folder of the source notebooks (default the kit's notebooks/)")
    p.add_argument("--force", action="store_true",
                   help="fit the pooled models and run and render every report again, "
                        "reusing nothing done before")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    arguments.add_cluster(p)
    p.set_defaults(func=main)


def _pick(*values: Any) -> Any:
    """The first value that is set (not None and not empty)."""
    for v in values:
        if v not in (None, [], ()):
            return v
    return None


def _all_or(value: Any) -> tuple[str, ...]:
    """``all`` (or nothing) as the empty tuple that means every one; else the names."""
    if value in (None, "all", ["all"]):
        return ()
    return tuple([value] if isinstance(value, str) else value)


def build_config(args: argparse.Namespace) -> RunConfig:
    """The run's options: the command line, then the schedule, then defaults.yaml.

    Raises ``ValueError`` (or ``FileNotFoundError`` for a schedule) for a usage error:
    a parameters file (each is checked, not only those read here) or an option.
    """
    # the run's modules load pandas and the measures: imported here so that
    # `csc-outcomes --help` stays fast
    from csc_outcomes import paths
    from csc_outcomes.ingest import la_code
    from csc_outcomes.measures import coverage
    from csc_outcomes.reporting.config import RunConfig
    from csc_outcomes.reporting.parameters import check_folder, load_defaults, load_schedule

    params_dir = args.parameters_dir or (Path("parameters") if Path("parameters").is_dir()
                                         else paths.parameters_dir())
    check_folder(params_dir)
    defaults = load_defaults(params_dir)
    schedule = load_schedule(args.schedule, params_dir) if args.schedule else {}

    def option(name: str, given: Any, fallback: Any = None) -> Any:
        return _pick(given, schedule.get(name), defaults.get(name), fallback)

    period = option("period_end", args.period_end)
    if not period:
        raise ValueError("--period-end is required (or set period_end in "
                         "parameters/defaults.yaml)")
    return RunConfig(
        period_end=coverage.period_spelling(period), allow_incomplete=args.allow_incomplete,
        la_codes=tuple(la_code(c) for c in _all_or(_pick(args.la_codes, schedule.get("la_codes")))),
        warehouse=Path(option("warehouse", args.warehouse, "data/warehouse.duckdb")),
        measures_path=Path(option("measures", args.measures, "data/measures.csv")),
        reports_dir=Path(option("reports_dir", args.reports_dir, "reports")),
        restricted_dir=Path(option("restricted_dir", args.restricted_dir, "restricted")),
        formats=tuple(option("formats", args.formats, ["html"])),
        jobs=option("jobs", args.jobs, arguments.default_jobs()),
        notebooks=_all_or(option("notebooks", args.notebooks)),
        notebooks_dir=args.notebooks_dir, parameters_dir=Path(params_dir),
        renderer=option("renderer", args.renderer, "auto"), progress=not args.quiet,
        force=args.force, warm_kernels=not args.fresh_kernels, prepare=not args.no_prepare,
        cluster=args.cluster)


def main(args: argparse.Namespace) -> int:
    """Run the reports; exit 0 published, 1 the run failed, 2 a usage error."""
    from csc_outcomes.reporting import preflight  # lazily, as in build_config
    from csc_outcomes.reporting.config import RunError
    from csc_outcomes.reporting.run import run
    from csc_outcomes.warehouse import WarehouseSchemaError

    try:
        config = build_config(args)
        preflight.check(config)
    except (FileNotFoundError, ValueError) as exc:
        print(f"run: {exc}", file=sys.stderr)
        return 2
    except WarehouseSchemaError as exc:
        print(f"run: {exc}", file=sys.stderr)
        return 1
    try:
        result = run(config)
    except RunError as exc:
        print(f"run FAILED: {exc}", file=sys.stderr)
        return exc.exit_code
    done = "nothing changed, up to date:" if result.reuse and not result.runs else "published"
    print(f"{done} {len(result.reports)} file(s) for {result.period_end} "
          f"({', '.join(result.la_codes)}); manifest {result.manifest_path}; "
          f"index {result.index_path}")
    return 0
