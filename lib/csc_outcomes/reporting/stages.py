"""The stages of a run after ``plan.prepare``, in the order ``run.run`` calls them.

``write_trackers`` (the RAG trackers, restricted only) -> ``execute_notebooks``
(papermill, into the restricted tree) -> ``add_subtitles`` ->
``render`` (into a staging folder outside ``reports/``) -> ``write_workbooks`` (the
Excel workbooks, staged beside the reports) -> ``stage_manifest`` ->
``leak_scan`` (of everything staged) -> ``publish`` (the period's new tree swapped in
at once, manifest included, then the index) -> ``finish``. Each stage records what it
did in the ``RunResult``.

An LA whose notebook or render fails is set aside (``set_aside``): the other LAs are
published, the failure is listed in the manifest and on the index page, and ``finish``
raises ``RunError`` (exit 1). Any other failure (every LA failed, a leak-scan hit)
calls ``fail``, which keeps a failed-run manifest in the restricted tree, clears (or,
after a leak, quarantines) the staging folder and raises ``RunError``: nothing of that
run is published.
"""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import time
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import nbformat

from csc_outcomes import atomic, stopping
from csc_outcomes.reporting import (
    banner,
    data_quality,
    frontmatter,
    incremental,
    model_cache,
    pooled,
    practice_context,
    render_builtin,
    render_quarto,
    site,
    workbook,
    worker_pool,
)
from csc_outcomes.reporting import manifest as mf
from csc_outcomes.reporting import publish as pub
from csc_outcomes.reporting.config import RunError, RunResult
from csc_outcomes.reporting.identifiers import (
    IdentifierSet,
    identifiers_from_warehouse,
    report_dates,
)
from csc_outcomes.reporting.leak_scan import notebook_table_leaks, scan
from csc_outcomes.reporting.papermill_runs import (
    NotebookJob,
    NotebookResult,
    format_failures,
    print_progress,
    run_notebooks,
)
from csc_outcomes.reporting.parameters import display_subtitle, load_la_parameters
from csc_outcomes.reporting.plan import RunPlan
from csc_outcomes.reporting.prepare_stage import prepare_sections
from csc_outcomes.reporting.tracker_rating import ThresholdError, thresholds_for
from csc_outcomes.reporting.tracker_write import write_tracker
from csc_outcomes.reporting.workspace import kill_point


@dataclass(frozen=True)
class Staged:
    """What waits in the staging folder: the files to publish and the manifest."""

    files: tuple[Path, ...]
    manifest: Mapping[str, Any]
    manifest_path: Path


# ------------------------------------------------------------------ trackers
def tracker_job(job: tuple[str, str, str, str, Mapping[str, Any]]) -> list[Path]:
    """``write_tracker(*job)``: one LA's tracker, here or in a worker process."""
    return write_tracker(*job)


def write_trackers(plan: RunPlan, result: RunResult) -> None:
    """Each LA's child-level RAG tracker, into ``restricted/<period>/<la>/`` (``0600``).

    Run before the notebooks, inside the run's lock: the tracker's counts
    (``tracker_summary``) are what cohort_outcomes publishes, suppressed. The rows
    never pass through a notebook or the staging folder, so nothing of them can be
    published. An LA whose tracker fails is set aside, as for a failed notebook.
    """
    t0 = time.perf_counter()
    limits = {}
    for la in plan.la_codes:
        try:
            limits[la] = thresholds_for(plan.defaults.get("rag"),
                                        plan.la_parameters.get(la, {}).get("rag"))
        except ThresholdError as exc:
            raise RunError(f"{plan.parameters_dir / (la + '.yaml')}: {exc}", exit_code=2) from exc
    todo = [la for la in plan.la_codes if not incremental.reuse_tracker(plan, la)]
    if todo:
        plan.log(f"RAG trackers: {len(todo)} LA(s), {plan.config.jobs} at once"
                 + (f" ({len(plan.la_codes) - len(todo)} kept from an earlier run)"
                    if len(todo) < len(plan.la_codes) else ""))
    jobs = [(str(plan.warehouse), la, plan.period_end, str(plan.period_restricted / la), limits[la])
            for la in todo]
    failures = []
    for done in worker_pool.map_in_processes(
            tracker_job, jobs, plan.config.jobs,
            progress=worker_pool.every_tenth(plan.log, "RAG trackers written")):
        la = done.item[1]
        if done.error is None:
            incremental.keep_tracker(plan, la, done.value or [])
        else:
            failures.append({"la_code": la, "notebook": "rag_tracker", "stage": "tracker",
                             "cell": None, "error": done.error[:300]})
    result.timings["trackers_s"] = round(time.perf_counter() - t0, 3)
    if failures:
        messages = [f"RAG tracker of {f['la_code']} failed: {f['error']}" for f in failures]
        result.failures += messages
        set_aside(plan, result, failures, "\n".join(messages))


