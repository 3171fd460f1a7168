"""What a report run takes (``RunConfig``) and gives back (``RunResult`` or ``RunError``).

The commands (``run``, ``demo``, ``reproduce``) build one frozen ``RunConfig`` from
their options, parameter files and manifest; ``reporting.run.run`` turns it into
published reports. Keeping every option in one value means a stage cannot quietly
read a setting from anywhere else, and a run can be repeated from what it recorded.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: The Jupyter kernel notebooks run in (``papermill_runs.ensure_kernel`` checks it). Here,
#: not there, so that a notebook reading the parameter rules does not import papermill.
KERNEL_NAME = "python3"
#: Formats a run can publish.
FORMATS = ("html", "pdf")
#: The kit's notebooks, in report order, when neither options nor defaults.yaml name any.
DEFAULT_NOTEBOOKS = ("cohort_outcomes", "rereferrals", "placement_stability", "proportionality")


@dataclass(frozen=True)
class RunConfig:
    """The options of one report run; paths may be relative to the working folder.

    Empty ``la_codes`` means every LA with measures for the period; empty ``notebooks``
    means ``notebooks`` in ``defaults.yaml``, else ``DEFAULT_NOTEBOOKS``. Folders left
    ``None`` are the kit's own (``csc_outcomes.paths``). ``identifiers`` overrides the
    child identifiers read from the warehouse for the leak scan (tests use it).
    ``extra_parameters`` are passed to every notebook on top of the standard ones.
    ``period_end`` may be ``latest_covered``: the latest period end the loaded returns
    of every LA of the run cover (``measures.coverage``). ``allow_incomplete`` accepts
    a period past an LA's latest return; every page published for it then carries an
    "incomplete data" banner. ``force`` runs every notebook again, reusing nothing a
    run kept (``incremental``).
    """

    period_end: str
    warehouse: Path
    measures_path: Path
    la_codes: tuple[str, ...] = ()
    reports_dir: Path = Path("reports")
    restricted_dir: Path = Path("restricted")
    formats: tuple[str, ...] = ("html",)
    jobs: int = 2
    notebooks: tuple[str, ...] = ()
    notebooks_dir: Path | None = None
    parameters_dir: Path | None = None
    renderer: str = "auto"
    identifiers: frozenset[str] | None = None
    kernel_name: str = KERNEL_NAME
    progress: bool = True
    extra_parameters: Mapping[str, Any] = field(default_factory=dict)
    allow_incomplete: bool = False
    #: a Dask scheduler's address (``tcp://host:8786``) or ``local``: the notebooks run
    #: there (``reporting.cluster``); ``None``: threads on this machine
    cluster: str | None = None
    force: bool = False
    #: fork each notebook's kernel from a process that has imported the notebooks'
    #: libraries (``reporting.warm_kernels``); ``False``: start each from scratch
    warm_kernels: bool = True
    #: work each report's sections out before its notebook, in worker processes
    #: (``reporting.sections``); ``False``: each notebook works its own out
    prepare: bool = True


@dataclass
class RunResult:
    """What a run did; filled in stage by stage, ``ok`` once it has published."""

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
    #: one record per report not published (la_code, notebook, stage, cell, error)
    failed: list[dict[str, Any]] = field(default_factory=list)
    leaks: list[str] = field(default_factory=list)
    timings: dict[str, Any] = field(default_factory=dict)
    measures_computed: bool = False
    #: one manifest record per notebook run (see ``manifest.run_record``)
    runs: list[dict[str, Any]] = field(default_factory=list)
    #: pooled model -> its cache key (``stages.fit_pooled_models``)
    models: dict[str, str] = field(default_factory=dict)
    #: "<LA>/<notebook>" -> ran, rendered (ran before, rendered now) or reused (``incremental``)
    reuse: dict[str, str] = field(default_factory=dict)
    #: "<LA>/<notebook>" -> the job's key: what its report depends on (``incremental``)
    keys: dict[str, str] = field(default_factory=dict)


class RunError(RuntimeError):
    """A run failed; ``result`` holds what was done (nothing was published).

    ``exit_code`` is the command's: 1 (the run or its data failed) unless the options
    asked for the impossible (2, e.g. a period before any return).
    """

    def __init__(self, message: str, result: RunResult | None = None, exit_code: int = 1):
        super().__init__(message)
        self.result = result
        self.exit_code = exit_code
