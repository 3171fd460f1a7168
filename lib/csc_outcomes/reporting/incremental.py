"""Incremental and resumable runs: what each report depends on, and what is done already.

A monthly run for many LAs is mostly the same as the last one, and a killed run has
done most of its work. So each job (one notebook for one LA) gets a key
(:func:`job_keys`): sha256 over everything its output depends on, namely the notebook's
bytes; its parameters without the run's own paths; the run's rows of the measures
table (every LA's: the reports show all-LA pools and funnels; a notebook whose metadata
says ``"csc_outcomes": {"measures": "own"}`` reads only its LA's rows); the LA's own
warehouse content (``warehouse.content.la_digests``); the pooled models' keys the
notebook uses; the published figures' content key; the LA's parameters file and
practitioners' context file; what the reports read of the ingest's QA report (the LA's
counts, and whether it is the warehouse's: not its bytes, which hold the ingest's day
and every LA's files); the code (``manifest.tree_hash``) and the
packages' versions; renderer and its version; the incomplete-data banner and the
defaults (suppression threshold, RAG thresholds). Digests of large inputs (the
warehouse's per-LA digests and the pooled models' keys, the QA report; ``plan`` keeps
the warehouse's content hash the same way) are kept in ``restricted/digests/`` by file
identity (``manifest.remembered``: device, inode, size, mtime), so a rerun does not
re-read millions of rows to learn that nothing changed. Each LA's RAG tracker is kept
and reused the same way, keyed by the LA's warehouse digest, thresholds and code.

Done records. Once a job's notebook has run, its executed notebook is kept in
``restricted/<period>/done/<LA>/<notebook>/`` (owner-only) with ``record.json``
(``{key, files: {name: sha256}, made: [days]}``) written last; once its render
succeeds, the rendered files join it (``made``: the days the record was saved on, the
notebook's run and each render among them, which the leak scan allows when the files
are reused, since a footer shows its render's day: :func:`made_days`). These folders are not a killed run's debris (``workspace.clear_debris``
leaves them), so the next run with the same key reuses them: fully (the rendered files
are staged as they are: ``reused``), or, when only the notebook had run, by rendering
it again (``rendered``). A record whose files are missing or do not hash right is
ignored and the job runs (``ran``). ``run --force`` ignores every record.

Nothing changed. When every job of a run is reused and the period's published manifest
vouches for exactly those files (hashes checked on disk), :func:`up_to_date` names the
run that published them and the run stops there, before the warehouse is copied and
anything is rendered or scanned again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import nbformat

import csc_outcomes
from csc_outcomes import atomic, paths
from csc_outcomes.measures import table
from csc_outcomes.reporting import data_quality, pooled, practice_context, published_cache
from csc_outcomes.reporting import manifest as mf
from csc_outcomes.reporting import publish as pub
from csc_outcomes.reporting.config import RunResult
from csc_outcomes.reporting.papermill_runs import NotebookJob, NotebookResult
from csc_outcomes.reporting.plan import RunPlan
from csc_outcomes.reporting.render_quarto import renderer_version
from csc_outcomes.reporting.workspace import kill_point, make_private
from csc_outcomes.warehouse.content import la_digests

#: ``restricted/<period>/done/<LA>/<notebook>/``: what is done, for which key.
DONE_FOLDER = "done"
#: The record of a done folder, written last.
RECORD = "record.json"
#: The executed notebook as papermill wrote it (before subtitles: they are set each run).
EXECUTED = "executed.ipynb"
#: A done folder's name for an LA's RAG tracker (``tracker_write``), beside its notebooks'.
TRACKER = "rag_tracker"
#: What happened to a job: its notebook ran; it ran earlier and was rendered now; reused.
RAN, RENDERED, REUSED = "ran", "rendered", "reused"
#: Parameters that are the run's own paths, not inputs (their content is keyed instead),
#: and the pooled models' keys (keyed apart, ``model_keys``, before the stage computes them).
PATH_PARAMETERS = frozenset({"warehouse", "measures_path", "output_dir", "cache_dir",
                             "parameters_dir", "qa_report", "model_cache", "model_keys",
                             "prepared"})
#: ``defaults.yaml`` keys that choose what a run does, not what a report holds.
RUN_OPTIONS = frozenset({"period_end", "notebooks", "formats", "jobs", "renderer",
                         "warehouse", "measures", "reports_dir", "restricted_dir"})


def sha256_json(value: Any) -> str:
    """sha256 of ``value`` as canonical JSON (sorted keys; other types as text)."""
    text = json.dumps(value, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def job_id(job: NotebookJob) -> str:
    """``<LA>/<notebook>``: how keys and what was reused are named."""
    return f"{job.la_code}/{job.name}"


def memo_digest(restricted_dir: Path, path: Path, kind: str,
                compute: Callable[[Path], Any], log: Callable[[str], None] | None = None,
                what: str = "") -> Any:
    """``compute(path)`` remembered in ``restricted/digests/`` (``manifest.remembered``),
    said to ``log`` when worked out."""
    return mf.remembered(restricted_dir / mf.MEMO_FOLDER, path, kind, compute, log, what)


def pooled_keys(plan: RunPlan, notebook: str, code: str) -> Any:
    """The cache keys of the pooled models ``notebook`` shows (``pooled.model_keys``),
    remembered by the warehouse file's identity and the code (``code``): reading them
    scans the warehouse's columns, too slow to repeat on a national one."""
    return memo_digest(plan.restricted_dir, Path(plan.config.warehouse).resolve(),
                       f"pooled-{notebook}-{code[:16]}",
                       lambda path: pooled.model_keys(path, plan.period_end, notebook),
                       plan.log, f"{notebook}: the digests of what its pooled models read")