# ------------------------------------------------------------------ pooled models
def fit_pooled_models(plan: RunPlan, result: RunResult) -> None:
    """Fit the pooled models the run's notebooks show, before they start (``pooled``).

    Each is fitted once, from the columns it reads of the run's copy of the warehouse,
    into the model cache of the restricted tree (``model_cache``: reused by later runs
    until its inputs, specification or code change); the notebooks then only read it.
    With ``--cluster`` the fits run on the Dask cluster. A model that cannot be built
    fails the run: every notebook showing it would fail.
    """
    t0 = time.perf_counter()
    names = pooled.models_for(p.stem for p in plan.notebooks)
    mapper = models_mapper(plan, names)
    try:
        fitted = pooled.fit_models(names, plan.warehouse, plan.period_end,
                                   model_cache.cache_root(plan.restricted_dir),
                                   log=plan.log, mapper=mapper, refresh=plan.config.force)
    except model_cache.UntrustedEntry as exc:  # a permissions problem, not a fit
        fail(plan, result, f"{exc}; nothing was published")
    except Exception as exc:  # noqa: BLE001 - any failure: nothing is published, named here
        fail(plan, result, f"the pooled models could not be fitted ({type(exc).__name__}: "
                           f"{exc}); nothing was published. 'run --force' fits them again; "
                           f"'csc-outcomes cache clear --restricted-dir {plan.restricted_dir}' "
                           "removes what is cached")
    result.models = {f.name: f.key for f in fitted}
    drop_superseded(plan, fitted)
    result.timings.update(pooled_models_s=round(time.perf_counter() - t0, 3),
                          pooled_each_s={f.name: f.seconds for f in fitted})


def drop_superseded(plan: RunPlan, fitted: Sequence[pooled.Fitted]) -> None:
    """Describe each entry the run uses, and remove the entries it supersedes: the same
    model, period and warehouse file, fitted on an earlier version of the warehouse
    (``model_cache.supersede``): child-level frames no run will ask for again."""
    for f in fitted:
        what = pooled.model(f.name).what
        gone = model_cache.supersede(model_cache.cache_root(plan.restricted_dir), f.key, {
            "model": f.name, "what": what, "period_end": plan.period_end,
            "warehouse": str(Path(plan.config.warehouse).resolve())})
        if gone:
            plan.log(f"{what}: removed {len(gone)} superseded cache "
                     f"entr{'y' if len(gone) == 1 else 'ies'} ({', '.join(k[:12] for k in gone)})")


#: Fewest LAs for which a run fits its pooled models side by side, in processes of their
#: own: a national run's three fits took 86 s one after the other and 45-65 s side by
#: side (peak memory 7 GB), but starting a process costs more than a few LAs' fits.
PARALLEL_FITS_FROM = 20


