"""Benchmark: the scheduled monthly run at national scale, as an LA's scheduler runs it.

Issue 9's targets on this 2-core, 24 GB machine: 153 LAs x 4 notebooks (HTML) in under
20 minutes with the whole process tree under 12 GB; a rerun with nothing changed in
under 10 s; one LA after a national run in under 30 s.

    python benchmarks/monthly/bench_monthly.py                    # 153 LAs, scale 1
    python benchmarks/monthly/bench_monthly.py --las 10 --scale 0.2 --no-record
    python benchmarks/monthly/bench_monthly.py --help             # every option

Steps, each the kit's own command in a child process (as the scheduler runs them):

1. the input folder: ``benchmarks/.work/national/`` (``csc-outcomes synth``, shared
   with the ingest benchmark) when ``--las 153 --scale 1 --seed 153``, else
   ``benchmarks/.work/monthly-<las>-<scale>-<seed>/``; reused when complete;
2. ``csc-outcomes ingest`` and ``csc-outcomes measures`` into the same folder (reused
   when the warehouse and measures table are there: the benchmark times the run);
3. the floor: a trivial notebook through the same runner (``papermill_runs``), as many
   times as there are notebooks x LAs would take at ``--jobs`` (measured on
   ``--floor-runs`` runs and scaled);
4. ``csc-outcomes run`` (HTML, ``--jobs``): wall time, and the peak resident memory of
   the whole process tree (the run, its notebook kernels and any workers), sampled every
   0.25 s with psutil;
5. the same command again (nothing changed), then ``run --la <first LA>`` (what a
   scheduler does for one LA after the national run: its reports are reused).

Each figure goes to ``benchmarks/monthly/RESULTS.md`` with the load average before and
after, the machine and the git commit (``--no-record`` prints only).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

from csc_outcomes import paths
from csc_outcomes.commands.arguments import default_jobs
from csc_outcomes.reporting.papermill_runs import NotebookJob, run_notebooks

ROOT = paths.repo_root()
WORK = ROOT / "benchmarks" / ".work"
RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
NATIONAL = (153, 1.0, 153)  # las, scale, seed of benchmarks/.work/national (ingest benchmark)
TRIVIAL = {"cells": [{"id": "parameters", "cell_type": "code", "metadata": {"tags": ["parameters"]},
                      "execution_count": None, "outputs": [], "source": "la_code = ''"},
                     {"id": "print", "cell_type": "code", "metadata": {}, "execution_count": None,
                      "outputs": [], "source": "print(la_code)"}],
           "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                       "language": "python"}},
           "nbformat": 4, "nbformat_minor": 5}


def parser() -> argparse.ArgumentParser:
    """The command line; every option with its default."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--las", type=int, default=153, help="synthetic LAs (default 153)")
    p.add_argument("--scale", type=float, default=1.0, help="LA size, 1 = England's (default 1)")
    p.add_argument("--seed", type=int, default=153, help="generator seed (default 153)")
    p.add_argument("--period-end", default="2026-03-31", help="period of the run (default 2026-03-31)")
    p.add_argument("--jobs", type=int, default=default_jobs(),
                   help=f"notebooks at once (default the run's own: cores + 1, {default_jobs()} here)")
    p.add_argument("--cluster", default=None,
                   help="pass --cluster ADDRESS|local to the run (default: the kit's own runner)")
    p.add_argument("--floor-runs", type=int, default=6,
                   help="trivial notebooks run to measure the floor (default 6)")
    p.add_argument("--work", type=Path, default=None,
                   help="folder for input, warehouse, measures and trees (default under benchmarks/.work)")
    p.add_argument("--no-record", action="store_true", help="print the figures; do not append to RESULTS.md")
    return p


def cli(*args: str) -> list[str]:
    """The kit's command in a child process with this interpreter."""
    return [sys.executable, "-m", "csc_outcomes", *args]


def folders(args: argparse.Namespace) -> tuple[Path, Path]:
    """(input folder, working folder) for these options."""
    if args.work:
        return args.work / "input", args.work
    if (args.las, args.scale, args.seed) == NATIONAL:
        return WORK / "national", WORK / "monthly-national"
    name = f"monthly-{args.las}-{args.scale:g}-{args.seed}"
    return WORK / name / "input", WORK / name