def run_parts(plan: RunPlan) -> dict[str, Any]:
    """The key's parts every job of the run shares."""
    published = paths.published_dir()
    return {
        # the package, its render templates and data contracts (notebooks: each job's bytes)
        "code": mf.tree_hash([Path(csc_outcomes.__file__).parent, paths.templates_dir(),
                              paths.contracts_dir()]),
        "packages": mf.package_versions(), "renderer": plan.renderer,
        "renderer_version": renderer_version(plan.renderer),
        "published": published_cache.content_key(published) if published.is_dir() else None,
        "defaults": {k: v for k, v in plan.defaults.items() if k not in RUN_OPTIONS},
        "banner": plan.incomplete, "period_end": plan.period_end,
        "measures": sha256_json(table.to_csv_text(plan.measures_rows)),
    }


def qa_part(plan: RunPlan) -> Callable[[str], Any]:
    """An LA's part of its reports' keys from the ingest's QA report: its counts, and
    whether the report is the warehouse's (``data_quality.read_by_reports``); remembered
    by the two files' identities."""
    warehouse = Path(plan.config.warehouse).resolve()
    facts = memo_digest(plan.restricted_dir, data_quality.qa_report_path(warehouse), "qa-read",
                        data_quality.read_by_reports, plan.log, "what the reports read of the QA report")
    if facts is None or "note" in facts:
        return lambda la_code: facts  # no report, or one that cannot be read: the same note
    hashes = memo_digest(plan.restricted_dir, warehouse, "ingest-hashes", data_quality.ingest_hashes,
                         plan.log, "the warehouse's ingest hashes") or []
    stale = bool(hashes) and facts["input_hash"] not in hashes
    return lambda la_code: {"counts": facts["las"].get(la_code), "stale": stale}


def reads_own_measures(notebook: Path) -> bool:
    """Whether the notebook's metadata says it reads only its LA's measures rows."""
    meta = nbformat.read(str(notebook), as_version=4).metadata.get("csc_outcomes", {})
    return bool(meta.get("measures") == "own")