def models_mapper(plan: RunPlan, names: Sequence[str]) -> Any:
    """How ``pooled.fit_models`` maps its fits: on the run's cluster (``--cluster``), in
    up to two processes (a run of :data:`PARALLEL_FITS_FROM` LAs or more, with ``--jobs``
    above 1: the fits are long and each uses a core, its BLAS held to one thread:
    ``worker_pool.one_blas_thread``), or None (one after the other here)."""
    address, workers = plan.config.cluster, min(2, plan.config.jobs, len(names))
    if address and names:
        # Dask takes ~2 s to load: only for a run on a cluster
        from csc_outcomes.reporting import cluster  # noqa: PLC0415

        def on_cluster(fn: Any, items: list[str], **kwargs: Any) -> list[pooled.Fitted]:
            return cluster.map_on_cluster(address, fn, items, workers=plan.config.jobs, **kwargs)
        return on_cluster
    if workers < 2 or len(plan.la_codes) < PARALLEL_FITS_FROM:
        return None

    def in_processes(fn: Any, items: list[str], **kwargs: Any) -> list[pooled.Fitted]:
        done = worker_pool.map_in_processes(
            functools.partial(worker_pool.one_blas_thread, fn, **kwargs), items, workers,
            inline_per_worker=0)
        failed = [f"{d.item}: {d.error}" for d in done if d.error]
        if failed:
            raise RuntimeError("; ".join(failed))
        return [d.value for d in done if d.value is not None]
    return in_processes


# ------------------------------------------------------------------ execute
def notebook_jobs(plan: RunPlan, models: Mapping[str, str] | None = None) -> list[NotebookJob]:
    """One papermill job per LA and notebook, with the standard parameters; ``models``,
    the pooled models' cache keys once ``fit_pooled_models`` has them."""
    jobs = []
    for la in plan.la_codes:
        out_dir = plan.period_restricted / la
        la_params = plan.la_parameters.get(la, {})
        params = {
            "la_code": la, "period_end": plan.period_end, "warehouse": str(plan.warehouse),
            "measures_path": str(plan.measures_path), "output_dir": str(out_dir),
            "la_name": plan.la_name(la) or la,
            "comparators": list(la_params.get("statistical_neighbours") or []),
            "like": la_params.get("like") or "",  # the real LA a synthetic one stands in for
            "suppression_threshold": plan.threshold,
            # practitioners' context (context/<LA>/<period>.md) and the ingest's QA report
            "parameters_dir": str(plan.parameters_dir),
            "qa_report": str(data_quality.qa_report_path(Path(plan.config.warehouse).resolve())),
            # published figures read once per run, shared by the LAs' notebooks
            "cache_dir": str(plan.shared_dir),
            **plan.config.extra_parameters,
        }
        jobs += [NotebookJob(notebook=nb, la_code=la, period_end=plan.period_end,
                             output_path=out_dir / f"{nb.stem}.ipynb",
                             parameters={**params, **pooled.notebook_parameters(
                                 nb.stem, plan.restricted_dir, models)},
                             cwd=out_dir) for nb in plan.notebooks]
    return jobs


def execute_notebooks(plan: RunPlan, result: RunResult) -> list[NotebookResult]:
    """Run every notebook for every LA; return the runs of the LAs still to publish.

    An LA whose notebook fails is set aside (``set_aside``): the others go on.
    """
    jobs = notebook_jobs(plan, result.models)
    to_run, keys = incremental.plan_reuse(plan, jobs, result)
    plan.log(f"run {plan.run_id}: {len(plan.notebooks)} notebook(s) x {len(plan.la_codes)} "
             f"LA(s) for {plan.period_end}, {plan.config.jobs} at once; renderer {plan.renderer}"
             + (f"; on the Dask cluster {plan.config.cluster}" if plan.config.cluster else ""))
    t0 = time.perf_counter()
    try:
        to_run = prepare_sections(plan, result, to_run)
        ran = run_notebooks(to_run, max_workers=plan.config.jobs,
                                 kernel_name=plan.config.kernel_name,
                                 progress=incremental.keeper(
                                     plan, keys, print_progress if plan.config.progress else None),
                                 cluster=plan.config.cluster,
                                 warm=plan.config.warm_kernels)
    finally:
        shutil.rmtree(plan.shared_dir, ignore_errors=True)  # child-level: never kept
    executed = incremental.with_reused(plan, jobs, ran)
    result.timings["notebooks_s"] = round(time.perf_counter() - t0, 3)
    result.executed = [r.output_path for r in executed if r.output_path]
    result.runs = [mf.run_record(r, plan.restricted_dir) for r in executed]
    incremental.note_runs(result, keys)
    failed = [r for r in executed if not r.ok]
    if failed:
        result.failures = [r.message() for r in failed]
        set_aside(plan, result, [failure_record(r.job, "notebook", r.error, r.error_cell_index)
                                 for r in failed], format_failures(failed))
    return still_publishing(result, executed)


