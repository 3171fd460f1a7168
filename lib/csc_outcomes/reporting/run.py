"""Orchestrate a reporting run: measures -> notebooks -> render -> leak scan -> publish.

``run_reports(period_end, la_codes, warehouse=..., measures_path=...)``:

1. makes sure the measures CSV holds the period (computes it from the warehouse with
   ``measures.compute.compute_measures`` when the file or the period is missing);
2. executes each notebook for each LA with papermill (``jobs`` at once) into the
   restricted tree ``restricted/<period>/<la>/<notebook>.ipynb`` (executed notebooks
   may hold child-level data and are never published);
3. renders each executed notebook (Quarto when on PATH, else the built-in renderer)
   into a staging folder *outside* ``reports/`` (``restricted/<period>/.staging-<run>``);
4. runs ``disclosure.scan_for_leaks`` over everything staged (reports and manifest)
   with the child identifiers of the warehouse; a hit fails the run and nothing is
   published (the staged files go to ``restricted/<period>/quarantine-<run>/``);
5. moves the staged files into ``reports/<period>/<la>/``, writes
   ``reports/<period>/manifest.json`` and ``reports/index.html``.

Any failure (a notebook, a render, a leak) raises ``RunError``; its message names each
notebook and LA and says what to look at, and a manifest of the failed run is kept in
``restricted/<period>/runs/``. A failed run publishes nothing, so nothing half-written is
left looking done.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
import yaml

from csc_outcomes.paths import notebooks_dir, parameters_dir
from csc_outcomes.reporting import frontmatter, manifest as mf, render_builtin, render_quarto, site
from csc_outcomes.reporting.papermill_runs import (
    KERNEL_NAME, NotebookJob, NotebookResult, format_failures, print_progress, run_notebooks,
)

NOTEBOOKS_DIR = notebooks_dir()
PARAMETERS_DIR = parameters_dir()
DEFAULT_NOTEBOOKS = ["cohort_outcomes", "rereferrals", "placement_stability", "proportionality"]
FORMATS = ("html", "pdf")

#: Warehouse columns that identify a child or a record about one (fed to the leak scan).
IDENTIFIER_COLUMNS = ("CHILD", "LAchildID", "UPN", "FormerUPN", "contact_id")


class RunError(RuntimeError):
    """A run failed; ``result`` holds what was done (nothing was published)."""

    def __init__(self, message: str, result: "RunResult | None" = None):
        super().__init__(message)
        self.result = result


@dataclass
class RunResult:
    period_end: str
    la_codes: list[str]
    notebooks: list[str]
    formats: list[str]
    renderer: str
    ok: bool = False
    reports: list[Path] = field(default_factory=list)
    executed: list[Path] = field(default_factory=list)
    manifest_path: Path | None = None
    index_path: Path | None = None
    failures: list[str] = field(default_factory=list)
    leaks: list[str] = field(default_factory=list)
    timings: dict[str, Any] = field(default_factory=dict)
    measures_computed: bool = False


# ------------------------------------------------------------------------ parameters
def _read_yaml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path} must hold a YAML mapping")
    return data


def load_defaults(parameters_dir: str | Path | None = None) -> dict[str, Any]:
    """``parameters/defaults.yaml`` (``{}`` when absent)."""
    return _read_yaml(Path(parameters_dir or PARAMETERS_DIR) / "defaults.yaml")


def load_la_parameters(la_code: str, parameters_dir: str | Path | None = None) -> dict[str, Any]:
    """``parameters/<LA>.yaml`` (``{}`` when absent): display name, comparators..."""
    return _read_yaml(Path(parameters_dir or PARAMETERS_DIR) / f"{la_code}.yaml")


def load_schedule(name: str, parameters_dir: str | Path | None = None) -> dict[str, Any]:
    path = Path(parameters_dir or PARAMETERS_DIR) / "schedules" / f"{name}.yaml"
    if not path.is_file():
        raise FileNotFoundError(f"no schedule {name!r}: {path} does not exist")
    return _read_yaml(path)


def last_month_end(today: dt.date | None = None) -> dt.date:
    """The last day of the month before ``today``."""
    today = today or dt.date.today()
    return today.replace(day=1) - dt.timedelta(days=1)


def resolve_period_end(value: Any, today: dt.date | None = None) -> str:
    """ISO date from a date, an ISO string, or ``last_month_end``."""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value).strip()
    if text in ("last_month_end", "last-month-end"):
        return last_month_end(today).isoformat()
    try:
        return dt.date.fromisoformat(text[:10]).isoformat()
    except ValueError as exc:
        raise ValueError(f"period end {value!r} is not a date (YYYY-MM-DD)") from exc


def display_subtitle(la_code: str, la_name: str | None, period_end: str) -> str:
    d = dt.date.fromisoformat(period_end)
    who = f"{la_name} ({la_code})" if la_name and la_name != la_code else la_code
    return f"{who}, year ending {d.day} {d:%B %Y}"


# ------------------------------------------------------------------------ measures
def data_coverage_warnings(warehouse: str | Path, period_end: str) -> list[str]:
    """Warn when ``period_end`` falls after the latest return an LA supplied.

    A monthly run can be asked for a month the statutory returns do not reach yet;
    the figures are then computed on incomplete data (episodes look open, referrals
    missing), so the run says so rather than publishing them silently.
    """
    import pandas as pd

    from csc_outcomes import warehouse as wh

    if not Path(warehouse).is_file():
        return []
    try:
        supplied = wh.read_table(Path(warehouse), "supplied")
    except Exception:  # noqa: BLE001 - an older warehouse without the table
        return []
    if supplied.empty or "collection_year" not in supplied.columns:
        return []
    returns = supplied[supplied["source"].isin(["ssda903", "cin"])] if "source" in supplied else supplied
    latest = returns.groupby("la_code")["collection_year"].max().dropna()
    end = pd.Timestamp(period_end)
    behind = sorted(la for la, year in latest.items() if pd.Timestamp(int(year), 3, 31) < end)
    if not behind:
        return []
    years = sorted({int(latest[la]) for la in behind})
    return [f"the period ending {period_end} is after the latest statutory return of "
            f"{len(behind)} LA(s) ({', '.join(behind[:10])}{' ...' if len(behind) > 10 else ''}; "
            f"latest year ending 31 March {', '.join(map(str, years))}): their figures rest on "
            "incomplete data until the next return is ingested"]


def ensure_measures(warehouse: str | Path, measures_path: str | Path, period_end: str,
                    log: Callable[[str], None] | None = None) -> bool:
    """Make sure ``measures_path`` holds rows for ``period_end``; True when computed.

    When the file is missing, or has no row for the period, the period's measures are
    computed from the warehouse and written (merged with the file's other periods).
    """
    import pandas as pd

    measures_path = Path(measures_path)
    existing = None
    if measures_path.is_file():
        existing = pd.read_csv(measures_path, dtype={"la_code": str, "measure_id": str})
        periods = pd.to_datetime(existing["period_end"]).dt.date.astype(str)
        if (periods == period_end).any():
            return False
    if not Path(warehouse).is_file():
        raise RunError(f"no measures for {period_end} in {measures_path} and no warehouse at "
                       f"{warehouse} to compute them from; run 'csc-outcomes ingest' first")
    from csc_outcomes.measures.compute import compute_measures
    from csc_outcomes.measures.inputs import MeasureInputs

    # the period, and the two year-ends before it as context for trend charts
    end = pd.Timestamp(period_end)
    periods = [end - pd.DateOffset(years=k) for k in (2, 1, 0)]
    try:
        new = compute_measures(MeasureInputs.from_warehouse(warehouse, measures_only=True), periods)
    except Exception as exc:  # noqa: BLE001 - reported, not a traceback
        raise RunError(f"computing the measures for {period_end} from {warehouse} failed: "
                       f"{type(exc).__name__}: {exc}. Run 'csc-outcomes measures' to see "
                       "the details; nothing was published") from exc
    new = new.copy()
    new["period_end"] = pd.to_datetime(new["period_end"]).dt.date.astype(str)
    if existing is not None:
        existing["period_end"] = pd.to_datetime(existing["period_end"]).dt.date.astype(str)
        new = new[~new["period_end"].isin(set(existing["period_end"]))]
        new = pd.concat([existing, new], ignore_index=True)
    measures_path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".measures.", suffix=".csv", dir=measures_path.parent)
    os.close(fd)
    new.to_csv(tmp, index=False)
    os.replace(tmp, measures_path)
    if log:
        log(f"computed measures for {period_end} from {warehouse} -> {measures_path}")
    return True


def las_in_measures(measures_path: str | Path, period_end: str) -> list[str]:
    import pandas as pd

    df = pd.read_csv(measures_path, dtype={"la_code": str})
    periods = pd.to_datetime(df["period_end"]).dt.date.astype(str)
    return sorted(df.loc[periods == period_end, "la_code"].dropna().unique().tolist())


def collect_identifiers(warehouse: str | Path, la_codes: Sequence[str] | None = None) -> set[str]:
    """Every child/record identifier in the warehouse (``IDENTIFIER_COLUMNS``)."""
    from csc_outcomes import warehouse as wh

    tables, _ = wh.read_tables(Path(warehouse), la_codes=list(la_codes) if la_codes else None)
    ids: set[str] = set()
    for df in tables.values():
        for col in IDENTIFIER_COLUMNS:
            if col in df.columns:
                ids.update(str(v).strip() for v in df[col].dropna().unique() if str(v).strip())
    return ids


# ------------------------------------------------------------------------ helpers
def _move_into_place(src: Path, dst: Path) -> None:
    """Move ``src`` to ``dst`` atomically even across file systems."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f".{dst.name}.incoming")
    shutil.move(str(src), str(tmp))
    os.replace(tmp, dst)


def _notebook_paths(names: Sequence[str] | None, notebooks_dir: Path,
                    defaults: dict[str, Any]) -> list[Path]:
    wanted = list(names or defaults.get("notebooks") or DEFAULT_NOTEBOOKS)
    paths = []
    for name in wanted:
        p = Path(name)
        if p.suffix != ".ipynb":
            p = notebooks_dir / f"{name}.ipynb"
        elif not p.is_absolute() and not p.exists():
            p = notebooks_dir / p.name
        if not p.is_file():
            known = ", ".join(sorted(f.stem for f in notebooks_dir.glob("*.ipynb"))) or "none"
            raise RunError(f"notebook {name!r} not found ({p}); available: {known}")
        paths.append(p.resolve())
    return paths


def choose_renderer(renderer: str = "auto") -> str:
    if renderer == "auto":
        return "quarto" if render_quarto.quarto_path() else "builtin"
    if renderer not in ("quarto", "builtin"):
        raise ValueError("renderer must be auto, quarto or builtin")
    if renderer == "quarto" and not render_quarto.quarto_path():
        raise RunError("renderer 'quarto' asked for, but quarto is not on PATH")
    return renderer


def _log(msg: str) -> None:
    import sys

    print(msg, file=sys.stderr, flush=True)


# ------------------------------------------------------------------------ the run
def run_reports(
    period_end: Any,
    la_codes: Iterable[str] | None = None,
    *,
    warehouse: str | Path,
    measures_path: str | Path,
    reports_dir: str | Path = "reports",
    restricted_dir: str | Path = "restricted",
    formats: Sequence[str] = ("html",),
    jobs: int = 2,
    notebooks: Sequence[str] | None = None,
    notebooks_dir: str | Path | None = None,
    parameters_dir: str | Path | None = None,
    renderer: str = "auto",
    identifiers: set[str] | None = None,
    kernel_name: str = KERNEL_NAME,
    progress: bool = True,
    extra_parameters: dict[str, Any] | None = None,
) -> RunResult:
    """Run, render and publish the reports of one period; see the module docstring.

    Returns a ``RunResult`` (``ok`` True). Raises ``RunError`` when anything fails,
    having published nothing. ``identifiers`` overrides the identifiers read from the
    warehouse for the leak scan.
    """
    t_start = time.perf_counter()
    started = mf.now_iso()
    log = _log if progress else (lambda _m: None)
    period = resolve_period_end(period_end)
    formats = list(dict.fromkeys(formats or ("html",)))
    bad = [f for f in formats if f not in FORMATS]
    if bad:
        raise RunError(f"unknown format(s) {bad}; use html and/or pdf")
    warehouse = Path(warehouse).resolve()
    measures_path = Path(measures_path).resolve()
    reports_dir = Path(reports_dir).resolve()
    restricted_dir = Path(restricted_dir).resolve()
    if restricted_dir == reports_dir or reports_dir in restricted_dir.parents:
        raise RunError("the restricted folder must not be inside the reports folder")
    params_dir = Path(parameters_dir or PARAMETERS_DIR).resolve()
    nb_dir = Path(notebooks_dir or NOTEBOOKS_DIR).resolve()
    defaults = load_defaults(params_dir)
    chosen = choose_renderer(renderer)

    t0 = time.perf_counter()
    computed = ensure_measures(warehouse, measures_path, period, log=log)
    for warning in data_coverage_warnings(warehouse, period):
        log(f"warning: {warning}")
    t_measures = time.perf_counter() - t0
    las = sorted(dict.fromkeys(la_codes)) if la_codes else las_in_measures(measures_path, period)
    if not las:
        raise RunError(f"no LA has measures for {period} in {measures_path}")
    nb_paths = _notebook_paths(notebooks, nb_dir, defaults)
    run_id = dt.datetime.now().strftime("%Y%m%dT%H%M%S") + "-" + secrets.token_hex(3)
    result = RunResult(period_end=period, la_codes=las, notebooks=[p.stem for p in nb_paths],
                       formats=formats, renderer=chosen, measures_computed=computed)

    period_restricted = restricted_dir / period
    staging = period_restricted / f".staging-{run_id}"
    threshold = int(defaults.get("suppression_threshold", 5))

    # ---- 1. notebooks
    jobs_list: list[NotebookJob] = []
    la_names: dict[str, str] = {}
    # pooled models fitted once per run and shared by the LAs' notebooks (restricted)
    shared_dir = period_restricted / f".shared-{run_id}"
    for la in las:
        la_params = load_la_parameters(la, params_dir)
        if la_params.get("name"):
            la_names[la] = str(la_params["name"])
        out_dir = period_restricted / la
        for nb in nb_paths:
            params = {
                "la_code": la, "period_end": period, "warehouse": str(warehouse),
                "measures_path": str(measures_path), "output_dir": str(out_dir),
                "la_name": la_names.get(la, la),
                "comparators": list(la_params.get("statistical_neighbours") or []),
                "suppression_threshold": threshold,
                "cache_dir": str(shared_dir),
            }
            params.update(extra_parameters or {})
            jobs_list.append(NotebookJob(notebook=nb, la_code=la, period_end=period,
                                         output_path=out_dir / f"{nb.stem}.ipynb",
                                         parameters=params, cwd=out_dir))
    log(f"run {run_id}: {len(nb_paths)} notebook(s) x {len(las)} LA(s) for {period}, "
        f"{jobs} at once; renderer {chosen}")
    t0 = time.perf_counter()
    try:
        results = run_notebooks(jobs_list, max_workers=jobs, kernel_name=kernel_name,
                                progress=print_progress if progress else None)
    finally:
        shutil.rmtree(shared_dir, ignore_errors=True)
    t_notebooks = time.perf_counter() - t0
    result.executed = [r.output_path for r in results if r.output_path]
    runs = [_run_record(r, restricted_dir) for r in results]
    failed = [r for r in results if not r.ok]
    if failed:
        result.failures = [r.message() for r in failed]
        _fail(result, format_failures(failed), run_id, started, period_restricted, staging,
              runs, {"notebooks_s": round(t_notebooks, 3)}, reports_dir=reports_dir)

    # titles into the executed notebooks' front matter (both renderers read it)
    titles: dict[str, str] = {}
    for r in results:
        nb = nbformat.read(str(r.output_path), as_version=4)
        front = frontmatter.read_front_matter(nb)
        titles[r.job.name] = str(front.get("title") or site.pretty_name(r.job.name))
        frontmatter.update_front_matter(
            nb, subtitle=display_subtitle(r.job.la_code, la_names.get(r.job.la_code), period))
        tmp = r.output_path.with_name(f".{r.output_path.name}.fm")
        nbformat.write(nb, str(tmp))
        os.replace(tmp, r.output_path)

    # ---- 2. render into staging (outside reports/)
    t0 = time.perf_counter()
    render_times: dict[str, float] = {}
    render_errors: list[str] = []

    def render_one(r: NotebookResult) -> None:
        t = time.perf_counter()
        target_dir = staging / r.job.la_code
        try:
            if chosen == "quarto":
                render_quarto.render(r.output_path, target_dir, r.job.name, formats)
            else:
                render_builtin.render(r.output_path, target_dir, r.job.name, formats,
                                      index_href="../../index.html")
        except Exception as exc:  # noqa: BLE001 - reported with notebook and LA
            render_errors.append(f"render of {r.job.describe()} failed: {exc}")
        render_times[f"{r.job.la_code}/{r.job.name}"] = round(time.perf_counter() - t, 3)

    with ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="render") as pool:
        list(pool.map(render_one, results))
    t_render = time.perf_counter() - t0
    timings = {"measures_s": round(t_measures, 3), "notebooks_s": round(t_notebooks, 3),
               "render_s": round(t_render, 3), "render_each_s": render_times}
    if render_errors:
        result.failures = render_errors
        _fail(result, "\n".join(render_errors), run_id, started, period_restricted, staging,
              runs, timings, reports_dir=reports_dir)

    # ---- 3. manifest (staged), leak scan of everything to be published
    staged = sorted(p for p in staging.rglob("*") if p.is_file())
    outputs = []
    for p in staged:
        rel = p.relative_to(staging)
        outputs.append({"path": f"{period}/{rel.as_posix()}", "la_code": rel.parts[0],
                        "report": p.stem, "title": titles.get(p.stem, p.stem),
                        "format": p.suffix[1:], "sha256": mf.sha256_file(p),
                        "bytes": p.stat().st_size})
    inputs = _input_records(warehouse, measures_path, nb_paths, params_dir, las)
    options = {"period_end": period, "la_codes": las, "formats": formats, "jobs": jobs,
               "notebooks": [p.stem for p in nb_paths], "renderer": chosen,
               "kernel_name": kernel_name, "warehouse": str(warehouse),
               "measures_path": str(measures_path), "reports_dir": str(reports_dir),
               "restricted_dir": str(restricted_dir), "parameters_dir": str(params_dir.resolve()),
               "notebooks_dir": str(nb_dir.resolve()), "extra_parameters": extra_parameters or {}}
    restricted_outputs = [
        {**mf.file_record(r.output_path, restricted_dir),
         "content_sha256": mf.notebook_content_hash(r.output_path),
         "la_code": r.job.la_code, "notebook": r.job.name} for r in results]
    timings["total_s"] = round(time.perf_counter() - t_start, 3)
    man = mf.build_manifest(
        run_id=run_id, started=started, finished=mf.now_iso(), status="ok", period_end=period,
        la_codes=las, notebooks=[p.stem for p in nb_paths], formats=formats, renderer=chosen,
        options=options, inputs=inputs, runs=runs, outputs=outputs,
        restricted_outputs=restricted_outputs, timings=timings,
        measures={"path": str(measures_path), "computed_by_run": computed,
                  "sha256": mf.sha256_file(measures_path),
                  "period_rows_sha256": _period_rows_hash(measures_path, period)})
    staged_manifest = mf.write_manifest(staging / "manifest.json", man)

    t0 = time.perf_counter()
    ids = identifiers if identifiers is not None else _identifiers_or_fail(warehouse, las)
    from csc_outcomes.reporting.disclosure import scan_for_leaks

    leaks = scan_for_leaks([staging], ids)
    timings["leak_scan_s"] = round(time.perf_counter() - t0, 3)
    if leaks:
        result.leaks = [str(lk).replace(str(staging) + os.sep, "") for lk in leaks]
        bad_files = sorted({Path(lk.file).relative_to(staging).as_posix() for lk in leaks})
        msg = (f"leak scan: {len(leaks)} suspected disclosure(s) in {len(bad_files)} file(s); "
               "nothing was published.\n" + "\n".join(f"  {x}" for x in result.leaks[:50]))
        _fail(result, msg, run_id, started, period_restricted, staging, runs, timings,
              quarantine=True, reports_dir=reports_dir)

    # ---- 4. publish: move into reports/, manifest last, then the index
    period_reports = reports_dir / period
    for p in staged:
        dst = period_reports / p.relative_to(staging)
        _move_into_place(p, dst)
        result.reports.append(dst)
    man["finished"] = mf.now_iso()
    man["timings"]["total_s"] = round(time.perf_counter() - t_start, 3)
    man["published"] = mf.published_outputs(man, period_reports / "manifest.json", reports_dir)
    staged_manifest.unlink(missing_ok=True)
    mf.write_manifest(period_reports / "runs" / f"{run_id}.json", man)
    result.manifest_path = mf.write_manifest(period_reports / "manifest.json", man)
    shutil.rmtree(staging, ignore_errors=True)
    all_names = dict(la_names)
    for la_dir in period_reports.parent.glob("*/*"):
        if la_dir.is_dir() and la_dir.name not in all_names:
            name = load_la_parameters(la_dir.name, params_dir).get("name")
            if name:
                all_names[la_dir.name] = str(name)
    result.index_path = site.build_index(reports_dir, la_names=all_names, titles=titles)
    result.timings = man["timings"]
    result.ok = True
    log(f"published {len(result.reports)} file(s) under {period_reports}; "
        f"index {result.index_path}; {result.timings['total_s']:.1f}s")
    return result