def job_keys(plan: RunPlan, jobs: Sequence[NotebookJob]) -> dict[str, str]:
    """Each job's key (``<LA>/<notebook>`` -> sha256); see the module docstring."""
    shared = run_parts(plan)
    lad = memo_digest(plan.restricted_dir, Path(plan.config.warehouse).resolve(), "la-digests",
                      la_digests, plan.log, "each LA's warehouse digest") or {}
    notebooks = {nb: (mf.sha256_file(nb), reads_own_measures(nb),
                      pooled_keys(plan, nb.stem, shared["code"])) for nb in plan.notebooks}
    rows = plan.measures_rows
    qa = qa_part(plan)
    keys = {}
    for job in jobs:
        digest, own, models = notebooks[job.notebook]
        context = practice_context.context_path(plan.parameters_dir, job.la_code, plan.period_end)
        parts = {
            **shared, "notebook": digest, "warehouse_la": lad.get(job.la_code),
            "parameters": {k: v for k, v in job.parameters.items() if k not in PATH_PARAMETERS},
            "la_parameters": dict(plan.la_parameters.get(job.la_code, {})),
            "context": mf.sha256_file(context) if context.is_file() else None,
            "pooled": models, "qa": qa(job.la_code),
        }
        if own:
            parts["measures"] = sha256_json(table.to_csv_text(rows[rows["la_code"] == job.la_code]))
        keys[job_id(job)] = sha256_json(parts)
    for la in {job.la_code for job in jobs}:
        keys[f"{la}/{TRACKER}"] = sha256_json({
            "tracker": lad.get(la), "code": shared["code"], "packages": shared["packages"],
            "period_end": plan.period_end, "defaults": shared["defaults"],
            "la_parameters": dict(plan.la_parameters.get(la, {}))})
    return keys


# ------------------------------------------------------------------ done records
def done_dir(plan: RunPlan, la_code: str, name: str) -> Path:
    """``restricted/<period>/done/<LA>/<name>/``."""
    return plan.period_restricted / DONE_FOLDER / la_code / name


def read_record(folder: Path) -> dict[str, Any] | None:
    """The folder's record; None when there is none (it is written atomically, last)."""
    path = folder / RECORD
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def verified(folder: Path, key: str, names: Iterable[str]) -> dict[str, Any] | None:
    """The record when it has ``key`` and holds ``names``, each file hashing right."""
    rec = read_record(folder)
    if rec is None or rec.get("key") != key:
        return None
    files = rec.get("files", {})
    for name in names:
        if (name not in files or not (folder / name).is_file()
                or mf.sha256_file(folder / name) != files[name]):
            return None
    return rec


def save(plan: RunPlan, folder: Path, key: str, sources: Mapping[str, Path]) -> None:
    """Keep ``sources`` (name -> file) in ``folder`` for ``key``, the record written last.

    The files already kept for the same key stay; others go. The record is removed
    first, so a save cut short leaves nothing that looks done.
    """
    old = read_record(folder)
    files = dict(old["files"]) if old and old.get("key") == key else {}
    make_private(folder, plan.restricted_dir)
    (folder / RECORD).unlink(missing_ok=True)
    for name, source in sources.items():
        data = source.read_bytes()
        atomic.write_bytes(folder / name, data, mode=0o600)
        files[name] = hashlib.sha256(data).hexdigest()
    for stale in folder.iterdir():
        if stale.name not in files:
            stale.unlink()
    made = sorted({*(old.get("made", []) if old and old.get("key") == key else []),
                   *made_today()})
    atomic.write_text(folder / RECORD, json.dumps({"key": key, "files": files, "made": made},
                                                  indent=1), mode=0o600)


def made_today() -> set[str]:
    """The days (ISO) a file kept now may carry as the day it was made: today here and in
    UTC (the rendered footer's "produced on" is the renderer's local day)."""
    return {dt.date.today().isoformat(), dt.datetime.now(dt.UTC).date().isoformat()}