def failure_record(job: NotebookJob, stage: str, error: str | None,
                   cell: int | None = None) -> dict[str, Any]:
    """One report not published, as the manifest and the index page list it.

    Only the error's first line is kept (the cell's source and the traceback stay in
    the executed notebook, in the restricted tree); it is leak-scanned with the rest.
    """
    first = (error or "unknown error").strip().splitlines()[0][:300]
    return {"la_code": job.la_code, "notebook": job.name, "stage": stage, "cell": cell,
            "error": first}


def still_publishing(result: RunResult, results: Sequence[NotebookResult]) -> list[NotebookResult]:
    """The runs of the LAs not set aside."""
    bad = {f["la_code"] for f in result.failed}
    return [r for r in results if r.job.la_code not in bad]


def set_aside(plan: RunPlan, result: RunResult, failures: Sequence[dict[str, Any]],
              message: str) -> None:
    """Set aside the LAs of ``failures``; fail the run when no LA is left to publish.

    An LA's reports are published together or not at all: its staged files go, and
    what was published for it before stays (``publish``). The run ends with exit 1.
    """
    result.failed += list(failures)
    bad = sorted({f["la_code"] for f in result.failed})
    if set(plan.la_codes) <= set(bad):
        fail(plan, result, message)
    for la in bad:
        shutil.rmtree(plan.staging / la, ignore_errors=True)
    plan.log(f"{message}\nnot published for {', '.join(bad)}; the other LAs go on")


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
        if plan.incomplete:
            banner.add_banner(nb, plan.incomplete)
        with atomic.atomic_path(path, mode=0o600) as tmp:
            nbformat.write(nb, str(tmp))
    return titles


# ------------------------------------------------------------------ render
def render_job(plan: RunPlan, r: NotebookResult) -> tuple[str, str, str, str, tuple[str, ...]]:
    """What ``render_one`` needs to render ``r`` (plain values, for a worker process)."""
    return (plan.renderer, str(executed_path(r)), str(plan.staging / r.job.la_code), r.job.name,
            tuple(plan.formats))


def render_one(job: tuple[str, str, str, str, tuple[str, ...]]) -> None:
    """Render one executed notebook into ``staging/<la>/`` in every format of the run
    (``render_job``'s values)."""
    renderer, executed, target_dir, name, formats = job
    engine = render_quarto if renderer == "quarto" else render_builtin
    engine.render(Path(executed), Path(target_dir), name, formats, index_href="../../index.html")


def render(plan: RunPlan, executed: Sequence[NotebookResult],
           result: RunResult) -> list[NotebookResult]:
    """Render every executed notebook (``jobs`` at once); return those of the LAs left.

    An LA with a report that fails to render is set aside, as for a failed notebook.
    """
    t0 = time.perf_counter()
    times: dict[str, float] = {}
    errors: list[tuple[NotebookResult, str]] = []
    todo = incremental.to_render(plan, executed, result)
    if todo:
        plan.log(f"rendering {len(todo)} report(s) ({', '.join(plan.formats)}), "
                 f"{plan.config.jobs} at once")
    outcomes = worker_pool.map_in_processes(
        render_one, [render_job(plan, r) for r in todo], plan.config.jobs,
        progress=worker_pool.every_tenth(plan.log, "reports rendered"))
    for r, done in zip(todo, outcomes, strict=True):
        times[f"{r.job.la_code}/{r.job.name}"] = round(done.seconds, 3)
        if done.error is None:
            incremental.keep_rendered(plan, r.job, result)
        else:
            errors.append((r, done.error))
    result.timings.update(render_s=round(time.perf_counter() - t0, 3), render_each_s=times)
    kill_point("render")
    if errors:
        messages = [f"render of {r.job.describe()} failed: {err}" for r, err in errors]
        result.failures += messages
        set_aside(plan, result, [failure_record(r.job, "render", err) for r, err in errors],
                  "\n".join(messages))
    return still_publishing(result, executed)


