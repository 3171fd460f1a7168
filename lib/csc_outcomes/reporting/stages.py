"""The stages of a run after ``plan.prepare``, in the order ``run.run`` calls them.

``execute_notebooks`` (papermill, into the restricted tree) -> ``add_subtitles`` ->
``render`` (into a staging folder outside ``reports/``) -> ``stage_manifest`` ->
``leak_scan`` (of everything staged) -> ``publish`` (move into ``reports/``, manifest
last, then the index). Each stage records what it did in the ``RunResult``; a stage
that fails calls ``fail``, which keeps a failed-run manifest in the restricted tree,
clears (or, after a leak, quarantines) the staging folder and raises ``RunError``, so
nothing of a failed run is published.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import nbformat

from csc_outcomes import atomic
from csc_outcomes import warehouse as wh
from csc_outcomes.measures import table
from csc_outcomes.reporting import frontmatter, render_builtin, render_quarto, site
from csc_outcomes.reporting import manifest as mf
from csc_outcomes.reporting.config import RunError, RunResult
from csc_outcomes.reporting.leak_scan import scan_for_leaks
from csc_outcomes.reporting.papermill_runs import (
    NotebookJob,
    NotebookResult,
    format_failures,
    print_progress,
    run_notebooks,
)
from csc_outcomes.reporting.parameters import display_subtitle, load_la_parameters
from csc_outcomes.reporting.plan import RunPlan

#: Warehouse columns that identify a child or a record about one (fed to the leak scan).
IDENTIFIER_COLUMNS = ("CHILD", "LAchildID", "UPN", "FormerUPN", "contact_id")


@dataclass(frozen=True)
class Staged:
    """What waits in the staging folder: the files to publish and the manifest."""

    files: tuple[Path, ...]
    manifest: Mapping[str, Any]
    manifest_path: Path


# ------------------------------------------------------------------ execute
def notebook_jobs(plan: RunPlan) -> list[NotebookJob]:
    """One papermill job per LA and notebook, with the standard parameters."""
    jobs = []
    for la in plan.la_codes:
        out_dir = plan.period_restricted / la
        la_params = plan.la_parameters.get(la, {})
        params = {
            "la_code": la, "period_end": plan.period_end, "warehouse": str(plan.warehouse),
            "measures_path": str(plan.measures_path), "output_dir": str(out_dir),
            "la_name": plan.la_name(la) or la,
            "comparators": list(la_params.get("statistical_neighbours") or []),
            "suppression_threshold": plan.threshold,
            # pooled models fitted once per run, shared by the LAs' notebooks
            "cache_dir": str(plan.shared_dir),
            **plan.config.extra_parameters,
        }
        jobs += [NotebookJob(notebook=nb, la_code=la, period_end=plan.period_end,
                             output_path=out_dir / f"{nb.stem}.ipynb", parameters=dict(params),
                             cwd=out_dir) for nb in plan.notebooks]
    return jobs


def execute_notebooks(plan: RunPlan, result: RunResult) -> list[NotebookResult]:
    """Run every notebook for every LA; fails the run if any notebook fails."""
    jobs = notebook_jobs(plan)
    plan.log(f"run {plan.run_id}: {len(plan.notebooks)} notebook(s) x {len(plan.la_codes)} "
             f"LA(s) for {plan.period_end}, {plan.config.jobs} at once; renderer {plan.renderer}")
    t0 = time.perf_counter()
    try:
        executed = run_notebooks(jobs, max_workers=plan.config.jobs,
                                 kernel_name=plan.config.kernel_name,
                                 progress=print_progress if plan.config.progress else None)
    finally:
        shutil.rmtree(plan.shared_dir, ignore_errors=True)  # child-level: never kept
    result.timings["notebooks_s"] = round(time.perf_counter() - t0, 3)
    result.executed = [r.output_path for r in executed if r.output_path]
    result.runs = [mf.run_record(r, plan.restricted_dir) for r in executed]
    failed = [r for r in executed if not r.ok]
    if failed:
        result.failures = [r.message() for r in failed]
        fail(plan, result, format_failures(failed))
    return executed


def executed_path(r: NotebookResult) -> Path:
    """The executed notebook of a successful run (papermill always writes one)."""
    if r.output_path is None:
        raise RunError(f"{r.job.describe()} reported success but wrote no notebook")
    return r.output_path


def add_subtitles(plan: RunPlan, executed: Sequence[NotebookResult]) -> dict[str, str]:
    """Write each report's subtitle (LA, period) into its front matter; return the titles.

    Both renderers read the front matter, so the subtitle set here is the one shown.
    """
    titles: dict[str, str] = {}
    for r in executed:
        path = executed_path(r)
        nb = nbformat.read(str(path), as_version=4)
        front = frontmatter.read_front_matter(nb)
        titles[r.job.name] = str(front.get("title") or site.pretty_name(r.job.name))
        subtitle = display_subtitle(r.job.la_code, plan.la_name(r.job.la_code), plan.period_end)
        frontmatter.update_front_matter(nb, subtitle=subtitle)
        with atomic.atomic_path(path) as tmp:
            nbformat.write(nb, str(tmp))
    return titles


# ------------------------------------------------------------------ render
def render_one(plan: RunPlan, r: NotebookResult) -> None:
    """Render one executed notebook into ``staging/<la>/`` in every format of the run."""
    target_dir = plan.staging / r.job.la_code
    if plan.renderer == "quarto":
        render_quarto.render(executed_path(r), target_dir, r.job.name, plan.formats)
    else:
        render_builtin.render(executed_path(r), target_dir, r.job.name, plan.formats,
                              index_href="../../index.html")


def render(plan: RunPlan, executed: Sequence[NotebookResult], result: RunResult) -> None:
    """Render every executed notebook (``jobs`` at once); fails the run on any error."""
    t0 = time.perf_counter()
    times: dict[str, float] = {}
    errors: list[str] = []

    def timed(r: NotebookResult) -> None:
        t = time.perf_counter()
        try:
            render_one(plan, r)
        except Exception as exc:  # noqa: BLE001 - any failure fails the run, named below
            errors.append(f"render of {r.job.describe()} failed: {exc}")
        times[f"{r.job.la_code}/{r.job.name}"] = round(time.perf_counter() - t, 3)

    with ThreadPoolExecutor(max_workers=max(1, plan.config.jobs),
                            thread_name_prefix="render") as pool:
        list(pool.map(timed, executed))
    result.timings.update(render_s=round(time.perf_counter() - t0, 3), render_each_s=times)
    if errors:
        result.failures = errors
        fail(plan, result, "\n".join(errors))


# ------------------------------------------------------------------ manifest and leak scan
def run_options(plan: RunPlan) -> dict[str, Any]:
    """The run's options as the manifest records them (``reproduce`` re-runs from these)."""
    c = plan.config
    return {"period_end": plan.period_end, "la_codes": list(plan.la_codes),
            "formats": list(plan.formats), "jobs": c.jobs,
            "notebooks": [p.stem for p in plan.notebooks], "renderer": plan.renderer,
            "kernel_name": c.kernel_name, "warehouse": str(plan.warehouse),
            "measures_path": str(plan.measures_path), "reports_dir": str(plan.reports_dir),
            "restricted_dir": str(plan.restricted_dir),
            "parameters_dir": str(plan.parameters_dir), "notebooks_dir": str(plan.notebooks_dir),
            "extra_parameters": dict(c.extra_parameters)}


