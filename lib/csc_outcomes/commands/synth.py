"""The ``synth`` subcommand: write synthetic LAs in the official formats."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

DESCRIPTION = """\
Write synthetic local authorities (SYN01, SYN02, ...) in the input folder layout the
kit reads (docs/input-formats.md): per LA, SSDA903 CSVs per collection year
(ssda903/<year>/<table>.csv), the CIN census XML per year
(cin/<year>/cin_census_<year>.xml), the school census feed (school_census/attendance.csv,
suspensions.csv) and front-door contacts (contacts/contacts.csv); and, at the top of
OUT, synth_truth.json with the true effect sizes of the proportionality, re-referral
and attendance models (and any faults injected). Volumes follow England's published
figures scaled to each LA's size; the same seed gives byte-identical files.

OUT must be new, empty, or a previous synth output (it is then replaced). Files are
written into a temporary folder beside OUT and renamed into place when complete."""

EPILOG = """\
examples:
  csc-outcomes synth data/synthetic --las 3 --seed 2026 --scale 0.15   # the demo's size
  csc-outcomes synth data/national --las 153 --seed 1                  # England-sized
  csc-outcomes synth data/faulty --las 2 --faults                      # with export faults

exit codes: 0 written, 1 OUT cannot be written (message says why), 2 usage error."""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``synth``."""
    p = subparsers.add_parser(
        "synth",
        help="write synthetic LAs in the official formats (demo and test data)",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("out", metavar="OUT", type=Path, help="output folder (new, empty, or a previous synth output)")
    p.add_argument("--las", type=int, default=3, metavar="N", help="number of synthetic LAs (default 3)")
    p.add_argument("--seed", type=int, default=0, metavar="S", help="random seed (default 0)")
    p.add_argument("--first-year", type=int, default=2022, metavar="Y",
                   help="first collection year, named by the year it ends (default 2022 = April 2021 to March 2022)")
    p.add_argument("--last-year", type=int, default=2026, metavar="Y",
                   help="last collection year (default 2026 = April 2025 to March 2026)")
    p.add_argument("--scale", type=float, default=1.0, metavar="F",
                   help="size multiplier: 1 gives England-sized LAs (about 535 children looked after "
                        "on average); the demo uses 0.15 (default 1)")
    p.add_argument("--faults", action="store_true",
                   help="inject the faults real exports carry (byte-order marks, Windows-1252, CRLF, "
                        "blanks, lower-case codes, impossible dates, duplicates, an extra column; in the CIN "
                        "XML an impossible date, a lower-case code, a boolean written yes, blanks inside "
                        "a date) and record them in synth_truth.json")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Generate; returns an exit code."""
    # imported on use, not at the top, so that `csc-outcomes --help` stays fast
    from csc_outcomes.synth import SynthError, generate

    if args.las < 1:
        print("synth: --las must be at least 1", file=sys.stderr)
        return 2
    if args.first_year > args.last_year:
        print("synth: --first-year must not be after --last-year", file=sys.stderr)
        return 2
    if not args.scale > 0:
        print("synth: --scale must be positive", file=sys.stderr)
        return 2
    started = time.perf_counter()
    if not args.quiet:
        print(f"synth: {args.las} LA{'s' if args.las != 1 else ''}, collection years "
              f"{args.first_year}-{args.last_year}, scale {args.scale:g}, seed {args.seed}"
              f"{', with faults' if args.faults else ''}", flush=True)
    try:
        summary = generate(args.out, n_las=args.las, seed=args.seed, first_year=args.first_year,
                           last_year=args.last_year, scale=args.scale, faults=args.faults,
                           progress=not args.quiet)
    except SynthError as exc:
        print(f"synth: {exc}", file=sys.stderr)
        return 1
    files = sum(1 for f in Path(args.out).rglob("*") if f.is_file())
    print(f"Done in {time.perf_counter() - started:.1f}s: {len(summary['las'])} LAs, {files} files in "
          f"{Path(args.out).resolve()} (true effects in {Path(args.out).resolve() / 'synth_truth.json'})")
    return 0