def step(what: str, command: list[str], say) -> float:
    """Run ``command`` (its output passed through); its wall seconds. Fails loudly."""
    say(f"{what}: {' '.join(command[2:])}")
    t0 = time.perf_counter()
    subprocess.run(command, check=True)
    return time.perf_counter() - t0


def prepare_data(args: argparse.Namespace, say) -> dict[str, Path]:
    """Input, warehouse and measures for the run; each made once and reused."""
    inp, work = folders(args)
    work.mkdir(parents=True, exist_ok=True)
    wh, measures = work / "warehouse.duckdb", work / "measures.csv"
    if not (inp / "synth_truth.json").is_file():
        step("synth", cli("synth", str(inp), "--las", str(args.las), "--scale", f"{args.scale:g}",
                          "--seed", str(args.seed)), say)
    if not wh.is_file():
        step("ingest", cli("ingest", str(inp), "--warehouse", str(wh)), say)
    if not measures.is_file():
        step("measures", cli("measures", str(wh), "--period-end", args.period_end,
                             "--output", str(measures)), say)
    return {"input": inp, "work": work, "warehouse": wh, "measures": measures}


def floor_seconds(runs: int, jobs: int) -> float:
    """Wall seconds per trivial notebook through the kit's runner at ``jobs`` at once."""
    with tempfile.TemporaryDirectory(prefix="floor-") as tmp:
        nb = Path(tmp) / "trivial.ipynb"
        nb.write_text(json.dumps(TRIVIAL))
        batch = [NotebookJob(notebook=nb, la_code=f"L{i}", period_end="2026-03-31",
                             output_path=Path(tmp) / f"out{i}" / "trivial.ipynb",
                             parameters={"la_code": f"L{i}"}) for i in range(runs)]
        t0 = time.perf_counter()
        results = run_notebooks(batch, max_workers=jobs, progress=None)
        seconds = time.perf_counter() - t0
    if not all(r.ok for r in results):
        raise SystemExit(f"the trivial notebook failed: {[r.error for r in results if not r.ok]}")
    return seconds * jobs / runs


class TreePeak:
    """Peak memory of a process and all its descendants, sampled in a thread: the sum of
    resident sizes (``peak``: counts a page shared by forked processes, the notebook
    kernels and leak-scan workers, once per process) and the sum of proportional set
    sizes (``peak_pss``: a shared page split among its sharers, so the tree's real use)."""

    def __init__(self, pid: int, every: float = 0.25):
        self.root, self.every, self.peak, self.peak_pss = psutil.Process(pid), every, 0, 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.sample, daemon=True)

    def sample(self) -> None:
        """Sum RSS and PSS over the tree until stopped; processes that end meanwhile are
        skipped."""
        while not self.stop.is_set():
            rss = pss = 0
            try:
                procs = [self.root, *self.root.children(recursive=True)]
            except psutil.Error:
                procs = []
            for proc in procs:
                try:
                    full = proc.memory_full_info()
                except psutil.Error:
                    continue
                rss, pss = rss + full.rss, pss + getattr(full, "pss", full.rss)
            self.peak, self.peak_pss = max(self.peak, rss), max(self.peak_pss, pss)
            self.stop.wait(self.every)


def timed_run(command: list[str], say) -> tuple[float, float, float]:
    """(wall seconds, peak tree RSS and PSS in GB) of one run command; fails loudly."""
    say(" ".join(command[2:]))
    t0 = time.perf_counter()
    proc = subprocess.Popen(command)
    peak = TreePeak(proc.pid)
    peak.thread.start()
    code = proc.wait()
    seconds = time.perf_counter() - t0
    peak.stop.set()
    peak.thread.join()
    if code != 0:
        raise SystemExit(f"the run exited {code}: {' '.join(command)}")
    return seconds, peak.peak / 1e9, peak.peak_pss / 1e9


def run_command(args: argparse.Namespace, data: dict[str, Path], *extra: str) -> list[str]:
    """``csc-outcomes run`` over the benchmark's data, HTML only."""
    work = data["work"]
    cluster = ["--cluster", args.cluster] if args.cluster else []
    return cli("run", "--period-end", args.period_end, "--warehouse", str(data["warehouse"]),
               "--measures", str(data["measures"]), "--reports-dir", str(work / "reports"),
               "--restricted-dir", str(work / "restricted"), "--format", "html",
               "--jobs", str(args.jobs), *cluster, *extra)


