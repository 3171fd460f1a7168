"""The first stage of a run: a ``RunConfig`` becomes a ``RunPlan``.

``prepare`` checks the options before anything runs (formats, folders, notebooks,
renderer), checks the period against the returns loaded (``measures.coverage``: a
period before an LA's first return is refused with exit 2, one past its latest return
with exit 1 unless ``allow_incomplete``, which sets the banner every page will carry),
records what the warehouse was built from (its raw input files and content hash, at
the run's start), makes sure the measures table holds the period (the measures step's
``table.ensure_period``, which computes it from the warehouse when missing), takes the
run's own copy of the rows it reads (``measures_rows``: the period and the earlier
ones the returns cover; ``write_measures`` writes them to ``measures_path`` in the
restricted tree, where no later run changes them), picks the LAs, reads their
parameter files and names the run. Everything later stages need is in the plan,
resolved to absolute paths, so no stage looks anything up for itself.
"""

from __future__ import annotations

import datetime as dt
import secrets
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from csc_outcomes import paths
from csc_outcomes.measures import table
from csc_outcomes.measures.coverage import (
    Coverage,
    PeriodCheck,
    PeriodNotCovered,
    period_spelling,
    read_coverage,
)
from csc_outcomes.reporting import manifest as mf
from csc_outcomes.reporting import practice_context, render_quarto
from csc_outcomes.reporting.config import (
    DEFAULT_NOTEBOOKS,
    FORMATS,
    RunConfig,
    RunError,
    RunResult,
)
from csc_outcomes.reporting.parameters import load_defaults, load_la_parameters
from csc_outcomes.warehouse import WarehouseSchemaError


@dataclass(frozen=True)
class RunPlan:
    """A run's resolved options: absolute paths, its LAs and notebooks, its id."""

    config: RunConfig
    run_id: str
    started: str  # ISO time, for the manifest
    clock: float  # time.perf_counter() at the start, for the total time
    period_end: str
    la_codes: tuple[str, ...]
    notebooks: tuple[Path, ...]
    formats: tuple[str, ...]
    renderer: str
    warehouse: Path
    measures_path: Path
    reports_dir: Path
    restricted_dir: Path
    parameters_dir: Path
    notebooks_dir: Path
    defaults: Mapping[str, Any]
    la_parameters: Mapping[str, Mapping[str, Any]]
    measures_computed: bool
    measures_seconds: float
    measures_table: Path  # the shared measures table the run's rows come from
    measures_rows: pd.DataFrame  # what the notebooks read (written by ``write_measures``)
    measures_snapshot: Path  # the run's own file of them, kept in the restricted tree
    period_check: PeriodCheck  # the period against the run's LAs' returns
    coverage: Coverage
    inputs: Mapping[str, Any]  # the warehouse's raw inputs and content hash, at the start
    job_keys: Mapping[str, str] | None = None  # "<LA>/<notebook>" -> key (``incremental``)

    @property
    def period_restricted(self) -> Path:
        """``restricted/<period>``: executed notebooks, failed-run records, quarantine."""
        return self.restricted_dir / self.period_end

    @property
    def workdir(self) -> Path:
        """The run's own restricted folder (``workspace``): removed when the run ends."""
        return self.period_restricted / f".run-{self.run_id}"

    @property
    def staging(self) -> Path:
        """Where rendered files wait for the leak scan, outside ``reports/``."""
        return self.workdir / "staging"

    @property
    def shared_dir(self) -> Path:
        """The run's shared folder: the published figures, read once for every
        notebook (``pooled.shared_result``; restricted, removed after the run). The
        pooled models have a cache of their own (``model_cache``)."""
        return self.workdir / "shared"

    @property
    def project(self) -> Path:
        """The folder the manifest's paths are relative to: the reports folder's parent."""
        return self.reports_dir.parent

    @property
    def incomplete(self) -> str | None:
        """The banner every published page carries when the period is not fully covered."""
        return self.period_check.banner()

    def measures_record(self) -> dict[str, Any]:
        """The manifest's ``measures``: where the run's rows came from, their hashes."""
        return mf.measures_record(
            self.measures_rows, self.period_end, table_path=self.measures_table,
            snapshot=self.measures_snapshot, restricted_dir=self.restricted_dir,
            project=self.project, computed=self.measures_computed)

    def coverage_record(self) -> dict[str, Any]:
        """The manifest's ``coverage``: each LA's return years, the banner if any."""
        return {"years": {la: sorted(self.coverage.la_years(la)) for la in self.la_codes},
                "allow_incomplete": self.config.allow_incomplete, "incomplete": self.incomplete}

    @property
    def period_reports(self) -> Path:
        """``reports/<period>``: where this run publishes."""
        return self.reports_dir / self.period_end

    @property
    def threshold(self) -> int:
        """Counts from 1 to this are suppressed in what the notebooks show."""
        return int(self.defaults.get("suppression_threshold", 5))

    def la_name(self, la_code: str) -> str | None:
        """The LA's display name from ``parameters/<LA>.yaml``, if it has one."""
        name = self.la_parameters.get(la_code, {}).get("name")
        return str(name) if name else None

    def log(self, message: str) -> None:
        """A progress line on stderr, unless the run is quiet."""
        if self.config.progress:
            to_stderr(message)

    def new_result(self) -> RunResult:
        """An empty ``RunResult`` for this plan, for the stages to fill in."""
        return RunResult(period_end=self.period_end, la_codes=list(self.la_codes),
                         notebooks=[p.stem for p in self.notebooks], formats=list(self.formats),
                         renderer=self.renderer, measures_computed=self.measures_computed,
                         timings={"measures_s": round(self.measures_seconds, 3)})