def made_days(plan: RunPlan, reuse: Mapping[str, str]) -> frozenset[dt.date]:
    """The days the reports this run reuses whole were made on (their records' ``made``):
    a reused report says it was produced that day, which the leak scan must not take for
    a child's date of birth (``identifiers.report_dates`` has this run's days only). Only
    the days recorded, of the records this run reuses under its own keys (``reuse``:
    ``job_id`` -> what was reused): never the days between, nor a stale record's."""
    days: set[dt.date] = set()
    for job, how in reuse.items():
        if how != REUSED or "/" not in job:
            continue
        la, name = job.split("/", 1)
        rec = read_record(done_dir(plan, la, name))
        if rec and rec.get("key") == (plan.job_keys or {}).get(job):
            days |= {dt.date.fromisoformat(d) for d in rec.get("made", [])}
    return frozenset(days)


def rendered_names(job: NotebookJob, formats: Iterable[str]) -> list[str]:
    """The files a job's render puts in ``staging/<LA>/``."""
    return [f"{job.name}.{fmt}" for fmt in formats]


def reuse_of(plan: RunPlan, job: NotebookJob, key: str) -> str:
    """What this run can reuse of ``job``: ``REUSED``, ``RENDERED`` (render only) or ``RAN``."""
    if plan.config.force:
        return RAN
    folder = done_dir(plan, job.la_code, job.name)
    if verified(folder, key, [EXECUTED, *rendered_names(job, plan.formats)]):
        return REUSED
    return RENDERED if verified(folder, key, [EXECUTED]) else RAN


def plan_reuse(plan: RunPlan, jobs: Sequence[NotebookJob],
               result: RunResult) -> tuple[list[NotebookJob], dict[str, str]]:
    """The jobs to run now and every job's key; ``result.reuse`` says what is reused."""
    keys = dict(plan.job_keys or job_keys(plan, jobs))
    result.keys = keys
    result.reuse = {job_id(j): reuse_of(plan, j, keys[job_id(j)]) for j in jobs}
    to_run = [j for j in jobs if result.reuse[job_id(j)] == RAN]
    plan.log(f"reused {len(jobs) - len(to_run)}, running {len(to_run)}"
             + (" (--force)" if plan.config.force else ""))
    return to_run, keys


def with_reused(plan: RunPlan, jobs: Sequence[NotebookJob],
                ran: Sequence[NotebookResult]) -> list[NotebookResult]:
    """Every job's result in the jobs' order: those run now, the others restored."""
    now = {job_id(r.job): r for r in ran}
    return [now[job_id(j)] if job_id(j) in now else restore(plan, j) for j in jobs]


def note_runs(result: RunResult, keys: Mapping[str, str]) -> None:
    """Each manifest run record gets its job's key and what was reused of it."""
    for rec in result.runs:
        name = f"{rec['la_code']}/{rec['notebook']}"
        rec.update(key=keys[name], reuse=result.reuse.get(name, RAN))


def to_render(plan: RunPlan, executed: Sequence[NotebookResult],
              result: RunResult) -> list[NotebookResult]:
    """The results to render now; the reused ones' files are staged instead."""
    todo = []
    for r in executed:
        if result.reuse.get(job_id(r.job)) == REUSED:
            stage_reused(plan, r.job)
        else:
            todo.append(r)
    return todo


def restore(plan: RunPlan, job: NotebookJob) -> NotebookResult:
    """The job's kept executed notebook put back where papermill would write it."""
    atomic.write_bytes(job.output_path,
                       (done_dir(plan, job.la_code, job.name) / EXECUTED).read_bytes(), mode=0o600)
    return NotebookResult(job=job, ok=True, seconds=0.0, output_path=job.output_path)


ProgressFn = Callable[[int, int, NotebookResult], None]


def keeper(plan: RunPlan, keys: Mapping[str, str], progress: ProgressFn | None) -> ProgressFn:
    """A progress callback that keeps each successful job's executed notebook.

    A run killed later resumes from these. ``kill_point("executed:<n>")`` lets the
    tests kill a run after its n-th notebook.
    """
    def keep(done: int, total: int, result: NotebookResult) -> None:
        job = result.job
        if result.ok and result.output_path is not None:
            save(plan, done_dir(plan, job.la_code, job.name), keys[job_id(job)],
                 {EXECUTED: result.output_path})
        kill_point(f"executed:{done}")
        if progress:
            progress(done, total, result)
    return keep