# ------------------------------------------------------------------ workbooks
def write_workbooks(plan: RunPlan, executed: Sequence[NotebookResult], result: RunResult) -> None:
    """The period's and each LA's Excel workbook, into the staging folder (``workbook``):
    before the manifest (which lists them) and the leak scan (which reads them). A
    failure fails the run: the reports and their workbooks are published together."""
    t0 = time.perf_counter()
    try:
        workbook.stage_workbooks(plan, sorted({r.job.la_code for r in executed}))
    except Exception as exc:  # noqa: BLE001 - any failure: nothing is published, named here
        fail(plan, result, f"the Excel workbooks could not be written ({type(exc).__name__}: "
                           f"{exc}); nothing was published")
    result.timings["workbooks_s"] = round(time.perf_counter() - t0, 3)


# ------------------------------------------------------------------ manifest and leak scan
def run_options(plan: RunPlan) -> dict[str, Any]:
    """The run's options as the manifest records them (``reproduce`` re-runs from these)."""
    c = plan.config
    return {"period_end": plan.period_end, "la_codes": list(plan.la_codes),
            "formats": list(plan.formats), "jobs": c.jobs,
            "notebooks": [p.stem for p in plan.notebooks], "renderer": plan.renderer,
            # the inputs as given: plan.warehouse is the run's copy (workspace.snapshot_inputs)
            "kernel_name": c.kernel_name, "warehouse": str(Path(c.warehouse).resolve()),
            "measures_path": str(Path(c.measures_path).resolve()),
            "reports_dir": str(plan.reports_dir),
            "restricted_dir": str(plan.restricted_dir),
            "parameters_dir": str(plan.parameters_dir), "notebooks_dir": str(plan.notebooks_dir),
            "extra_parameters": dict(c.extra_parameters),
            "allow_incomplete": c.allow_incomplete,
            "runner": f"dask {c.cluster}" if c.cluster else "threads"}


def stage_manifest(plan: RunPlan, executed: Sequence[NotebookResult], titles: Mapping[str, str],
                   result: RunResult) -> Staged:
    """Write the run's manifest beside the staged files (it is leak-scanned with them).

    ``plan.warehouse`` is the run's copy of the warehouse (``workspace.snapshot_inputs``,
    checked to be the file ``plan.inputs`` describes); ``plan.config`` holds where it
    came from. A partial run (LAs set aside) has status ``partial`` and lists them under
    ``failed``.
    """
    files = tuple(sorted(p for p in plan.staging.rglob("*") if p.is_file()))
    parameter_files = [plan.parameters_dir / n
                       for n in ["defaults.yaml", *(f"{la}.yaml" for la in plan.la_codes)]]
    parameter_files += practice_context.context_files(plan.parameters_dir, plan.la_codes,
                                                      plan.period_end)
    result.timings["total_s"] = round(time.perf_counter() - plan.clock, 3)
    man = mf.build_manifest(
        run_id=plan.run_id, started=plan.started, finished=mf.now_iso(),
        status="partial" if result.failed else "ok",
        period_end=plan.period_end, la_codes=list(plan.la_codes), notebooks=result.notebooks,
        formats=list(plan.formats), renderer=plan.renderer, options=run_options(plan),
        inputs=mf.input_records(plan.inputs, plan.notebooks, parameter_files, plan.project),
        runs=result.runs, outputs=mf.output_records(plan.staging, plan.period_end, titles),
        restricted_outputs=mf.restricted_output_records(executed, plan.restricted_dir),
        timings=dict(result.timings),
        measures=plan.measures_record(), coverage=plan.coverage_record(),
        renderer_version=render_quarto.renderer_version(plan.renderer))
    man["failed"] = list(result.failed)
    man["models"] = dict(result.models)  # the pooled models' cache keys
    path = mf.write_manifest(plan.staging / "manifest.json", man)
    return Staged(files=files, manifest=man, manifest_path=path)


