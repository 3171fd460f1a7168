"""The run's prepare stage: every report's sections worked out before its notebook runs.

Why. Through papermill a report notebook costs a kernel, a few milliseconds of the
runner per cell, and then its tables, charts and sentences: 3-9 times a trivial notebook
when it works them out itself. Worked out here, in ``--jobs`` worker processes that
import the libraries and read the measures, the published figures and the pooled models
once each (or as jobs on the run's Dask cluster), each notebook only shows them
(``sections.show``). A report whose sections cannot be worked out here is left to its
notebook, which works them out itself and, when the fault is real, fails there, naming
its cell, as before.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from csc_outcomes.reporting import worker_pool
from csc_outcomes.reporting.config import RunResult
from csc_outcomes.reporting.papermill_runs import NotebookJob, declared_parameters
from csc_outcomes.reporting.plan import RunPlan
from csc_outcomes.reporting.sections import prepare, prepared_path
from csc_outcomes.reporting.sections.prepared import sections_of
from csc_outcomes.reporting.sections.report import PARAMETERS
from csc_outcomes.reporting.sections.report import PREPARED as PARAMETER
from csc_outcomes.reporting.workspace import kill_point

Item = tuple[str, dict[str, Any], str]


def prepare_job(item: Item) -> str | None:
    """``sections.prepare(*item)`` here, in a worker process or on a cluster's worker;
    None when done, else the error in words (a failure is the notebook's to report)."""
    try:
        prepare(*item)
    except Exception as exc:  # noqa: BLE001 - named in the run's log; the notebook runs anyway
        return f"{type(exc).__name__}: {exc}"
    return None


def items_for(shared_dir: Path, jobs: Sequence[NotebookJob]) -> list[tuple[NotebookJob, Item]]:
    """Each job whose notebook has a sections module and a ``prepared`` parameter, with
    what its preparation needs: the parameters papermill gives the notebook, and its file
    in ``shared_dir`` (the run's shared folder)."""
    declared: dict[str, set[str]] = {}
    out = []
    for job in jobs:
        name = job.notebook.stem
        if name not in declared:
            has_sections = sections_of(name) is not None
            names = set(declared_parameters(job.notebook, {**job.parameters, PARAMETER: ""}))
            declared[name] = names if has_sections and PARAMETER in names else set()
        if declared[name]:
            parameters = {k: v for k, v in job.parameters.items()
                          if k in declared[name] and k in PARAMETERS}
            out.append((job, (name, parameters, str(prepared_path(shared_dir, job.la_code, name)))))
    # one notebook after another: a worker holds the models of the one in hand
    return sorted(out, key=lambda pair: pair[1][0])


def mapped(plan: RunPlan, items: list[Item]) -> list[str | None]:
    """``prepare_job`` over ``items``: on the run's cluster, else in ``--jobs`` processes."""
    if plan.config.cluster:
        from csc_outcomes.reporting import cluster  # noqa: PLC0415 - Dask: only on a cluster

        return cluster.map_on_cluster(plan.config.cluster, prepare_job, items,
                                      workers=plan.config.jobs)
    done = worker_pool.map_in_processes(
        prepare_job, items, plan.config.jobs,
        progress=worker_pool.every_tenth(plan.log, "report sections worked out"))
    return [d.value if d.error is None else d.error for d in done]


def prepare_sections(plan: RunPlan, result: RunResult,
                     jobs: Sequence[NotebookJob]) -> list[NotebookJob]:
    """``jobs``, each prepared one given its file (``prepared``); see the module docstring."""
    pairs = items_for(plan.shared_dir, jobs) if plan.config.prepare else []
    if not pairs:
        return list(jobs)
    t0 = time.perf_counter()
    plan.log(f"report sections: {len(pairs)} report(s), worked out before their notebooks, "
             f"{plan.config.jobs} at once")
    errors = mapped(plan, [item for _, item in pairs])
    given = {}
    for (job, item), error in zip(pairs, errors, strict=True):
        if error is None:
            given[id(job)] = dataclasses.replace(job, parameters={**job.parameters,
                                                                  PARAMETER: item[2]})
        else:
            plan.log(f"report sections of {job.la_code} {job.notebook.stem} could not be worked "
                     f"out ahead ({error[:300]}): its notebook works them out itself")
    result.timings["prepare_s"] = round(time.perf_counter() - t0, 3)
    kill_point("prepared")
    plan.log(f"report sections: {len(given)} of {len(pairs)} worked out in "
             f"{result.timings['prepare_s']:.1f} s")
    return [given.get(id(job), job) for job in jobs]