def keep_rendered(plan: RunPlan, job: NotebookJob, result: RunResult) -> None:
    """Keep a job's rendered files beside its executed notebook."""
    names = rendered_names(job, plan.formats)
    save(plan, done_dir(plan, job.la_code, job.name), result.keys[job_id(job)],
         {n: plan.staging / job.la_code / n for n in names})


def stage_reused(plan: RunPlan, job: NotebookJob) -> None:
    """Put a reused job's rendered files in ``staging/<LA>/``, as its render would."""
    folder = done_dir(plan, job.la_code, job.name)
    make_private(plan.staging / job.la_code, plan.restricted_dir)
    for name in rendered_names(job, plan.formats):
        atomic.write_bytes(plan.staging / job.la_code / name, (folder / name).read_bytes())


def reuse_tracker(plan: RunPlan, la_code: str) -> bool:
    """Put back the LA's kept RAG tracker files when kept for this run's key; else False."""
    key = (plan.job_keys or {}).get(f"{la_code}/{TRACKER}")
    if key is None or plan.config.force:
        return False
    folder = done_dir(plan, la_code, TRACKER)
    rec = read_record(folder)
    if rec is None:
        return False
    names = list(rec.get("files", {}))
    if not names or verified(folder, key, names) is None:
        return False
    make_private(plan.period_restricted / la_code, plan.restricted_dir)
    for name in names:
        atomic.write_bytes(plan.period_restricted / la_code / name, (folder / name).read_bytes(),
                           mode=0o600)
    return True


def keep_tracker(plan: RunPlan, la_code: str, files: Iterable[Path]) -> None:
    """Keep the LA's RAG tracker files just written, for this run's key."""
    key = (plan.job_keys or {}).get(f"{la_code}/{TRACKER}")
    if key is not None:
        save(plan, done_dir(plan, la_code, TRACKER), key, {p.name: p for p in files})


def up_to_date(plan: RunPlan, jobs: Sequence[NotebookJob]) -> str | None:
    """The run that published what this run would, unchanged; None if anything differs.

    Every job must be reusable whole, and the period's manifest must vouch for each of
    its rendered files with the hash kept, the file on disk hashing the same.
    """
    if plan.config.force or not jobs:
        return None
    published = {rec["path"]: rec for rec in pub.previous_records(plan.period_reports)}
    runs = set()
    for job in jobs:
        names = rendered_names(job, plan.formats)
        rec = verified(done_dir(plan, job.la_code, job.name), (plan.job_keys or {}).get(job_id(job), ""),
                       [EXECUTED, *names])
        if rec is None:
            return None
        for name in names:
            out = published.get(f"{plan.period_end}/{job.la_code}/{name}")
            if (out is None or out.get("sha256") != rec["files"][name]
                    or not (plan.reports_dir / out["path"]).is_file()
                    or mf.sha256_file(plan.reports_dir / out["path"]) != out["sha256"]):
                return None
            runs.add(str(out.get("run_id")))
    return max(runs)


def unchanged_result(plan: RunPlan, jobs: Sequence[NotebookJob], earlier: str) -> RunResult:
    """The result of a run that found nothing changed since run ``earlier``."""
    result = plan.new_result()
    result.ok = True
    result.manifest_path = plan.period_reports / "manifest.json"
    index = plan.reports_dir / "index.html"
    result.index_path = index if index.is_file() else None
    result.reports = [plan.period_reports / job.la_code / n
                      for job in jobs for n in rendered_names(job, plan.formats)]
    result.reuse = {job_id(job): REUSED for job in jobs}
    result.timings["total_s"] = round(time.perf_counter() - plan.clock, 3)
    plan.log(f"nothing changed since run {earlier}: {plan.period_reports} is up to date "
             f"({len(jobs)} report(s) reused; {result.timings['total_s']:.1f}s)")
    return result