def run_timings(manifest: Path) -> str:
    """The run's stage timings from its manifest (``timings``), in words."""
    timings = json.loads(manifest.read_text(encoding="utf-8")).get("timings", {})
    return ", ".join(f"{k} {v:.1f}" for k, v in timings.items() if isinstance(v, int | float))


def git_commit() -> str:
    """The checkout's commit, with ``+dirty`` when files differ from it."""
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                          check=False)
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                           capture_output=True, text=True, check=False).stdout.strip()
    return head.stdout.strip() + ("+dirty" if dirty else "")


def first_la(measures: Path, period_end: str) -> str:
    """The first LA code with measures for the period (the single-LA rerun)."""
    import pandas as pd  # only this step reads the table

    rows = pd.read_csv(measures, dtype={"la_code": str}, usecols=["la_code", "period_end"])
    return str(min(rows.loc[rows.period_end == period_end, "la_code"].unique()))


def record(figures: dict, path: Path = RESULTS) -> None:
    """Append the figures as a section of RESULTS.md."""
    f = figures
    lines = [
        (f"\n## Monthly run: {f['las']} LAs, scale {f['scale']:g}, {f['notebooks']} notebooks "
         f"({f['date']})\n"),
        "| figure | value |", "|---|---|",
        f"| the run (wall) | **{f['run_s']:.1f} s** ({f['run_s'] / 60:.1f} min) |",
        (f"| floor: trivial notebook x {f['notebooks']} / {f['jobs']} jobs | {f['floor_s']:.1f} s "
         f"({f['floor_each_s']:.2f} s per notebook) |"),
        f"| ratio run / floor | {f['run_s'] / f['floor_s']:.2f} |",
        (f"| peak memory, whole process tree | **{f['peak_pss_gb']:.2f} GB** proportional "
         f"(PSS); {f['peak_gb']:.2f} GB summing resident sizes (shared pages once a process) |"),
        f"| the run's stages (its manifest's `timings`, s) | {f['stages']} |",
        f"| rerun, nothing changed | **{f['rerun_s']:.1f} s** (peak {f['rerun_peak_gb']:.2f} GB) |",
        f"| one LA ({f['one_la']}) after the run (`--la`) | **{f['one_la_s']:.1f} s** |",
        f"| load average before / after | {f['load_before']} / {f['load_after']} |",
        f"| runner | {f['runner']}, --jobs {f['jobs']} |",
        f"| machine | {f['machine']} |", f"| code | `{f['commit']}` |", "",
    ]
    with open(path, "a", encoding="utf-8") as fh:
        fh.write("\n".join(lines))


def main(argv: list[str] | None = None) -> int:
    """Prepare the data, measure the floor, the run, the rerun and one LA; record them."""
    args = parser().parse_args(argv)
    def say(message: str) -> None:
        print(f"bench_monthly: {message}", file=sys.stderr, flush=True)

    data = prepare_data(args, say)
    load_before = " ".join(f"{x:.2f}" for x in os.getloadavg())
    n_nb = 4 * args.las
    floor_each = floor_seconds(args.floor_runs, args.jobs)
    run_s, peak, peak_pss = timed_run(run_command(args, data), say)
    stages = run_timings(data["work"] / "reports" / args.period_end / "manifest.json")
    rerun_s, rerun_peak, _ = timed_run(run_command(args, data), say)
    one = first_la(data["measures"], args.period_end)
    one_s, _, _ = timed_run(run_command(args, data, "--la", one), say)
    figures = {
        "las": args.las, "scale": args.scale, "notebooks": n_nb, "jobs": args.jobs,
        "date": dt.date.today().isoformat(), "run_s": run_s, "floor_each_s": floor_each,
        "floor_s": floor_each * n_nb / args.jobs, "peak_gb": peak, "peak_pss_gb": peak_pss,
        "stages": stages, "rerun_s": rerun_s,
        "rerun_peak_gb": rerun_peak, "one_la": one, "one_la_s": one_s,
        "load_before": load_before, "load_after": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "runner": f"--cluster {args.cluster}" if args.cluster else "default",
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
                   f"{psutil.virtual_memory().total / 2**30:.0f} GiB, Python {platform.python_version()}",
        "commit": git_commit(),
    }
    print(json.dumps(figures, indent=1))
    if not args.no_record:
        record(figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
