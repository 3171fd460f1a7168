"""The ``demo`` subcommand: the whole flow on built-in synthetic data.

synth (3 LAs) -> ingest -> measures (a monthly series) -> run (notebooks, reports,
index, manifest). It uses the same functions as the other subcommands, so the demo is
the flow an LA runs on its own data, with the synthetic generator in front.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

from csc_outcomes.commands import arguments

DEFAULT_PERIOD_END = "2026-03-31"


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``demo``."""
    p = subparsers.add_parser(
        "demo",
        help="run the whole flow on synthetic LAs (synth, ingest, measures, reports)",
        description=(
            "Generate synthetic LAs in the official formats, ingest them into a DuckDB "
            "warehouse, compute the measure catalogue, run every notebook per LA with "
            "papermill and render the reports, the index page and the run manifest. "
            "The synthetic input folder is regenerated on each run."
        ),
    )
    p.add_argument("--las", type=int, default=3, help="number of synthetic LAs (default 3)")
    p.add_argument("--seed", type=int, default=2026, help="random seed (default 2026)")
    p.add_argument(
        "--scale", type=float, default=None,
        help="size of each LA relative to an average English LA (default: the demo scale)",
    )
    p.add_argument(
        "--period-end", default=DEFAULT_PERIOD_END,
        help=f"period end of the reports (default {DEFAULT_PERIOD_END})",
    )
    p.add_argument("--data-dir", default="data", type=Path, help="where input, warehouse and measures go (default data/)")
    p.add_argument("--reports-dir", default="reports", type=Path, help="where published reports go (default reports/)")
    p.add_argument(
        "--format", dest="formats", action="append", choices=["html", "pdf"],
        help="report formats (repeatable; default html)",
    )
    p.add_argument("--jobs", type=arguments.jobs, default=2,
                   help="notebooks run in parallel, at least 1 (default 2)")
    arguments.add_cluster(p)
    p.set_defaults(func=run_demo)


def _step(message: str) -> float:
    """Announce a step; return its start time."""
    print(f"==> {message}", flush=True)
    return time.perf_counter()


def run_demo(args: argparse.Namespace) -> int:
    """Run the flow; returns an exit code."""
    # each step loads pandas and more: imported here so that `csc-outcomes --help` stays fast
    import pandas as pd

    from csc_outcomes import calendar, synth
    from csc_outcomes.measures import table
    from csc_outcomes.measures.compute import compute_measures
    from csc_outcomes.measures.inputs import MeasureInputs
    from csc_outcomes.reporting.config import RunConfig, RunError
    from csc_outcomes.reporting.parameters import check_folder
    from csc_outcomes.reporting.run import run
    from csc_outcomes.warehouse import ingest_into

    try:  # the options and parameter files, before minutes of work
        check_folder()
        table.parse_period_end(args.period_end)
        if args.cluster:
            # Imported here: Dask takes ~2 s to load, and only --cluster needs it.
            from csc_outcomes.reporting.cluster import check_address

            check_address(args.cluster)
    except ValueError as exc:
        print(f"demo: {exc}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    data_dir: Path = args.data_dir
    input_dir = data_dir / "synthetic"
    warehouse = data_dir / "warehouse.duckdb"
    measures_path = data_dir / "measures.csv"
    period_end = pd.Timestamp(args.period_end)

    t = _step(f"1/4 synthetic data: {args.las} LAs -> {input_dir}")
    if input_dir.exists():
        shutil.rmtree(input_dir)
    scale = synth.DEMO_SCALE if args.scale is None else args.scale
    synth.generate(
        input_dir, n_las=args.las, seed=args.seed, scale=scale,
        last_year=calendar.collection_year(period_end), progress=False,
    )
    print(f"    done in {time.perf_counter() - t:.1f}s")

    t = _step(f"2/4 ingest -> {warehouse}")
    result = ingest_into(input_dir, warehouse, progress=True)
    if result.exit_code != 0:
        print("demo: ingest rejected a file; see the QA report above", file=sys.stderr)
        return 1
    print(f"    done in {time.perf_counter() - t:.1f}s")

    t = _step(f"3/4 measures -> {measures_path}")
    periods = calendar.month_ends(calendar.add_years(period_end, -3), period_end)
    measures = compute_measures(MeasureInputs.from_warehouse(warehouse, measures_only=True),
                                periods)
    table.write(measures, measures_path)
    print(f"    {len(measures):,} rows for {len(periods)} period ends in {time.perf_counter() - t:.1f}s")

    t = _step("4/4 notebooks and reports")
    config = RunConfig(period_end=table.period_text(period_end), warehouse=warehouse,
                       measures_path=measures_path, reports_dir=args.reports_dir,
                       formats=tuple(args.formats or ["html"]), jobs=args.jobs,
                       cluster=args.cluster, warm_kernels=not args.fresh_kernels,
                       prepare=not args.no_prepare)
    try:
        run(config)
    except RunError as err:
        print(f"demo: the report run failed:\n{err}", file=sys.stderr)
        return 1
    print(f"    done in {time.perf_counter() - t:.1f}s")
    index = (args.reports_dir / "index.html").resolve()
    print(f"\nDemo finished in {time.perf_counter() - started:.0f}s. Open the reports: {index}")
    return 0