def _identifiers_or_fail(warehouse: Path, las: list[str]) -> set[str]:
    try:
        return collect_identifiers(warehouse, las)
    except Exception as exc:  # noqa: BLE001
        raise RunError(f"could not read child identifiers from {warehouse} for the leak scan "
                       f"({type(exc).__name__}: {exc}); nothing was published") from exc


def _period_rows_hash(measures_path: Path, period: str) -> str:
    """sha256 of the period's rows of the measures table, sorted and canonically written."""
    import pandas as pd

    df = pd.read_csv(measures_path, dtype={"la_code": str, "measure_id": str})
    df["period_end"] = pd.to_datetime(df["period_end"]).dt.date.astype(str)
    df = df[df["period_end"] == period].sort_values(["la_code", "measure_id"]).reset_index(drop=True)
    return mf.sha256_text(df.to_csv(index=False, float_format="%.10g"))


def _input_records(warehouse: Path, measures_path: Path, nb_paths: list[Path], params_dir: Path,
                   las: list[str]) -> list[dict[str, Any]]:
    recs = []
    if warehouse.is_file():
        recs.append({"role": "warehouse", **mf.file_record(warehouse)})
    recs.append({"role": "measures", **mf.file_record(measures_path)})
    for nb in nb_paths:
        recs.append({"role": "notebook", **mf.file_record(nb)})
    for name in ["defaults.yaml", *[f"{la}.yaml" for la in las]]:
        p = params_dir / name
        if p.is_file():
            recs.append({"role": "parameters", **mf.file_record(p)})
    return recs