def stage_manifest(plan: RunPlan, executed: Sequence[NotebookResult], titles: Mapping[str, str],
                   result: RunResult) -> Staged:
    """Write the run's manifest beside the staged files (it is leak-scanned with them)."""
    files = tuple(sorted(p for p in plan.staging.rglob("*") if p.is_file()))
    parameter_files = [plan.parameters_dir / n
                       for n in ["defaults.yaml", *(f"{la}.yaml" for la in plan.la_codes)]]
    result.timings["total_s"] = round(time.perf_counter() - plan.clock, 3)
    man = mf.build_manifest(
        run_id=plan.run_id, started=plan.started, finished=mf.now_iso(), status="ok",
        period_end=plan.period_end, la_codes=list(plan.la_codes), notebooks=result.notebooks,
        formats=list(plan.formats), renderer=plan.renderer, options=run_options(plan),
        inputs=mf.input_records(plan.warehouse, plan.measures_path, plan.notebooks,
                                parameter_files),
        runs=result.runs, outputs=mf.output_records(plan.staging, plan.period_end, titles),
        restricted_outputs=mf.restricted_output_records(executed, plan.restricted_dir),
        timings=dict(result.timings),
        measures={"path": str(plan.measures_path), "computed_by_run": plan.measures_computed,
                  "sha256": mf.sha256_file(plan.measures_path),
                  "period_rows_sha256": mf.period_rows_hash(table.read(plan.measures_path),
                                                            plan.period_end)})
    path = mf.write_manifest(plan.staging / "manifest.json", man)
    return Staged(files=files, manifest=man, manifest_path=path)


def collect_identifiers(warehouse: str | Path, la_codes: Sequence[str] | None = None) -> set[str]:
    """Every child/record identifier in the warehouse (``IDENTIFIER_COLUMNS``)."""
    tables, _ = wh.read_tables(Path(warehouse), la_codes=list(la_codes) if la_codes else None)
    ids: set[str] = set()
    for df in tables.values():
        for col in IDENTIFIER_COLUMNS:
            if col in df.columns:
                ids.update(str(v).strip() for v in df[col].dropna().unique() if str(v).strip())
    return ids