def prepare(config: RunConfig, run_id: str | None = None) -> RunPlan:
    """Check ``config`` and resolve it into a plan; raises ``RunError`` before anything runs.

    ``run_id``: the id the run already holds its lock under (``run.run``); else a new one.
    """
    started, clock = mf.now_iso(), time.perf_counter()
    try:
        spelled = period_spelling(config.period_end)
    except ValueError as exc:
        raise RunError(str(exc), exit_code=2) from exc
    formats = checked_formats(config.formats)
    reports_dir, restricted_dir = checked_folders(config.reports_dir, config.restricted_dir)
    params_dir = Path(config.parameters_dir or paths.parameters_dir()).resolve()
    nb_dir = Path(config.notebooks_dir or paths.notebooks_dir()).resolve()
    defaults = load_defaults(params_dir)
    practice_context.check_folder(params_dir)  # a malformed context file: before anything runs
    renderer = choose_renderer(config.renderer)
    notebooks = notebook_paths(config.notebooks, nb_dir, defaults)
    warehouse = Path(config.warehouse).resolve()
    measures_table = Path(config.measures_path).resolve()
    cov = warehouse_coverage(warehouse)
    check = checked_period(cov, spelled, config.la_codes, config.allow_incomplete)
    period = check.period_end.isoformat()
    inputs = warehouse_inputs(warehouse, reports_dir.parent, restricted_dir / mf.MEMO_FOLDER,
                              to_stderr if config.progress else None)
    t0 = time.perf_counter()
    computed = measures_for_period(warehouse, measures_table, period,
                                   log=to_stderr if config.progress else None)
    rows = table.snapshot_rows(measures_table, period, keep=lambda f: cov.supported_mask(
        f, [(la, period) for la in (*check.behind, *check.gaps)]))
    measures_seconds = time.perf_counter() - t0
    las = run_las(config.la_codes, rows, period)
    run_id = run_id or new_run_id()
    snapshot = restricted_dir / period / "runs" / f"{run_id}-measures.csv"
    return RunPlan(
        config=config, run_id=run_id, started=started, clock=clock, period_end=period,
        la_codes=las, notebooks=notebooks, formats=formats, renderer=renderer,
        warehouse=warehouse, measures_path=snapshot, measures_snapshot=snapshot,
        reports_dir=reports_dir, restricted_dir=restricted_dir, parameters_dir=params_dir,
        notebooks_dir=nb_dir, defaults=defaults,
        la_parameters={la: load_la_parameters(la, params_dir) for la in las},
        measures_computed=computed, measures_seconds=measures_seconds,
        measures_table=measures_table, measures_rows=rows, period_check=check, coverage=cov,
        inputs=inputs)


def write_measures(plan: RunPlan) -> Path:
    """Write the run's rows of the measures table to ``plan.measures_snapshot`` (``0600``).

    Called once the run's restricted folders exist (they are created owner-only); the
    file is the run's own, named by its id, so no later run changes what this one read,
    and ``reproduce`` compares the measures recomputed then with it, value by value.
    """
    return table.write(plan.measures_rows, plan.measures_snapshot, mode=0o600)


def warehouse_coverage(warehouse: Path) -> Coverage:
    """The returns loaded in the warehouse; ``RunError`` when there is none to read."""
    try:
        return read_coverage(warehouse)
    except FileNotFoundError as exc:
        raise RunError(f"no warehouse at {warehouse}: a run reads the returns loaded there; "
                       "run 'csc-outcomes ingest INPUT' first") from exc
    except WarehouseSchemaError as exc:  # names table and column, says re-ingest
        raise RunError(str(exc)) from exc


