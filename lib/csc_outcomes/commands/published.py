"""The `published` subcommand: DfE's published statistics in the catalogue's vocabulary.

    csc-outcomes published --output published.csv [--year 2025] [--measure ID ...]
    csc-outcomes published --neighbours E09000002
    csc-outcomes published update FILE [FILE ...]

Exit codes: 0 done, 1 a file is malformed or missing (the message names file, line,
column and value), 2 a usage error.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

EPILOG = """\
examples:
  csc-outcomes published --output out/published.csv
  csc-outcomes published --year 2025 --measure rereferrals_within_12m --output out/rr.csv
  csc-outcomes published --neighbours E09000002
  csc-outcomes published update ~/Downloads/la_cla_placement_stability.csv

output columns: geographic_level, area_code, area_name, year, measure_id, numerator,
  denominator, value, symbol. England is E92000001; regions and LAs use their current
  codes. `year` is the year ending 31 March (an academic year 2024/25 is 2025). Numbers
  are as published; `value` is on the measures table's scale (rates as proportions).
  Where DfE published a symbol (c suppressed, x not available, z not applicable, k or
  low rounds to zero, u low reliability) the numbers are empty and `symbol` holds it.

`update` checks each file whole against data_contracts/published/ and only then puts it
in place of the older release of the same publication, and rewrites SHA256SUMS.

Contains public sector information licensed under the Open Government Licence v3.0.
"""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register `published`."""
    p = subparsers.add_parser(
        "published",
        help="DfE's published statistics: England, regions, LAs and statistical neighbours",
        description=("Write DfE's published LA-level statistics as a tidy table in the "
                     "catalogue's vocabulary, list an LA's statistical neighbours, or add a "
                     "newer release of a published file."),
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("action", nargs="?", choices=["update"],
                   help="'update FILE ...': validate and add newer releases")
    p.add_argument("files", nargs="*", metavar="FILE", type=Path, help="files for 'update'")
    p.add_argument("--output", "-o", type=Path, help="write the tidy table (or neighbours) to this CSV")
    p.add_argument("--year", type=int, action="append", dest="years", metavar="Y",
                   help="only this year ending 31 March (repeatable)")
    p.add_argument("--measure", action="append", dest="measures", metavar="ID",
                   help="only this measure id (repeatable)")
    p.add_argument("--neighbours", metavar="CODE", help="list this LA's 10 statistical neighbours")
    p.add_argument("--published-dir", type=Path, default=None,
                   help="folder of published files (default: the kit's published/)")
    p.set_defaults(func=run)


def _error(message: str, code: int) -> int:
    print(f"csc-outcomes published: {message}", file=sys.stderr)
    return code


def _usage_problem(args: argparse.Namespace) -> str | None:
    if args.action == "update":
        return None if args.files else "'update' needs at least one FILE"
    if args.files:
        return f"unexpected file argument(s) {[str(f) for f in args.files]}; did you mean 'update'?"
    if args.output is None and args.neighbours is None:
        return "give --output FILE.csv (the tidy table) or --neighbours CODE"
    if args.output is not None and args.output.suffix.lower() != ".csv":
        return f"--output {args.output} should be a .csv file"
    return None


def run(args: argparse.Namespace) -> int:
    """Dispatch on the arguments; return the exit code."""
    from csc_outcomes.published.contract import PublishedFileError

    problem = _usage_problem(args)
    if problem:
        return _error(problem, 2)
    try:
        if args.action == "update":
            return _update(args)
        if args.neighbours:
            return _neighbours(args)
        return _tidy(args)
    except ValueError as exc:
        is_usage = not isinstance(exc, PublishedFileError)
        return _error(str(exc), 2 if is_usage else 1)
    except FileNotFoundError as exc:
        return _error(str(exc), 1)


def _tidy(args: argparse.Namespace) -> int:
    from csc_outcomes.published.tidy import published_measures, to_csv

    table = published_measures(args.published_dir, years=args.years, measure_ids=args.measures)
    to_csv(table, args.output)
    print(f"wrote {len(table):,} rows ({table['area_code'].nunique()} areas, "
          f"{table['year'].nunique()} years, {table['measure_id'].nunique()} measures) to "
          f"{args.output}")
    return 0


def _neighbours(args: argparse.Namespace) -> int:
    from csc_outcomes import atomic
    from csc_outcomes.published.neighbours import statistical_neighbours

    table = statistical_neighbours(args.neighbours, args.published_dir)
    if args.output:
        atomic.write_text(args.output, table.to_csv(index=False))
        print(f"wrote {len(table)} neighbours of {args.neighbours} to {args.output}")
    else:
        print(f"Statistical neighbours of {table['la_name'].iloc[0]} ({args.neighbours}), "
              "DfE's model, closest first:")
        for row in table.itertuples():
            print(f"{row.rank:>3}  {row.neighbour_code}  {row.neighbour_name:<32} {row.closeness}")
    return 0


def _update(args: argparse.Namespace) -> int:
    from csc_outcomes.published.release import add_release

    for added in add_release(list(args.files), args.published_dir):
        was = f"replacing {added.replaced}" if added.replaced else "new"
        years = f", to {added.last_year}" if added.last_year else ""
        print(f"added {added.name} ({was}{years})")
    return 0
