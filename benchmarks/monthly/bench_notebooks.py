"""Benchmark: what one report notebook costs against the floor of a trivial notebook.

Issue 9: "a notebook costs at most 2x the floor of a trivial notebook through the same
runner (measure both in one benchmark run)". Both go through the kit's own runner,
``reporting.papermill_runs.run_notebooks`` (a kernel started per notebook, papermill,
the executed notebook moved into place), with the parameters a report run passes.

    .nox/tests/bin/python benchmarks/monthly/bench_notebooks.py --label after
    .nox/tests/bin/python benchmarks/monthly/bench_notebooks.py --las 1 --no-record

Steps. (1) A demo data set (synthetic LAs, warehouse, measures for one period end) in
``--data``, built once and reused. (2) A warm-up: each report notebook once for the
first LA, which reads DfE's published figures and fits the pooled models into the
run's shared folder as a report run does before its notebooks (timed, reported apart,
not in the means). (3) Each report's sections worked out ahead, as a run's prepare stage
does (``reporting.prepare_stage``), here one after another (timed, reported apart: the
first of each notebook reads the shared inputs). (4) In one run of the runner, LA by LA,
each report notebook given its prepared file: the floor notebook (a parameters cell and
one trivial cell), then each report notebook, one at a time (``--jobs``); then the
floor again with each kernel started from scratch (the floor as issue 9 measured it,
before the runner forked its kernels warm: context, not the target).
(5) The mean wall time of each, its ratio to the floor, the slowest cells (papermill's
per-cell durations) and the machine's load average before and after, appended to
``RESULTS.md`` beside this file (unless ``--no-record``).

Another version of the kit (before a change, say) is measured by putting its ``lib/``
first on ``PYTHONPATH`` (``git archive <commit> lib notebooks parameters published
data_contracts | tar -x -C DIR``, then ``PYTHONPATH=DIR/lib``): the runner, the kernels
and the notebooks (``paths.notebooks_dir``) are then that version's.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
RESULTS = HERE / "RESULTS.md"
NOTEBOOKS = ("cohort_outcomes", "placement_stability", "proportionality", "rereferrals")
PERIOD_END = "2026-03-31"
FLOOR = {
    "cells": [
        {"cell_type": "code", "execution_count": None, "id": "params",
         "metadata": {"tags": ["parameters"]}, "outputs": [],
         "source": 'la_code = "SYN01"\nperiod_end = "2026-03-31"'},
        {"cell_type": "code", "execution_count": None, "id": "work", "metadata": {},
         "outputs": [], "source": "print(la_code, period_end)"},
    ],
    "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python",
                                "name": "python3"}},
    "nbformat": 4, "nbformat_minor": 5,
}


def build_data(data: Path, las: int, seed: int) -> None:
    """Synthetic LAs -> warehouse -> measures for ``PERIOD_END``, unless already there."""
    import pandas as pd

    from csc_outcomes import calendar, synth
    from csc_outcomes.measures import table
    from csc_outcomes.measures.compute import compute_measures
    from csc_outcomes.measures.inputs import MeasureInputs
    from csc_outcomes.warehouse import ingest_into

    if (data / "measures.csv").is_file():
        return
    print(f"building the demo data set ({las} LAs) in {data}", file=sys.stderr)
    end = pd.Timestamp(PERIOD_END)
    synth.generate(data / "synthetic", n_las=las, seed=seed, scale=synth.DEMO_SCALE,
                   last_year=calendar.collection_year(end), progress=False)
    if ingest_into(data / "synthetic", data / "warehouse.duckdb").exit_code != 0:
        raise SystemExit("bench_notebooks: the demo data set did not ingest cleanly")
    measures = compute_measures(MeasureInputs.from_warehouse(data / "warehouse.duckdb",
                                                             measures_only=True), [end])
    table.write(measures, data / "measures.csv")


def jobs_for(notebook: Path, la_codes: list[str], data: Path, work: Path) -> list[Any]:
    """One ``NotebookJob`` per LA, with the standard parameters of a report run."""
    from csc_outcomes import paths
    from csc_outcomes.reporting import model_cache, pooled
    from csc_outcomes.reporting.data_quality import qa_report_path
    from csc_outcomes.reporting.papermill_runs import NotebookJob

    # the models in the data set's own cache, under the keys a run passes its notebooks
    cache = model_cache.cache_root(data / "restricted")
    keys = {m: pooled.model_key(m, data / "warehouse.duckdb", PERIOD_END, cache)
            for m in pooled.NOTEBOOK_MODELS.get(notebook.stem, ())}
    jobs = []
    for la in la_codes:
        out = work / "restricted" / la
        params = {"la_code": la, "period_end": PERIOD_END,
                  "warehouse": str(data / "warehouse.duckdb"),
                  "measures_path": str(data / "measures.csv"), "output_dir": str(out),
                  "la_name": la, "comparators": [], "like": "", "suppression_threshold": 5,
                  "parameters_dir": str(paths.parameters_dir()),
                  "qa_report": str(qa_report_path(data / "warehouse.duckdb")),
                  "cache_dir": str(work / "shared"),
                  **pooled.notebook_parameters(str(notebook), data / "restricted", keys)}
        jobs.append(NotebookJob(notebook=notebook, la_code=la, period_end=PERIOD_END,
                                output_path=out / f"{notebook.stem}.ipynb", parameters=params,
                                cwd=out))
    return jobs


def prepare_sections(notebooks: list[Path], la_codes: list[str], data: Path,
                     work: Path) -> tuple[dict[str, list[float]], dict[tuple[str, str], Any]]:
    """Each report's sections worked out ahead, one after another in this process, as a
    run's prepare stage does in its workers (``prepare_stage``): the seconds each took
    (after the first of each notebook, which read the shared inputs), and each job given
    its file (``prepared``)."""
    from csc_outcomes.reporting.prepare_stage import PARAMETER, items_for, prepare_job

    seconds: dict[str, list[float]] = {}
    given = {}
    for nb in notebooks:
        for job, item in items_for(work / "shared", jobs_for(nb, la_codes, data, work)):
            t0 = time.perf_counter()
            if (error := prepare_job(item)) is not None:
                raise SystemExit(f"bench_notebooks: {nb.stem} {job.la_code}: {error}")
            seconds.setdefault(nb.stem, []).append(time.perf_counter() - t0)
            given[(nb.stem, job.la_code)] = dataclasses.replace(
                job, parameters={**job.parameters, PARAMETER: item[2]})
    return seconds, given


def run(jobs: list[Any], workers: int, *, warm: bool = True) -> list[Any]:
    """Run ``jobs`` through the kit's runner (``warm``: kernels forked from its server, as
    a run does; ``False``: each started from scratch, ``run --fresh-kernels``); stop on the
    first failure (a broken notebook's time is not its cost)."""
    from csc_outcomes.reporting.papermill_runs import raise_for_failures, run_notebooks

    results = run_notebooks(jobs, max_workers=workers, progress=None, warm=warm)
    raise_for_failures(results)
    return results


def cell_seconds(results: list[Any]) -> dict[int, float]:
    """Mean seconds of each code cell over the executed notebooks (papermill's record)."""
    import nbformat

    per_cell: dict[int, list[float]] = {}
    for r in results:
        for i, cell in enumerate(nbformat.read(str(r.output_path), as_version=4).cells):
            took = cell.get("metadata", {}).get("papermill", {}).get("duration")
            if cell.cell_type == "code" and took is not None:
                per_cell.setdefault(i, []).append(float(took))
    return {i: statistics.mean(v) for i, v in per_cell.items()}


def measure(data: Path, las: int, workers: int, names: list[str]) -> dict[str, Any]:
    """Warm up, then time the floor and each notebook over ``las`` LAs."""
    import pandas as pd

    from csc_outcomes.paths import notebooks_dir

    la_codes = sorted(pd.read_csv(data / "measures.csv", usecols=["la_code"])["la_code"]
                      .astype(str).unique())[:las]
    with tempfile.TemporaryDirectory(prefix="bench-notebooks-") as tmp:
        work = Path(tmp)
        floor_nb = work / "floor.ipynb"
        floor_nb.write_text(json.dumps(FLOOR), encoding="utf-8")
        report_nbs = [notebooks_dir() / f"{n}.ipynb" for n in names]
        warm = {nb.stem: run(jobs_for(nb, la_codes[:1], data, work), 1)[0].seconds
                for nb in report_nbs}
        out: dict[str, Any] = {"warm_up": warm, "la_codes": la_codes, "load_before": os.getloadavg()}
        out["prepare"], prepared = prepare_sections(report_nbs, la_codes, data, work)
        # one run of the runner, LA by LA, the floor first each time: the floor and the
        # reports share one fork server and the same moments of a machine whose speed
        # drifts (a shared VM's: 30% between minutes), rather than a block each
        groups = [("floor", floor_nb, work / "floor"), *((nb.stem, nb, work) for nb in report_nbs)]
        jobs = [(name, prepared.get((name, la), job)) for la in la_codes
                for name, nb, where in groups for job in jobs_for(nb, [la], data, where)]
        results = run([job for _, job in jobs], workers)
        out["floor"] = [r.seconds for (name, _), r in zip(jobs, results, strict=True) if name == "floor"]
        out["notebooks"] = {}
        for nb in report_nbs:
            mine = [r for (name, _), r in zip(jobs, results, strict=True) if name == nb.stem]
            out["notebooks"][nb.stem] = {"seconds": [r.seconds for r in mine],
                                         "cells": cell_seconds(mine)}
        # context: the floor as the issue measured it, before kernels were forked warm
        out["floor_scratch"] = [r.seconds for r in run(jobs_for(floor_nb, la_codes, data,
                                                               work / "floor-scratch"),
                                                      workers, warm=False)]
        out["load_after"] = os.getloadavg()
    return out


def git_commit() -> str:
    """The checkout's commit, marked when the tree has changes."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout.strip()
    return git("rev-parse", "--short", "HEAD") + (" (with changes)" if git("status", "--porcelain") else "")


def machine() -> str:
    """CPUs, memory and Python, in words."""
    mem = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.is_file():
        kb = int(meminfo.read_text().split("MemTotal:")[1].split()[0])
        mem = f", {kb / 1024**2:.0f} GB"
    return f"{platform.machine()}, {os.cpu_count()} CPUs{mem}, Python {platform.python_version()}"


def ahead(seconds: list[float] | None) -> str:
    """A report's seconds worked out ahead: the first (shared inputs read), the others' mean."""
    if not seconds:
        return "-"
    rest = f"; {statistics.mean(seconds[1:]):.2f}" if len(seconds) > 1 else ""
    return f"{seconds[0]:.2f}{rest}"


def report(figures: dict[str, Any], label: str, workers: int) -> str:
    """The run's figures as a Markdown section."""
    floor = statistics.mean(figures["floor"])
    scratch = statistics.mean(figures["floor_scratch"])
    lb, la = figures["load_before"], figures["load_after"]
    lines = [f"\n### {label}: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, commit {git_commit()}\n",
             (f"{machine()}; {len(figures['la_codes'])} LAs, {workers} notebook(s) at a time; "
              f"load average (1, 5, 15 min) before {lb[0]:.2f}, {lb[1]:.2f}, {lb[2]:.2f}, "
              f"after {la[0]:.2f}, {la[1]:.2f}, {la[2]:.2f}.\n"),
             ("| notebook | mean s | min s | max s | ratio to floor | ratio to the floor from scratch "
              "| warm-up s | worked out ahead, s (first; mean of the others) "
              "| slowest cells (index: s) |"),
             "|---|---|---|---|---|---|---|---|---|",
             (f"| floor (trivial) | {floor:.2f} | {min(figures['floor']):.2f} | "
              f"{max(figures['floor']):.2f} | 1.00 | {floor / scratch:.2f} | - | - | - |"),
             (f"| floor, kernel started from scratch (`--fresh-kernels`) | {scratch:.2f} | "
              f"{min(figures['floor_scratch']):.2f} | {max(figures['floor_scratch']):.2f} | "
              f"{scratch / floor:.2f} | 1.00 | - | - | - |")]
    for name, nb in figures["notebooks"].items():
        secs = nb["seconds"]
        slow = sorted(nb["cells"].items(), key=lambda kv: -kv[1])[:3]
        lines.append(f"| {name} | {statistics.mean(secs):.2f} | {min(secs):.2f} | {max(secs):.2f} | "
                     f"{statistics.mean(secs) / floor:.2f} | {statistics.mean(secs) / scratch:.2f} | "
                     f"{figures['warm_up'][name]:.1f} | {ahead(figures['prepare'].get(name))} | "
                     + ", ".join(f"{i}: {s:.2f}" for i, s in slow) + " |")
    return "\n".join(lines) + "\n"


HEADING = "## Notebook cost against the floor (`bench_notebooks.py`)"
INTRO = """
Issue 9: a report notebook must cost at most 2x the floor, a trivial notebook run
through the same runner (`reporting.papermill_runs.run_notebooks`), both measured in one
benchmark run. Each section below is one run of `bench_notebooks.py`: wall time per
notebook (kernel start, every cell, the executed notebook written), one notebook at a
time, after a warm-up that read the published figures and fitted the pooled models
into the run's shared folder; the slowest cells are papermill's per-cell durations,
indexed among all cells of the executed notebook (papermill's injected parameters
included: cell 3 is the first cell after them, the imports and the measures' load).
"""


def record(section: str) -> None:
    """Put ``section`` at the end of this benchmark's part of RESULTS.md (the file is
    shared with the other monthly-run benchmarks; its part is made when missing)."""
    from csc_outcomes import atomic

    text = RESULTS.read_text(encoding="utf-8") if RESULTS.is_file() else "# Monthly run benchmarks\n"
    if HEADING not in text:
        text = text.rstrip("\n") + "\n\n" + HEADING + "\n" + INTRO
    start = text.index(HEADING)
    end = text.find("\n## ", start + len(HEADING))
    end = len(text) if end < 0 else end
    atomic.write_text(RESULTS, text[:end].rstrip("\n") + "\n" + section + text[end:])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "bench-notebooks-data",
                    help="demo data set folder, built there when it has no measures.csv "
                         "(default: %(default)s)")
    ap.add_argument("--build-las", type=int, default=3, help="LAs in a data set built here (default 3)")
    ap.add_argument("--seed", type=int, default=1, help="seed of a data set built here (default 1)")
    ap.add_argument("--las", type=int, default=3, help="LAs each notebook runs for (default 3)")
    ap.add_argument("--jobs", type=int, default=1,
                    help="notebooks at a time (default 1: each time is one notebook's alone)")
    ap.add_argument("--notebook", action="append", choices=NOTEBOOKS,
                    help="a report notebook to time (repeatable; default all four)")
    ap.add_argument("--label", default="run", help="the section's title in RESULTS.md, e.g. before/after")
    ap.add_argument("--no-record", action="store_true", help="print the figures only")
    a = ap.parse_args(argv)
    if a.las < 1 or a.jobs < 1:
        ap.error("--las and --jobs must be at least 1")
    build_data(a.data, a.build_las, a.seed)
    started = time.perf_counter()
    section = report(measure(a.data.resolve(), a.las, a.jobs, a.notebook or list(NOTEBOOKS)),
                     a.label, a.jobs)
    print(section + f"\n(benchmark took {time.perf_counter() - started:.0f} s)")
    if not a.no_record:
        record(section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
