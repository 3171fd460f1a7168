"""The `measures` subcommand: compute the measure catalogue into a tidy CSV.

    csc-outcomes measures INPUT --period-end 2025-03-31 --output measures.csv
    csc-outcomes measures data/warehouse.duckdb --from 2024-04 --to 2025-03 --output m.csv

INPUT is an input folder (read with ``ingest.ingest_folder``) or a warehouse file
(``*.duckdb``). All period ends are computed in one pass. The CSV is written to a
temporary file beside the output and moved into place, so a failed run never leaves
a half-written file. Exit codes: 0 done, 1 the input could not be read or computed,
2 a usage error.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
from pathlib import Path

import pandas as pd

EPILOG = """\
examples:
  csc-outcomes measures input/ --period-end 2025-03-31 --output out/measures.csv
  csc-outcomes measures data/warehouse.duckdb --from 2024-04 --to 2025-03 \\
      --output out/monthly.csv
  csc-outcomes measures input/ --period-end 2025-03-31 --measure referrals \\
      --measure cla_at_period_end --output out/two.csv

output columns: la_code, period_end, measure_id, numerator, denominator, value
  rates are proportions in [0, 1]; counts leave denominator empty; a rate with a
  zero denominator leaves value empty; a measure whose source was not supplied for an
  LA has no row for that LA. Definitions: docs/measures.md.

exit codes: 0 done, 1 the input could not be read, 2 a usage error.
"""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register `measures`."""
    from csc_outcomes.measures.catalogue import CATALOGUE

    p = subparsers.add_parser(
        "measures",
        help="compute the measure catalogue for period ends into a tidy CSV",
        description=(
            "Compute every measure of the catalogue (or those chosen with --measure) for "
            "each LA in INPUT and each period end, over the 12 months ending on it, and "
            "write one row per LA, period end and measure."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "input",
        metavar="INPUT",
        help="an input folder (one sub-folder per LA) or a warehouse file (*.duckdb)",
    )
    p.add_argument(
        "--period-end",
        dest="period_ends",
        action="append",
        default=[],
        metavar="DATE",
        help="a period end, YYYY-MM-DD (31 March for the statutory year, a month end "
        "for rolling tracking); repeat for several",
    )
    p.add_argument(
        "--from",
        dest="from_month",
        metavar="YYYY-MM",
        help="first month of a range: every month end from this month to --to",
    )
    p.add_argument(
        "--to", dest="to_month", metavar="YYYY-MM", help="last month of the --from range"
    )
    p.add_argument(
        "--measure",
        dest="measures",
        action="append",
        nargs="+",
        default=None,
        metavar="ID",
        help="compute only these measure ids (repeatable); known: " + ", ".join(CATALOGUE),
    )
    p.add_argument(
        "--output", "-o", required=True, metavar="FILE.csv", help="the CSV file to write"
    )
    p.set_defaults(func=run)


def _error(message: str, code: int) -> int:
    print(f"csc-outcomes measures: error: {message}", file=sys.stderr)
    return code


def _parse_date(text: str) -> pd.Timestamp:
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text.strip()):
        raise ValueError(f"period end {text!r} is not a date YYYY-MM-DD")
    return pd.Timestamp(text.strip())


def _parse_month(text: str, flag: str) -> pd.Timestamp:
    if not re.fullmatch(r"\d{4}-\d{2}", text.strip()):
        raise ValueError(f"{flag} {text!r} is not a month YYYY-MM")
    return pd.Timestamp(text.strip() + "-01")


def period_ends_from_args(args: argparse.Namespace) -> list[pd.Timestamp]:
    """Period ends from --period-end and --from/--to (``ValueError`` on bad usage)."""
    from csc_outcomes import calendar

    ends = [_parse_date(t) for t in args.period_ends]
    if (args.from_month is None) != (args.to_month is None):
        raise ValueError("--from and --to go together")
    if args.from_month is not None:
        first = _parse_month(args.from_month, "--from")
        last = _parse_month(args.to_month, "--to")
        if last < first:
            raise ValueError("--to is before --from")
        ends.extend(calendar.month_ends(first, last + pd.offsets.MonthEnd(0)))
    if not ends:
        raise ValueError("give at least one --period-end, or --from and --to")
    return sorted(set(ends))


def load_inputs(path: Path):
    """``MeasureInputs`` from an input folder or a warehouse file."""
    from csc_outcomes.measures.inputs import MeasureInputs

    if path.is_dir():
        from csc_outcomes.ingest import pipeline as ingest

        result = ingest.ingest_folder(path)
        if getattr(result, "exit_code", 0):
            print(
                "csc-outcomes measures: warning: some input files were rejected; the "
                "measures use what was read (run 'csc-outcomes ingest' for the QA report)",
                file=sys.stderr,
            )
        return MeasureInputs.from_ingest(result)
    return MeasureInputs.from_warehouse(path, measures_only=True)


def write_csv_atomic(frame: pd.DataFrame, output: Path) -> None:
    """Write ``frame`` to ``output`` via a temporary file in the same folder."""
    output.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{output.name}.", suffix=".tmp", dir=output.parent)
    try:
        with os.fdopen(fd, "w", newline="", encoding="utf-8") as fh:
            out = frame.copy()
            out["period_end"] = pd.to_datetime(out["period_end"]).dt.strftime("%Y-%m-%d")
            out.to_csv(fh, index=False)
        os.replace(tmp, output)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def run(args: argparse.Namespace) -> int:
    """Compute and write the measures; return the exit code."""
    from csc_outcomes.measures.compute import compute_measures, resolve_measure_ids

    try:
        ends = period_ends_from_args(args)
        wanted = [m for group in args.measures for m in group] if args.measures else None
        ids = resolve_measure_ids(wanted)
    except ValueError as exc:
        return _error(str(exc), 2)
    path = Path(args.input)
    output = Path(args.output)
    if output.suffix.lower() != ".csv":
        return _error(f"--output {output} should be a .csv file", 2)
    if not path.exists():
        return _error(f"input {path} does not exist", 1)
    if not path.is_dir() and path.suffix.lower() != ".duckdb":
        return _error(
            f"input {path} is neither an input folder nor a warehouse file (*.duckdb)", 2
        )
    try:
        inputs = load_inputs(path)
    except ImportError as exc:
        return _error(f"cannot read {path}: a step is not installed ({exc})", 1)
    except Exception as exc:  # noqa: BLE001 - any failure to read is reported, exit 1
        return _error(f"cannot read {path}: {type(exc).__name__}: {exc}", 1)
    if not inputs.la_codes:
        return _error(f"{path} holds no local authority's data", 1)
    try:
        result = compute_measures(inputs, ends, ids)
        write_csv_atomic(result, output)
    except OSError as exc:
        return _error(f"cannot write {output}: {exc}", 1)
    n_la = result["la_code"].nunique()
    print(
        f"wrote {len(result)} rows ({n_la} LA(s), {len(ends)} period end(s), "
        f"{result['measure_id'].nunique()} measure(s)) to {output}"
    )
    return 0
