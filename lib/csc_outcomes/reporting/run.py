"""A report run: measures -> notebooks -> render -> leak scan -> publish.

``run(config)`` takes a ``RunConfig`` (built by the ``run``, ``demo`` and ``reproduce``
commands) and calls the stages in order:

0. ``lock.hold``: one run at a time per reports tree (and restricted tree); a second
   run stops at once naming the run in progress (exit 1). A lock left by a killed run
   is taken over, and ``workspace.clear_debris`` removes what that run left;
1. ``plan.prepare``: checks the options, makes sure the measures table holds the period
   (``measures.table.ensure_period`` computes it from the warehouse when missing),
   picks the LAs and notebooks; then ``workspace.prepare_workspace`` makes the run's
   restricted folders (owner-only), ``plan.write_measures`` writes the run's own copy
   of its measures rows and ``workspace.snapshot_inputs`` copies the warehouse into
   the run's own folder: every later stage reads those copies, so an ingest that
   replaces the warehouse mid-run changes nothing the run reads or records. Before
   that, ``incremental.job_keys`` keys each (LA, notebook) by everything its report
   depends on; when every report is done for its key and published as it is
   (``incremental.up_to_date``), the run stops there: "nothing changed" (exit 0);
2. ``stages.write_trackers``: each LA's child-level RAG tracker, into the restricted
   tree only (``restricted/<period>/<la>/rag_tracker.xlsx|.html``, ``tracker_write``);
   then ``stages.fit_pooled_models``: the pooled models the notebooks show, each
   fitted once into the restricted tree's model cache (``pooled``, ``model_cache``),
   or found there from an earlier run;
   then ``stages.execute_notebooks``: each notebook for each LA with papermill (``jobs`` at
   once) into the restricted tree ``restricted/<period>/<la>/<notebook>.ipynb``
   (executed notebooks may hold child-level data and are never published), then
   ``stages.add_subtitles`` names the LA and period in each one's front matter;
3. ``stages.render``: Quarto when on PATH, else the built-in renderer, into a staging
   folder *outside* ``reports/`` (``restricted/<period>/.run-<run>/staging``);
4. ``stages.write_workbooks``: the period's and each LA's Excel workbook, staged
   beside the reports (``workbook``); ``stages.stage_manifest`` and
   ``stages.leak_scan``: the manifest is written beside the staged files and everything staged is scanned for the warehouse's child
   identifiers; a hit fails the run (the staged files go to
   ``restricted/<period>/quarantine-<run>/``);
5. ``stages.publish``: the period's new tree (this run's reports, the earlier ones it
   does not replace, ``manifest.json``) is built beside ``reports/<period>/`` and
   swapped in at once, then ``reports/index.html`` is written.

An LA whose notebook or render fails is set aside: the others are published, the
failure is listed in the manifest and on the index page, and ``RunError`` is raised
after publishing (exit 1). Any other failure raises ``RunError`` with nothing
published; its message names each notebook and LA and says what to look at, and a
manifest of the failed run is kept in ``restricted/<period>/runs/``. Nothing
half-written is ever left looking done, even when the run is killed.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from csc_outcomes import stopping
from csc_outcomes.reporting import incremental, lock, stages, workspace
from csc_outcomes.reporting.config import RunConfig, RunResult
from csc_outcomes.reporting.plan import (
    RunPlan,
    checked_folders,
    new_run_id,
    prepare,
    to_stderr,
    write_measures,
)


def run(config: RunConfig) -> RunResult:
    """Run, render and publish the reports of one period; see the module docstring.

    Returns a ``RunResult`` (``ok`` True). Raises ``RunError`` when anything fails,
    having published nothing, or only the LAs that did not fail.
    """
    run_id = new_run_id()
    log = to_stderr if config.progress else None
    trees = checked_folders(config.reports_dir, config.restricted_dir)
    with lock.hold(trees, run_id, log=log):
        cleared = workspace.clear_debris(*trees)
        if cleared and log:
            log(f"cleared {len(cleared)} thing(s) left by killed runs: "
                + ", ".join(p.name for p in cleared[:10]) + (" ..." if len(cleared) > 10 else ""))
        warehouse_seen = workspace.identity(Path(config.warehouse).resolve())
        plan = prepare(config, run_id)
        jobs = stages.notebook_jobs(plan)
        plan = dataclasses.replace(plan, job_keys=incremental.job_keys(plan, jobs))
        earlier = incremental.up_to_date(plan, jobs)
        if earlier:
            return incremental.unchanged_result(plan, jobs, earlier)
        try:
            workspace.prepare_workspace(plan)
            write_measures(plan)
            plan = workspace.snapshot_inputs(plan, warehouse_seen)
            return run_stages(plan)
        finally:
            workspace.remove_workdir(plan)


def run_stages(plan: RunPlan) -> RunResult:
    """The stages after the plan, in order (see the module docstring)."""
    result = plan.new_result()
    stages.write_trackers(plan, result)
    stages.fit_pooled_models(plan, result)
    executed = stages.execute_notebooks(plan, result)
    titles = stages.add_subtitles(plan, executed)
    executed = stages.render(plan, executed, result)
    with stages.identifiers_in_background(plan) as collecting:
        stages.write_workbooks(plan, executed, result)
        staged = stages.stage_manifest(plan, executed, titles, result)
        stages.leak_scan(plan, result, collecting)
    # a stop whose first raise was dropped (``stopping``; the stages' pools ask as each
    # item comes back): nothing is published for a run told to stop
    stopping.check()
    stages.publish(plan, staged, titles, result)
    return stages.finish(plan, result)
