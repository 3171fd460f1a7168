"""Ingest benchmark on synthetic LAs (``csc_outcomes.synth``).

    python benchmarks/ingest/bench_ingest.py --las 20 --scale 1 --seed 1 [--input DIR] [--record]

Generates the LAs (unless --input names an existing folder), runs ``ingest_folder`` and
reports rows read, seconds and rows/s end to end, the seconds and rows/s spent in
validation proper (``contracts.validate``: typing + pandera + custom checks, whole
frames), and the peak RSS. With --record the figures are appended to RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).parent


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--las", type=int, default=20)
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--input", type=Path, default=None, help="existing input folder (skip generation)")
    ap.add_argument("--record", action="store_true", help="append the figures to RESULTS.md")
    args = ap.parse_args(argv)

    from csc_outcomes import contracts
    from csc_outcomes.ingest import ingest_folder

    tmp = None
    given = args.input is not None
    if not given:
        from csc_outcomes.synth import generate

        tmp = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
        args.input = tmp / "input"
        t = time.perf_counter()
        generate(args.input, n_las=args.las, seed=args.seed, scale=args.scale, progress=False)
        print(f"generated {args.las} LAs (scale {args.scale}) in {time.perf_counter() - t:.1f}s", file=sys.stderr)

    spent = {"validate": 0.0, "rows": 0}
    real_validate = contracts.validate

    def timed_validate(raw, *a, **kw):
        t0 = time.perf_counter()
        out = real_validate(raw, *a, **kw)
        spent["validate"] += time.perf_counter() - t0
        spent["rows"] += len(raw)
        return out

    contracts.validate = timed_validate
    try:
        t = time.perf_counter()
        result = ingest_folder(args.input, today=dt.date(2026, 6, 1))
        seconds = time.perf_counter() - t
    finally:
        contracts.validate = real_validate
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    s = result.qa["summary"]
    rows = s["rows_read"]
    las = "folder" if given else str(args.las)
    scale = "-" if given else f"{args.scale:g}"
    line = (f"| {dt.date.today().isoformat()} | {las} | {scale} | {rows:,} | {seconds:.1f} | "
            f"{rows / seconds:,.0f} | {spent['validate']:.1f} | {spent['rows'] / max(spent['validate'], 1e-9):,.0f} | "
            f"{s['rows_rejected']:,} | {rss_mb:,.0f} |")
    print(line)
    if args.record:
        res = HERE / "RESULTS.md"
        if not res.exists():
            res.write_text(
                "# Ingest benchmark\n\n"
                f"Machine: {platform.machine()}, Python {platform.python_version()}; figures from "
                "`bench_ingest.py` (synthetic LAs from `csc_outcomes.synth`).\n\n"
                "| date | LAs | scale | rows read | seconds (end to end) | rows/s (end to end) | "
                "seconds in validation | rows/s validated | rows rejected | peak RSS MB |\n"
                "|---|---|---|---|---|---|---|---|---|---|\n")
        with res.open("a") as fh:
            fh.write(line + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