def collect_identifiers(warehouse: str | Path, la_codes: Sequence[str] | None = None,
                        spill_dir: Path | None = None) -> IdentifierSet:
    """Every id, ``SW_ID``, postcode and date of birth of ``la_codes`` in the warehouse
    (``spill_dir``: where DuckDB may spill them, ``identifiers_from_warehouse``)."""
    return identifiers_from_warehouse(warehouse, la_codes, spill_dir=spill_dir)


@contextlib.contextmanager
def identifiers_in_background(plan: RunPlan) -> Iterator[Future[IdentifierSet] | None]:
    """The leak scan's identifier set, collected in a thread while the stages before the
    scan run (None when the run was given its identifiers).

    Collecting it is DuckDB's work (21-25 s on a national warehouse), which leaves the
    interpreter free; the workbook stage is the interpreter's (pandas, 35 s), which
    leaves a core free: side by side they take about as long as the longer. The thread
    is waited for before the block ends, whatever happened, so that it never reads the
    run's copy of the warehouse while its folder is removed.
    """
    if plan.config.identifiers is not None:
        yield None
        return
    pool = ThreadPoolExecutor(1, thread_name_prefix="identifiers")
    try:
        collecting = pool.submit(collect_identifiers, plan.warehouse, plan.la_codes,
                                 plan.workdir / "spill")
        pool.shutdown(wait=False)  # the thread ends with its one job: none left when the scan forks
        yield collecting
    finally:
        pool.shutdown(wait=True)


def leak_scan(plan: RunPlan, result: RunResult,
              collecting: Future[IdentifierSet] | None = None) -> None:
    """Scan everything staged for identifiers, dates of birth and small counts; a hit
    fails the run. ``collecting``: the identifier set on its way
    (:func:`identifiers_in_background`); else it is collected here."""
    t0 = time.perf_counter()
    plan.log("leak scan: everything staged against the children's identifiers, dates of "
             "birth and small counts")
    ids: IdentifierSet | frozenset[str] | None = plan.config.identifiers
    if ids is None:
        try:
            ids = (collecting.result() if collecting is not None else
                   collect_identifiers(plan.warehouse, plan.la_codes, plan.workdir / "spill"))
        except Exception as exc:  # noqa: BLE001 - a missing, locked or corrupt warehouse
            fail(plan, result, f"could not read child identifiers from {plan.warehouse} for "
                               f"the leak scan ({type(exc).__name__}: {exc}); nothing was published")
    shown = report_dates(plan.period_end, plan.started) | incremental.made_days(plan, result.reuse)
    leaks = scan([plan.staging], ids, shown_dates=shown, jobs=plan.config.jobs)
    for pdf in sorted(plan.staging.glob("*/*.pdf")):  # its tables, from its notebook's outputs
        leaks += notebook_table_leaks(pdf, plan.period_restricted / pdf.parent.name / f"{pdf.stem}.ipynb")
    result.timings["leak_scan_s"] = round(time.perf_counter() - t0, 3)
    plan.log(f"leak scan: {len(leaks)} finding(s) in {result.timings['leak_scan_s']:.0f} s")
    if leaks:
        result.leaks = [str(lk).replace(str(plan.staging) + os.sep, "") for lk in leaks]
        bad_files = {Path(lk.file).relative_to(plan.staging).as_posix() for lk in leaks}
        fail(plan, result,
             f"leak scan: {len(leaks)} suspected disclosure(s) in {len(bad_files)} file(s); "
             "nothing was published.\n" + "\n".join(f"  {x}" for x in result.leaks[:50])
             + reused_note(plan, result, bad_files), quarantine=True)


