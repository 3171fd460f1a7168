"""The `ingest` subcommand: input folder -> warehouse (+ QA report)."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from csc_outcomes.commands import arguments

DESCRIPTION = """\
Read every LA folder under INPUT (INPUT/<la_code>/ssda903/<year>/*.csv or *.xml,
cin/<year>/*.xml, school_census/*.csv, contacts/*.csv), validate each file against
its data contract for its collection year, quarantine rows with problems, combine
collection years (the later return wins; repairs are recorded) and write the DuckDB
warehouse atomically, with a JSON QA report beside it.

Inputs are refused rather than misread: an entry under an LA folder that is not a
regular file (a folder, FIFO or dangling link where a data file belongs) is a rejected
file, and so is a table an LA supplied in an earlier year but not in its latest return
(SSDA903 and CIN census; name it with --allow-missing TABLE to accept its absence
knowingly: the QA report records it).

Exit codes: 0 ingest completed (rejected rows are listed in the QA report and the
warehouse's rejects table); 1 a file was rejected or is missing (the warehouse is left
as it was, unless --keep-going), or with --strict any row was rejected; 2 usage error.
"""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register `ingest`."""
    p = subparsers.add_parser(
        "ingest", help="read, validate and combine the statutory returns into the warehouse",
        description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("input", metavar="INPUT", type=Path, help="folder holding one sub-folder per LA code")
    p.add_argument("--warehouse", type=Path, default=Path("data/warehouse.duckdb"), metavar="PATH",
                   help="DuckDB file to write (default: %(default)s)")
    p.add_argument("--qa-report", type=Path, default=None, metavar="FILE",
                   help="QA report JSON to write (default: beside the warehouse, <stem>.qa.json)")
    p.add_argument("--strict", action="store_true", help="exit 1 when any row is rejected")
    p.add_argument("--la", action="append", metavar="CODE", default=None,
                   type=arguments.la_code,
                   help="ingest only this LA folder (repeat --la for more)")
    p.add_argument("--quiet", action="store_true", help="print only problems that stop the ingest")
    p.add_argument("--keep-going", action="store_true",
                   help="write the warehouse even when a file was rejected (the exit code stays 1)")
    p.add_argument("--today", metavar="YYYY-MM-DD", default=None,
                   help="date that 'dates in the future' are judged against (default: today; "
                        "for reproducible re-runs)")
    p.add_argument("--allow-missing", action="append", default=[], metavar="TABLE",
                   help="accept that TABLE (e.g. episodes) is missing from an LA's latest return "
                        "though supplied before (repeatable; recorded in the QA report)")
    p.add_argument("--jobs", type=arguments.jobs, default=None, metavar="N",
                   help="processes that read and parse the files (default: min(2, cores)); "
                        "1 reads in this process. The result is the same for any N")
    p.set_defaults(func=run, failure_note="the previous warehouse was left as it was")


def run(args: argparse.Namespace) -> int:
    """Run the ingest; return the exit code."""
    from csc_outcomes import warehouse
    from csc_outcomes.ingest import UsageError, format_summary, ingest_folder

    today = None
    if args.today:
        try:
            today = dt.date.fromisoformat(args.today)
        except ValueError:
            print(f"ingest: --today {args.today!r} is not a date (YYYY-MM-DD)", file=sys.stderr)
            return 2
    try:
        result = ingest_folder(args.input, strict=args.strict, progress=not args.quiet, today=today,
                               la_codes=args.la, jobs=args.jobs, allow_missing=args.allow_missing)
    except UsageError as exc:
        print(f"ingest: {exc}", file=sys.stderr)
        return 2
    warehouse.write_ingest(result, args.warehouse, qa_report=args.qa_report, keep_going=args.keep_going)
    if args.quiet:
        for f in result.qa["files"]:
            if f["status"] == "rejected":
                for p in f["problems"]:
                    print(p["message"], file=sys.stderr)
    else:
        print(format_summary(result.qa))
    written = result.qa.get("warehouse_written")
    if not args.quiet:
        if written:
            print(f"warehouse: {args.warehouse}")
        else:
            print(f"warehouse NOT written (a file was rejected{' or rows were rejected with --strict' if args.strict else ''}); "
                  f"fix the files listed and run again", file=sys.stderr)
        print(f"QA report: {result.qa.get('qa_report')}")
    return result.exit_code
