"""The `measures` subcommand: compute the measure catalogue into a tidy CSV.

    csc-outcomes measures INPUT --period-end 2025-03-31 --output measures.csv
    csc-outcomes measures data/warehouse.duckdb --from 2024-04 --to 2025-03 --output m.csv

INPUT is an input folder (read with ``ingest.ingest_folder``) or a warehouse file
(``*.duckdb``). All period ends are computed in one pass. An input folder the ingest
refuses (a file rejected, a table missing from an LA's latest return) and a warehouse
this kit cannot read (another schema version, a table or column missing) are refused
with exit code 1, never read as if complete. The CSV is written by
``measures.table.write`` (atomically: a failed run never leaves a half-written
file). Exit codes: 0 done, 1 the input could not be read or computed, 2 a usage
error.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from csc_outcomes.measures.inputs import MeasureInputs

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

exit codes: 0 done, 1 the input could not be read (a file the ingest rejects, a table
  missing from an LA's latest return, a warehouse to be rebuilt with 'csc-outcomes
  ingest'), 2 a usage error.
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
        "for rolling tracking) or last_month_end; repeat for several",
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
    p.add_argument(
        "--allow-incomplete",
        action="store_true",
        help="compute period ends past an LA's latest SSDA903/CIN return (refused otherwise, "
        "exit 1; a period end before its first return is always refused, exit 2)",
    )
    p.set_defaults(func=run)


def _error(message: str, code: int) -> int:
    """Print ``message`` as the command's error; return the exit ``code``."""
    print(f"csc-outcomes measures: error: {message}", file=sys.stderr)
    return code


def _parse_month(text: str, flag: str) -> pd.Timestamp:
    """The first day of a ``YYYY-MM`` month given to ``flag`` (``ValueError`` else)."""
    if not re.fullmatch(r"\d{4}-\d{2}", text.strip()):
        raise ValueError(f"{flag} {text!r} is not a month YYYY-MM")
    return pd.Timestamp(text.strip() + "-01")


def period_ends_from_args(args: argparse.Namespace) -> list[pd.Timestamp]:
    """Period ends from --period-end and --from/--to (``ValueError`` on bad usage)."""
    from csc_outcomes import calendar
    from csc_outcomes.measures.table import parse_period_end

    ends = [pd.Timestamp(parse_period_end(t)) for t in args.period_ends]
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


class InputRefused(Exception):
    """The input folder's ingest refused a file: the measures would misread it."""


def load_inputs(path: Path) -> MeasureInputs:
    """``MeasureInputs`` from an input folder or a warehouse file; :class:`InputRefused`
    when the ingest rejects a file of the folder (as ``csc-outcomes ingest`` would)."""
    from csc_outcomes.measures.inputs import MeasureInputs

    if path.is_dir():
        from csc_outcomes.ingest import pipeline as ingest

        result = ingest.ingest_folder(path)
        if result.exit_code:
            refused = [f["problems"][0]["message"] for f in result.qa["files"]
                       if f["status"] == "rejected" and f["problems"]]
            raise InputRefused("the ingest refused the input; run 'csc-outcomes ingest' for the "
                               "QA report:\n  " + "\n  ".join(refused))
        return MeasureInputs.from_ingest(result)
    return MeasureInputs.from_warehouse(path, measures_only=True)


def path_problem(path: Path, output: Path) -> tuple[str, int] | None:
    """What is wrong with INPUT or --output, and its exit code; ``None`` when fine."""
    if output.suffix.lower() != ".csv":
        return f"--output {output} should be a .csv file", 2
    if not path.exists():
        return f"input {path} does not exist", 1
    if not path.is_dir() and path.suffix.lower() != ".duckdb":
        return f"input {path} is neither an input folder nor a warehouse file (*.duckdb)", 2
    return None


def inputs_problem(path: Path, inputs: MeasureInputs, ends: list[pd.Timestamp],
                   allow_incomplete: bool) -> tuple[str, int] | None:
    """Why the inputs cannot give these period ends, and its exit code; ``None`` if they
    can. No LA: 1. A period end the returns do not cover (``measures.coverage``): 2 before
    an LA's first return, 1 past its latest unless allowed. Inputs built by hand, without
    collection years, have no returns to check against."""
    from csc_outcomes.measures.coverage import Coverage, PeriodNotCovered

    if not inputs.la_codes:
        return f"{path} holds no local authority's data", 1
    if "collection_year" not in inputs.supplied.columns:
        return None
    coverage = Coverage.from_supplied(inputs.supplied)
    for end in ends:
        try:
            check = coverage.require(end, allow_incomplete=allow_incomplete)
        except PeriodNotCovered as exc:
            return str(exc), exc.exit_code
        if not check.covered:
            print(f"csc-outcomes measures: warning: {check.incomplete_text()}; its measures "
                  "rest on incomplete data", file=sys.stderr)
    return None


def run(args: argparse.Namespace) -> int:
    """Compute and write the measures; return the exit code."""
    from csc_outcomes.measures import table
    from csc_outcomes.measures.compute import compute_measures, resolve_measure_ids

    try:
        ends = period_ends_from_args(args)
        wanted = [m for group in args.measures for m in group] if args.measures else None
        ids = resolve_measure_ids(wanted)
    except ValueError as exc:
        return _error(str(exc), 2)
    path, output = Path(args.input), Path(args.output)
    problem = path_problem(path, output)
    if problem is not None:
        return _error(*problem)
    from csc_outcomes.warehouse import WarehouseSchemaError

    try:
        inputs = load_inputs(path)
    except (InputRefused, WarehouseSchemaError) as exc:
        return _error(str(exc), 1)
    except ImportError as exc:
        return _error(f"cannot read {path}: a step is not installed ({exc})", 1)
    except Exception as exc:  # noqa: BLE001 - any failure to read is reported, exit 1
        return _error(f"cannot read {path}: {type(exc).__name__}: {exc}", 1)
    unfit = inputs_problem(path, inputs, ends, args.allow_incomplete)
    if unfit is not None:
        return _error(*unfit)
    result = compute_measures(inputs, ends, ids)
    try:
        table.write(result, output)
    except OSError as exc:
        return _error(f"cannot write {output}: {exc}", 1)
    print(
        f"wrote {len(result)} rows ({result['la_code'].nunique()} LA(s), {len(ends)} period "
        f"end(s), {result['measure_id'].nunique()} measure(s)) to {output}"
    )
    return 0
