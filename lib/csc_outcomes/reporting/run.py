"""A report run: measures -> notebooks -> render -> leak scan -> publish.

``run(config)`` takes a ``RunConfig`` (built by the ``run``, ``demo`` and ``reproduce``
commands) and calls the stages in order:

1. ``plan.prepare``: checks the options, makes sure the measures table holds the period
   (``measures.table.ensure_period`` computes it from the warehouse when missing),
   picks the LAs and notebooks, names the run;
2. ``stages.execute_notebooks``: each notebook for each LA with papermill (``jobs`` at
   once) into the restricted tree ``restricted/<period>/<la>/<notebook>.ipynb``
   (executed notebooks may hold child-level data and are never published), then
   ``stages.add_subtitles`` names the LA and period in each one's front matter;
3. ``stages.render``: Quarto when on PATH, else the built-in renderer, into a staging
   folder *outside* ``reports/`` (``restricted/<period>/.staging-<run>``);
4. ``stages.stage_manifest`` and ``stages.leak_scan``: the manifest is written beside
   the staged files and everything staged is scanned for the warehouse's child
   identifiers; a hit fails the run (the staged files go to
   ``restricted/<period>/quarantine-<run>/``);
5. ``stages.publish``: the staged files move into ``reports/<period>/<la>/``, then
   ``reports/<period>/manifest.json``, then ``reports/index.html``.

Any failure raises ``RunError``; its message names each notebook and LA and says what
to look at, and a manifest of the failed run is kept in ``restricted/<period>/runs/``.
A failed run publishes nothing, so nothing half-written is left looking done.
"""

from __future__ import annotations

from csc_outcomes.reporting import stages
from csc_outcomes.reporting.config import RunConfig, RunResult
from csc_outcomes.reporting.plan import prepare


def run(config: RunConfig) -> RunResult:
    """Run, render and publish the reports of one period; see the module docstring.

    Returns a ``RunResult`` (``ok`` True). Raises ``RunError`` when anything fails,
    having published nothing.
    """
    plan = prepare(config)
    result = plan.new_result()
    executed = stages.execute_notebooks(plan, result)
    titles = stages.add_subtitles(plan, executed)
    stages.render(plan, executed, result)
    staged = stages.stage_manifest(plan, executed, titles, result)
    stages.leak_scan(plan, result)
    stages.publish(plan, staged, titles, result)
    return result