def checked_period(cov: Coverage, period: str, la_codes: Sequence[str],
                   allow_incomplete: bool) -> PeriodCheck:
    """The period (``latest_covered`` resolved) checked against the LAs' returns.

    ``RunError`` with exit code 2 before an LA's first return, 1 past its latest return
    (unless ``allow_incomplete``). ``la_codes`` empty: every LA in the warehouse.
    """
    las = list(dict.fromkeys(la_codes)) or cov.la_codes
    try:
        return cov.require(cov.resolve(period, las), las, allow_incomplete=allow_incomplete)
    except PeriodNotCovered as exc:
        raise RunError(str(exc), exit_code=exc.exit_code) from exc


def warehouse_inputs(warehouse: Path, project: Path, memo_dir: Path,
                     log: Callable[[str], None] | None = None) -> dict[str, Any]:
    """What the warehouse was built from, for the manifest: ``RunError`` if unreadable.
    Its content hash is remembered by file identity in ``memo_dir`` (``restricted/digests``);
    ``log`` says when it is worked out."""
    try:
        return mf.warehouse_record(warehouse, project, memo_dir, log)
    except (OSError, ValueError) as exc:
        raise RunError(f"could not read what the warehouse {warehouse} was built from "
                       f"({type(exc).__name__}: {exc}); re-ingest: csc-outcomes ingest INPUT "
                       f"--warehouse {warehouse}") from exc


def to_stderr(message: str) -> None:
    """Print a progress line on stderr (stdout is left for a command's result)."""
    print(message, file=sys.stderr, flush=True)


def new_run_id() -> str:
    """A run id that sorts by time and does not collide: ``20260403T061502-a1b2c3``."""
    return dt.datetime.now().strftime("%Y%m%dT%H%M%S") + "-" + secrets.token_hex(3)


def checked_formats(formats: Sequence[str]) -> tuple[str, ...]:
    """``formats`` without repeats (``html`` when empty); ``RunError`` for an unknown one."""
    wanted = tuple(dict.fromkeys(formats or ("html",)))
    bad = [f for f in wanted if f not in FORMATS]
    if bad:
        raise RunError(f"unknown format(s) {bad}; use html and/or pdf")
    return wanted


def checked_folders(reports_dir: Path, restricted_dir: Path) -> tuple[Path, Path]:
    """Both folders resolved; the restricted one must not be published with the reports."""
    reports, restricted = Path(reports_dir).resolve(), Path(restricted_dir).resolve()
    if restricted == reports or reports in restricted.parents:
        raise RunError("the restricted folder must not be inside the reports folder")
    return reports, restricted


def choose_renderer(renderer: str = "auto") -> str:
    """``quarto`` or ``builtin``: ``auto`` takes Quarto when it is on PATH."""
    if renderer == "auto":
        return "quarto" if render_quarto.quarto_path() else "builtin"
    if renderer not in ("quarto", "builtin"):
        raise ValueError("renderer must be auto, quarto or builtin")
    if renderer == "quarto" and not render_quarto.quarto_path():
        raise RunError("renderer 'quarto' asked for, but quarto is not on PATH")
    return renderer


def notebook_paths(names: Sequence[str], notebooks_dir: Path,
                   defaults: Mapping[str, Any]) -> tuple[Path, ...]:
    """The source notebooks: by name in ``notebooks_dir`` or by path; ``RunError`` if absent."""
    found = []
    for name in list(names or defaults.get("notebooks") or DEFAULT_NOTEBOOKS):
        p = Path(name)
        if p.suffix != ".ipynb":
            p = notebooks_dir / f"{name}.ipynb"
        elif not p.is_absolute() and not p.exists():
            p = notebooks_dir / p.name
        if not p.is_file():
            known = ", ".join(sorted(f.stem for f in notebooks_dir.glob("*.ipynb"))) or "none"
            raise RunError(f"notebook {name!r} not found ({p}); available: {known}")
        found.append(p.resolve())
    return tuple(found)


def measures_for_period(warehouse: Path, measures_path: Path, period_end: str,
                        log: Callable[[str], None] | None) -> bool:
    """Have the period's measures on disk (True when computed now)."""
    try:
        return table.ensure_period(warehouse, measures_path, period_end, log)
    except table.MeasuresError as exc:
        raise RunError(str(exc)) from exc


def run_las(la_codes: Sequence[str], rows: pd.DataFrame, period_end: str) -> tuple[str, ...]:
    """The LAs asked for, else every LA with measures for the period; ``RunError`` if none."""
    las = sorted(dict.fromkeys(la_codes)) if la_codes else table.las_for_period(rows, period_end)
    if not las:
        raise RunError(f"no LA has measures for {period_end} that its returns cover")
    return tuple(las)
