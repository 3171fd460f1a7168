"""Ingest benchmark: a synthetic national-scale input folder through the whole ingest.

By default it ingests England-sized synthetic data, 153 LAs at scale 1 (seed 153), from
benchmarks/.work/national/ into benchmarks/.work/national.duckdb (both git-ignored).
The input folder is generated first (with `csc-outcomes synth`, in a child process, so
that the generator's memory does not count) unless it already holds a complete synth
output with the same LAs, seed and scale; a folder given with --input is used as it is.

It prints progress (one line per LA and per batch, on stderr), then the figures:
rows read; seconds per stage (read/parse, validate, cross checks, combine, QA report,
warehouse write); rows/s validated and rows/s for the whole ingest (read to warehouse
written); peak RSS of the process (ru_maxrss) and of the largest reader process; CPU
seconds of the process and of its reader processes (--jobs); and the
machine facts (cores, load average before and after, date, git commit). With --record
the figures are appended to benchmarks/ingest/RESULTS.md.

examples:
  python benchmarks/ingest/bench_ingest.py                       # national set (153 LAs)
  python benchmarks/ingest/bench_ingest.py --las 10 --seed 1     # benchmarks/.work/las10-s1-seed1
  python benchmarks/ingest/bench_ingest.py --input data/synthetic --warehouse /tmp/w.duckdb
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from csc_outcomes.paths import repo_root

ROOT = repo_root()
HERE = ROOT / "benchmarks" / "ingest"
WORK = ROOT / "benchmarks" / ".work"
TODAY = dt.date(2026, 6, 1)  # "today" for the future-date checks: after the synthetic years
#: The stages timed (``IngestResult.timings``).
STAGES = ["read", "validate", "cross_checks", "combine", "report", "write"]


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="bench_ingest.py",
        description=__doc__.split("\n\n", 1)[0],
        epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("--las", type=int, default=153, help="number of synthetic LAs (default 153, England)")
    ap.add_argument("--scale", type=float, default=1.0, help="synthetic volume scale (default 1: real-sized LAs)")
    ap.add_argument("--seed", type=int, default=153, help="synthetic seed (default 153)")
    ap.add_argument("--input", type=Path, default=None,
                    help="input folder to ingest (default: benchmarks/.work/national for the default "
                         "LAs/scale/seed, else benchmarks/.work/las<N>-s<scale>-seed<seed>; generated when "
                         "missing or incomplete, unless given here)")
    ap.add_argument("--warehouse", type=Path, default=None,
                    help="warehouse to write (default: <input>.duckdb beside the input folder)")
    ap.add_argument("--batch-mb", type=int, default=None,
                    help="input MB read and validated together (default: ingest.BATCH_BYTES, 512 MB)")
    ap.add_argument("--jobs", type=int, default=None,
                    help="reader processes (default: ingest.default_jobs(), min(2, cores); 1 = read in-process)")
    ap.add_argument("--record", action="store_true", help="append the figures to benchmarks/ingest/RESULTS.md")
    ap.add_argument("--quiet", action="store_true", help="no per-LA progress lines")
    return ap


def _default_input(las: int, scale: float, seed: int) -> Path:
    if (las, scale, seed) == (153, 1.0, 153):
        return WORK / "national"
    return WORK / f"las{las}-s{scale:g}-seed{seed}"


def _complete(folder: Path, las: int, scale: float, seed: int) -> bool:
    """A finished synth output for these parameters (synth renames its folder into
    place only when complete, and writes synth_truth.json last)."""
    truth = folder / "synth_truth.json"
    if not truth.exists():
        return False
    try:
        p = json.loads(truth.read_text())["parameters"]
    except (ValueError, KeyError):
        return False
    n_dirs = sum(1 for d in folder.iterdir() if d.is_dir() and not d.name.startswith((".", "_")))
    return (p.get("n_las"), float(p.get("scale", 0)), p.get("seed")) == (las, float(scale), seed) and n_dirs == las


def _git_commit() -> str:
    try:
        out = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True, check=True)
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--", "lib", "benchmarks/ingest"],
                               capture_output=True, text=True, check=False).stdout.strip()
        return out.stdout.strip() + (" (with uncommitted changes)" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _input_folder(args: argparse.Namespace, say: Callable[..., None]) -> Path | None:
    """The folder to ingest: the one given, or the synthetic one (generated when
    missing or incomplete); None when it cannot be had."""
    if args.input is not None:
        inp = args.input.resolve()
        if not inp.is_dir():
            print(f"bench_ingest: no input folder {inp}", file=sys.stderr)
            return None
        return inp
    inp = _default_input(args.las, args.scale, args.seed).resolve()
    if _complete(inp, args.las, args.scale, args.seed):
        say(f"reusing the complete synthetic input {inp}")
        return inp
    say(f"generating {args.las} LAs (scale {args.scale:g}, seed {args.seed}) into {inp} ...")
    t = time.perf_counter()
    cmd = [sys.executable, "-m", "csc_outcomes", "synth", str(inp), "--las", str(args.las),
           "--seed", str(args.seed), "--scale", str(args.scale)]
    if subprocess.run(cmd, check=False).returncode != 0:
        print("bench_ingest: synth failed", file=sys.stderr)
        return None
    say(f"generated in {time.perf_counter() - t:.0f}s")
    return inp


def _cpu_seconds(before: resource.struct_rusage, after: resource.struct_rusage) -> float:
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _timed_ingest(inp: Path, wh: Path, args: argparse.Namespace, batch_bytes: int) -> tuple[Any, dict]:
    """The ingest into the warehouse, with its wall-clock and CPU seconds, the seconds
    and rows inside ``schema.validate`` and the peak memory."""
    from csc_outcomes.ingest import schema
    from csc_outcomes.warehouse import ingest_into

    spent = {"seconds": 0.0, "rows": 0}
    real_validate = schema.validate

    def timed_validate(raw, *a, **kw):
        t0 = time.perf_counter()
        out = real_validate(raw, *a, **kw)
        spent["seconds"] += time.perf_counter() - t0
        spent["rows"] += len(raw)
        return out

    schema.validate = timed_validate
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    kid0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    try:
        result = ingest_into(inp, wh, today=TODAY, progress=not args.quiet, keep_going=True, jobs=args.jobs,
                             batch_bytes=batch_bytes)
    finally:
        schema.validate = real_validate
    seconds = time.perf_counter() - t
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    kid1 = resource.getrusage(resource.RUSAGE_CHILDREN)  # the reader processes (ended with the ingest)
    return result, {
        "seconds": seconds, "validate_seconds": spent["seconds"], "validate_rows": spent["rows"],
        "cpu_main": _cpu_seconds(cpu0, cpu1), "cpu_workers": _cpu_seconds(kid0, kid1),
        "rss_mb": cpu1.ru_maxrss / 1024,  # KiB on Linux
        "worker_rss_mb": kid1.ru_maxrss / 1024,  # the largest child's peak (synth too, when generated here)
    }


def _facts(argv: list[str] | None, load_before: tuple[float, ...]) -> dict:
    """The machine and code the figures were measured on."""
    import duckdb
    import pandas as pd

    return {
        "date": dt.datetime.now().isoformat(timespec="seconds"),
        "commit": _git_commit(),
        "cpu": f"{_cpu_model()}, {os.cpu_count()} cores",
        "python": f"{platform.python_version()}, pandas {pd.__version__}, duckdb {duckdb.__version__}",
        "load_before": " ".join(f"{x:.2f}" for x in load_before),
        "load_after": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "command": "python benchmarks/ingest/bench_ingest.py " + " ".join(sys.argv[1:] if argv is None else argv),
    }


def _figures(result: Any, run: dict, inp: Path, wh: Path, in_bytes: int, jobs: int, batch_bytes: int,
             facts: dict) -> dict:
    """Every figure of the run, as recorded."""
    s = result.qa["summary"]
    rows, seconds, tm = s["rows_read"], run["seconds"], result.timings
    cpu = run["cpu_main"] + run["cpu_workers"]
    return {
        "input": str(inp), "warehouse": str(wh), "las": len({f["la_code"] for f in result.qa["files"]}),
        "files": s["files"], "input_gib": round(in_bytes / 2**30, 2), "rows_read": rows,
        "rows_accepted": s["rows_accepted"], "rows_rejected": s["rows_rejected"], "repairs": s["repairs"],
        "seconds_total": round(seconds, 1), "seconds": {k: round(tm.get(k, 0.0), 1) for k in STAGES},
        "seconds_contracts_validate": round(run["validate_seconds"], 1),
        "rows_per_s_whole_ingest": round(rows / seconds),
        "rows_per_s_validate_stage": round(rows / max(tm.get("validate", 0.0), 1e-9)),
        "rows_per_s_contracts_validate": round(run["validate_rows"] / max(run["validate_seconds"], 1e-9)),
        "cpu_seconds": round(cpu, 1), "cpu_seconds_main": round(run["cpu_main"], 1),
        "cpu_seconds_workers": round(run["cpu_workers"], 1), "rows_per_cpu_s": round(rows / max(cpu, 1e-9)),
        "jobs": jobs, "peak_rss_mb": round(run["rss_mb"]),
        "peak_rss_mb_largest_worker": round(run["worker_rss_mb"]), "batch_mb": round(batch_bytes / 2**20),
        **facts,
    }


def _record(out: dict, result: Any, scale: str) -> None:
    """Append the figures to RESULTS.md: a table row and the JSON."""
    s, tm = result.qa["summary"], result.timings
    line = (f"| {out['date'][:10]} | {out['las']} | {scale} | {s['rows_read']:,} | {out['seconds_total']:.1f} | "
            f"{out['rows_per_s_whole_ingest']:,} | {tm.get('validate', 0.0):.1f} | "
            f"{out['rows_per_s_validate_stage']:,} | {s['rows_rejected']:,} | {out['peak_rss_mb']:,.0f} |")
    with (HERE / "RESULTS.md").open("a") as fh:
        fh.write("\n" + line + "\n\n```json\n" + json.dumps(out, indent=1) + "\n```\n")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    say = (lambda *a: None) if args.quiet else (lambda *a: print(*a, file=sys.stderr, flush=True))
    inp = _input_folder(args, say)
    if inp is None:
        return 2 if args.input is not None else 1
    wh = (args.warehouse or inp.with_name(inp.name + ".duckdb")).resolve()

    from csc_outcomes.ingest import BATCH_BYTES, default_jobs

    batch_bytes = args.batch_mb * 2**20 if args.batch_mb else BATCH_BYTES
    files = [p for p in inp.rglob("*") if p.is_file()]
    in_bytes = sum(p.stat().st_size for p in files)
    load_before = os.getloadavg()
    say(f"ingesting {inp} ({len(files):,} files, {in_bytes / 2**30:.2f} GiB) into {wh}; "
        f"load average before: {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}")
    result, run = _timed_ingest(inp, wh, args, batch_bytes)
    jobs = args.jobs if args.jobs is not None else default_jobs()
    out = _figures(result, run, inp, wh, in_bytes, jobs, batch_bytes, _facts(argv, load_before))
    rows, seconds = out["rows_read"], run["seconds"]
    print(json.dumps(out, indent=1))
    print(f"\n{rows:,} rows in {seconds:.1f}s: {rows / seconds:,.0f} rows/s whole ingest "
          f"({out['rows_per_cpu_s']:,} rows per CPU second), validation {out['rows_per_s_validate_stage']:,} rows/s; "
          f"peak RSS {run['rss_mb']:,.0f} MB")
    if args.record:
        _record(out, result, "-" if args.input is not None else f"{args.scale:g}")
    return 0 if result.exit_code == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