def reused_note(plan: RunPlan, result: RunResult, bad_files: set[str]) -> str:
    """A line naming the failing files that an earlier run had kept (``done/``) and were
    reused, not made by this run: they fail every run until made again (``--force``)."""
    jobs = {f"{Path(f).parent.as_posix()}/{Path(f).stem}" for f in bad_files}
    kept = sorted(j for j in jobs if result.reuse.get(j) == "reused")
    if not kept:
        return ""
    return (f"\n  {', '.join(kept)}: kept by an earlier run "
            f"({plan.period_restricted / 'done'}) and reused here; 'run --force' makes them again")


# ------------------------------------------------------------------ publish
def index_la_names(plan: RunPlan) -> dict[str, str]:
    """Display names of every LA with published reports (this run's and earlier ones)."""
    names = {la: name for la in plan.la_codes if (name := plan.la_name(la))}
    for las in site.scan_reports(plan.reports_dir).values():
        for la in las:
            if la not in names and (name := load_la_parameters(la, plan.parameters_dir).get("name")):
                names[la] = str(name)
    return names


def build_period(plan: RunPlan, staged: Staged, result: RunResult) -> tuple[Path, dict[str, Any]]:
    """The period's new tree, beside the published one; return its folder and manifest.

    See ``publish``: this run's reports, the earlier files it does not replace (checked
    against their hashes), every run's manifest, and ``manifest.json`` listing exactly
    the files of the tree.
    """
    work = pub.work_folder(plan.reports_dir, plan.run_id)
    new = work / plan.period_end
    replaced = {pub.report_key(o["path"]) for o in staged.manifest["outputs"]}
    pub.carry_forward(plan.reports_dir, work, pub.previous_records(plan.period_reports),
                      replaced, plan.log)
    pub.carry_run_records(plan.period_reports, new)
    for p in staged.files:
        rel = p.relative_to(plan.staging)
        (new / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(p), str(new / rel))
        result.reports.append(plan.period_reports / rel)
    timings = {**result.timings, "total_s": round(time.perf_counter() - plan.clock, 3)}
    man = {**staged.manifest, "finished": mf.now_iso(), "timings": timings}
    man["published"] = mf.published_outputs(man, plan.period_reports / "manifest.json", work)
    mf.write_manifest(new / "runs" / f"{plan.run_id}.json", man)
    mf.write_manifest(new / "manifest.json", man)
    result.timings = timings
    return new, man


def publish(plan: RunPlan, staged: Staged, titles: Mapping[str, str], result: RunResult) -> None:
    """Swap the period's new tree in at once (``publish`` module), then write the index."""
    work = pub.work_folder(plan.reports_dir, plan.run_id)
    try:
        new, _ = build_period(plan, staged, result)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)  # stopped (Ctrl-C): a tree never swapped in
        raise
    kill_point("publish:built")
    with stopping.deferred():  # the swap and the index whole: a stop waits for them
        pub.swap_in(new, plan.period_reports, work / "replaced" / plan.period_end)
        kill_point("publish:swapped")
        shutil.rmtree(work)  # the tree it replaced
        shutil.rmtree(plan.staging, ignore_errors=True)  # empty folders only by now
        result.manifest_path = plan.period_reports / "manifest.json"
        result.index_path = site.build_index(plan.reports_dir, la_names=index_la_names(plan),
                                             titles=titles)
    result.ok = not result.failed
    plan.log(f"published {len(result.reports)} file(s) under {plan.period_reports}; "
             f"index {result.index_path}; {result.timings['total_s']:.1f}s")


def finish(plan: RunPlan, result: RunResult) -> RunResult:
    """The published run's result; ``RunError`` (exit 1) when LAs were set aside."""
    if not result.failed:
        return result
    lines = [f"  {f['la_code']}: {f['stage']} of '{f['notebook']}' failed"
             + (f" in cell {f['cell']}" if f["cell"] is not None else "") + f": {f['error']}"
             for f in result.failed]
    las = sorted({f["la_code"] for f in result.failed})
    done = [la for la in plan.la_codes if la not in las]
    raise RunError(f"{len(las)} LA(s) not published ({', '.join(las)}); the others "
                   f"({', '.join(done)}) were, under {plan.period_reports}:\n"
                   + "\n".join(lines) + "\n\n" + "\n".join(result.failures), result)


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