def leak_scan(plan: RunPlan, result: RunResult) -> None:
    """Scan everything staged for child identifiers and small counts; a hit fails the run."""
    t0 = time.perf_counter()
    ids: set[str] | frozenset[str] | None = plan.config.identifiers
    if ids is None:
        try:
            ids = collect_identifiers(plan.warehouse, plan.la_codes)
        except Exception as exc:  # noqa: BLE001 - a missing, locked or corrupt warehouse
            fail(plan, result, f"could not read child identifiers from {plan.warehouse} for "
                               f"the leak scan ({type(exc).__name__}: {exc}); nothing was published")
    leaks = scan_for_leaks([plan.staging], set(ids))
    result.timings["leak_scan_s"] = round(time.perf_counter() - t0, 3)
    if leaks:
        result.leaks = [str(lk).replace(str(plan.staging) + os.sep, "") for lk in leaks]
        bad_files = {Path(lk.file).relative_to(plan.staging).as_posix() for lk in leaks}
        fail(plan, result,
             f"leak scan: {len(leaks)} suspected disclosure(s) in {len(bad_files)} file(s); "
             "nothing was published.\n" + "\n".join(f"  {x}" for x in result.leaks[:50]),
             quarantine=True)


# ------------------------------------------------------------------ publish
def move_into_place(src: Path, dst: Path) -> None:
    """Move ``src`` onto ``dst`` atomically, even across file systems."""
    with atomic.atomic_path(dst) as tmp:
        shutil.move(str(src), str(tmp))


def index_la_names(plan: RunPlan) -> dict[str, str]:
    """Display names of every LA with published reports (this run's and earlier ones)."""
    names = {la: name for la in plan.la_codes if (name := plan.la_name(la))}
    for la_dir in plan.reports_dir.glob("*/*"):
        if la_dir.is_dir() and la_dir.name not in names:
            name = load_la_parameters(la_dir.name, plan.parameters_dir).get("name")
            if name:
                names[la_dir.name] = str(name)
    return names


def publish(plan: RunPlan, staged: Staged, titles: Mapping[str, str], result: RunResult) -> None:
    """Move the staged files into ``reports/<period>/``, then the manifest, then the index."""
    for p in staged.files:
        dst = plan.period_reports / p.relative_to(plan.staging)
        move_into_place(p, dst)
        result.reports.append(dst)
    timings = {**result.timings, "total_s": round(time.perf_counter() - plan.clock, 3)}
    man = {**staged.manifest, "finished": mf.now_iso(), "timings": timings}
    man["published"] = mf.published_outputs(man, plan.period_reports / "manifest.json",
                                            plan.reports_dir)
    staged.manifest_path.unlink(missing_ok=True)
    mf.write_manifest(plan.period_reports / "runs" / f"{plan.run_id}.json", man)
    result.manifest_path = mf.write_manifest(plan.period_reports / "manifest.json", man)
    shutil.rmtree(plan.staging, ignore_errors=True)  # empty folders only by now
    result.index_path = site.build_index(plan.reports_dir, la_names=index_la_names(plan),
                                         titles=titles)
    result.timings = timings
    result.ok = True
    plan.log(f"published {len(result.reports)} file(s) under {plan.period_reports}; "
             f"index {result.index_path}; {timings['total_s']:.1f}s")


def fail(plan: RunPlan, result: RunResult, message: str, *, quarantine: bool = False) -> NoReturn:
    """Record a failed run in the restricted tree, clear or quarantine the staging, raise."""
    if plan.staging.exists():
        if quarantine:
            target = plan.period_restricted / f"quarantine-{plan.run_id}"
            shutil.move(str(plan.staging), str(target))
            message += f"\nThe files that were to be published are kept in {target} for review."
        else:
            shutil.rmtree(plan.staging, ignore_errors=True)
    man = mf.build_manifest(
        run_id=plan.run_id, started=plan.started, finished=mf.now_iso(), status="failed",
        period_end=plan.period_end, la_codes=result.la_codes, notebooks=result.notebooks,
        formats=result.formats, renderer=result.renderer,
        options={"reports_dir": str(plan.reports_dir)}, inputs=[], runs=result.runs,
        outputs=[], restricted_outputs=[], timings=result.timings,
        failures=result.failures, leaks=result.leaks)
    path = mf.write_manifest(plan.period_restricted / "runs" / f"{plan.run_id}-failed.json", man)
    result.manifest_path = path
    result.ok = False
    raise RunError(message + f"\nFailed-run manifest: {path}", result)