def _run_record(r: NotebookResult, restricted_dir: Path) -> dict[str, Any]:
    return {"notebook": r.job.name, "la_code": r.job.la_code, "period_end": r.job.period_end,
            "ok": r.ok, "seconds": round(r.seconds, 3), "error": r.error,
            "parameters": r.job.parameters,
            "executed": (r.output_path.relative_to(restricted_dir).as_posix()
                         if r.output_path else None)}


def _fail(result: RunResult, message: str, run_id: str, started: str, period_restricted: Path,
          staging: Path, runs: list, timings: dict, *, quarantine: bool = False,
          reports_dir: Path) -> None:
    """Record a failed run in restricted/, clear or quarantine the staging, raise."""
    if staging.exists():
        if quarantine:
            target = period_restricted / f"quarantine-{run_id}"
            shutil.move(str(staging), str(target))
            message += f"\nThe files that were to be published are kept in {target} for review."
        else:
            shutil.rmtree(staging, ignore_errors=True)
    man = mf.build_manifest(
        run_id=run_id, started=started, finished=mf.now_iso(), status="failed",
        period_end=result.period_end, la_codes=result.la_codes, notebooks=result.notebooks,
        formats=result.formats, renderer=result.renderer, options={"reports_dir": str(reports_dir)},
        inputs=[], runs=runs, outputs=[], restricted_outputs=[], timings=timings,
        failures=result.failures, leaks=result.leaks)
    path = mf.write_manifest(period_restricted / "runs" / f"{run_id}-failed.json", man)
    result.manifest_path = path
    result.ok = False
    raise RunError(message + f"\nFailed-run manifest: {path}", result)
