"""The first stage of a run: a ``RunConfig`` becomes a ``RunPlan``.

``prepare`` checks the options before anything runs (formats, folders, notebooks,
renderer), makes sure the measures table holds the period (the measures step's
``table.ensure_period``, which computes it from the warehouse when missing), picks the
LAs, reads their parameter files and names the run. Everything later stages need is
in the plan, resolved to absolute paths, so no stage looks anything up for itself.
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
from csc_outcomes import warehouse as wh
from csc_outcomes.measures import table
from csc_outcomes.reporting import manifest as mf
from csc_outcomes.reporting import render_quarto
from csc_outcomes.reporting.config import (
    DEFAULT_NOTEBOOKS,
    FORMATS,
    RunConfig,
    RunError,
    RunResult,
)
from csc_outcomes.reporting.parameters import load_defaults, load_la_parameters


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

    @property
    def period_restricted(self) -> Path:
        """``restricted/<period>``: executed notebooks, failed-run records, quarantine."""
        return self.restricted_dir / self.period_end

    @property
    def staging(self) -> Path:
        """Where rendered files wait for the leak scan, outside ``reports/``."""
        return self.period_restricted / f".staging-{self.run_id}"

    @property
    def shared_dir(self) -> Path:
        """The run's cache of pooled models (child-level: restricted, removed after)."""
        return self.period_restricted / f".shared-{self.run_id}"

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


def prepare(config: RunConfig) -> RunPlan:
    """Check ``config`` and resolve it into a plan; raises ``RunError`` before anything runs."""
    started, clock = mf.now_iso(), time.perf_counter()
    try:
        period = table.period_text(config.period_end)
    except ValueError as exc:
        raise RunError(str(exc)) from exc
    formats = checked_formats(config.formats)
    reports_dir, restricted_dir = checked_folders(config.reports_dir, config.restricted_dir)
    params_dir = Path(config.parameters_dir or paths.parameters_dir()).resolve()
    nb_dir = Path(config.notebooks_dir or paths.notebooks_dir()).resolve()
    defaults = load_defaults(params_dir)
    renderer = choose_renderer(config.renderer)
    notebooks = notebook_paths(config.notebooks, nb_dir, defaults)
    warehouse = Path(config.warehouse).resolve()
    measures_path = Path(config.measures_path).resolve()
    t0 = time.perf_counter()
    computed = measures_for_period(warehouse, measures_path, period,
                                   log=to_stderr if config.progress else None)
    measures_seconds = time.perf_counter() - t0
    las = run_las(config.la_codes, measures_path, period)
    return RunPlan(
        config=config, run_id=new_run_id(), started=started, clock=clock, period_end=period,
        la_codes=las, notebooks=notebooks, formats=formats, renderer=renderer,
        warehouse=warehouse, measures_path=measures_path, reports_dir=reports_dir,
        restricted_dir=restricted_dir, parameters_dir=params_dir, notebooks_dir=nb_dir,
        defaults=defaults, la_parameters={la: load_la_parameters(la, params_dir) for la in las},
        measures_computed=computed, measures_seconds=measures_seconds)


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
    """Have the period's measures on disk (True when computed now); warn on thin coverage."""
    try:
        computed = table.ensure_period(warehouse, measures_path, period_end, log)
    except table.MeasuresError as exc:
        raise RunError(str(exc)) from exc
    for warning in data_coverage_warnings(warehouse, period_end):
        if log:
            log(f"warning: {warning}")
    return computed


def run_las(la_codes: Sequence[str], measures_path: Path, period_end: str) -> tuple[str, ...]:
    """The LAs asked for, else every LA with measures for the period; ``RunError`` if none."""
    las = (sorted(dict.fromkeys(la_codes)) if la_codes
           else table.las_for_period(table.read(measures_path), period_end))
    if not las:
        raise RunError(f"no LA has measures for {period_end} in {measures_path}")
    return tuple(las)


def data_coverage_warnings(warehouse: str | Path, period_end: str) -> list[str]:
    """Warn when ``period_end`` falls after the latest return an LA supplied.

    A monthly run can be asked for a month the statutory returns do not reach yet;
    the figures are then computed on incomplete data (episodes look open, referrals
    missing), so the run says so rather than publishing them silently. A warehouse
    without the ``supplied`` table (written by an older kit) gives no warning.
    """
    path = Path(warehouse)
    if not path.is_file() or "supplied" not in wh.table_names(path):
        return []
    supplied = wh.read_table(path, "supplied")
    if supplied.empty or "collection_year" not in supplied.columns:
        return []
    returns = (supplied[supplied["source"].isin(["ssda903", "cin"])]
               if "source" in supplied else supplied)
    latest = returns.groupby("la_code")["collection_year"].max().dropna()
    end = pd.Timestamp(period_end)
    behind = sorted(str(la) for la, year in latest.items() if pd.Timestamp(int(year), 3, 31) < end)
    if not behind:
        return []
    years = sorted({int(latest[la]) for la in behind})
    more = " ..." if len(behind) > 10 else ""
    warning = (f"the period ending {period_end} is after the latest statutory return of "
               f"{len(behind)} LA(s) ({', '.join(behind[:10])}{more}; latest year ending "
               f"31 March {', '.join(map(str, years))}): their figures rest on incomplete "
               "data until the next return is ingested")
    return [warning]
