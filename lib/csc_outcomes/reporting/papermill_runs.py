"""Execute parameterised notebooks with papermill: one run per (notebook, LA, period).

Kernel. Notebooks run in the kernel named ``python3`` (``KERNEL_NAME``). Its spec is the
one ``ipykernel install --sys-prefix`` writes into the environment's own
``share/jupyter/kernels/python3``; its command is ``python -m ipykernel_launcher``, and
``jupyter_client`` replaces a bare ``python`` with the interpreter that runs papermill,
so the notebooks import the same ``csc_outcomes`` and pandas as the caller.
``ensure_kernel()`` checks that and installs the spec (``--sys-prefix``) when it is
missing; it refuses a ``python3`` spec that points at another interpreter.

Parallelism. Each run starts its own kernel process; the runs are driven from a thread
pool (``jobs`` threads, default 2 for a 2-core machine). Kernel start-up is ~2 s a run.
With ``cluster=`` they run on a Dask cluster instead (``reporting.cluster``).

Failures. A failing notebook does not stop the others; ``run_notebooks`` returns every
result and ``raise_for_failures`` raises ``NotebookRunError`` naming each notebook and
LA with the cell that failed and the error. Papermill still writes the executed
notebook (with the error cell) so it can be opened in JupyterLab.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import nbformat
import papermill as pm
from ipykernel.kernelspec import install as install_kernel
from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
from papermill.exceptions import PapermillExecutionError
from traitlets.config import Config

from csc_outcomes import atomic, stopping
from csc_outcomes.reporting import warm_kernels
from csc_outcomes.reporting.config import KERNEL_NAME
from csc_outcomes.reporting.warm_kernels import WarmKernelManager
from csc_outcomes.reporting.worker_pool import cancelled_on_exit

#: The start of papermill's private folder beside an executed notebook.
WORK_PREFIX = ".papermill-"

#: Bare interpreter names that jupyter_client swaps for ``sys.executable``.
_SELF_PYTHON = {"python", f"python{sys.version_info[0]}",
                "python{}.{}".format(*sys.version_info[:2])}


class KernelSetupError(RuntimeError):
    """The notebook kernel is missing or runs another Python environment."""


class NotebookRunError(RuntimeError):
    """One or more notebooks failed; ``failures`` holds their ``NotebookResult``s."""

    def __init__(self, failures: Sequence[NotebookResult]):
        self.failures = list(failures)
        super().__init__(format_failures(self.failures))


@dataclass(frozen=True)
class NotebookJob:
    """One execution: a source notebook, an LA, a period, parameters and an output path."""

    notebook: Path
    la_code: str
    period_end: str
    output_path: Path
    parameters: dict[str, Any] = field(default_factory=dict)
    cwd: Path | None = None

    @property
    def name(self) -> str:
        """The notebook's name (its file's stem): the report's name."""
        return Path(self.notebook).stem

    def describe(self) -> str:
        """Which notebook, LA and period, for messages."""
        return f"notebook '{self.name}' for LA {self.la_code}, period ending {self.period_end}"


@dataclass
class NotebookResult:
    """The outcome of one ``NotebookJob``."""

    job: NotebookJob
    ok: bool
    seconds: float
    output_path: Path | None = None
    error: str | None = None  # "ValueError: boom"
    error_cell: str | None = None  # the source of the cell that raised
    error_cell_index: int | None = None
    traceback: str | None = None

    def message(self) -> str:
        """The outcome in words: for a failure, the error, the cell and where to look."""
        if self.ok:
            return f"{self.job.describe()}: ok ({self.seconds:.1f}s)"
        lines = [f"{self.job.describe()} FAILED: {self.error}"]
        if self.error_cell is not None:
            where = f"cell {self.error_cell_index}" if self.error_cell_index is not None else "cell"
            lines.append(f"  in {where}:")
            lines.extend("    | " + ln for ln in self.error_cell.splitlines()[:15])
        if self.output_path is not None:
            lines.append(f"  executed notebook (with the error cell): {self.output_path}")
        return "\n".join(lines)


def format_failures(failures: Iterable[NotebookResult]) -> str:
    """One message naming every failed run."""
    failed = list(failures)
    return "\n".join([f"{len(failed)} notebook run(s) failed:", *(r.message() for r in failed)])


def raise_for_failures(results: Iterable[NotebookResult]) -> None:
    """Raise ``NotebookRunError`` when any of ``results`` failed."""
    failed = [r for r in results if not r.ok]
    if failed:
        raise NotebookRunError(failed)


# --------------------------------------------------------------------------- kernel
_kernel_lock = threading.Lock()


def ensure_kernel(name: str = KERNEL_NAME) -> dict[str, Any]:
    """Make sure kernel ``name`` exists and runs this interpreter; return its spec.

    Installs the spec into ``sys.prefix`` (``ipykernel install --sys-prefix``) when no
    spec of that name is found.
    """
    with _kernel_lock:
        ksm = KernelSpecManager()
        try:
            spec = ksm.get_kernel_spec(name)
        except NoSuchKernel:
            install_kernel(kernel_name=name, prefix=sys.prefix)
            spec = KernelSpecManager().get_kernel_spec(name)
        exe = spec.argv[0] if spec.argv else ""
        same = exe in _SELF_PYTHON or _same_file(exe, sys.executable)
        if not same:
            raise KernelSetupError(
                f"kernel '{name}' runs {exe!r} (spec in {spec.resource_dir}), not this "
                f"environment's {sys.executable}. Fix: '{sys.executable} -m ipykernel install "
                f"--sys-prefix --name {name}' and remove the other spec, or pass another "
                "kernel name."
            )
        return {"name": name, "argv": list(spec.argv), "resource_dir": spec.resource_dir,
                "python": sys.executable}


def _same_file(a: str, b: str) -> bool:
    try:
        pa = shutil.which(a) or a
        return os.path.samefile(pa, b)
    except OSError:
        return False


def work_folders(jobs: Iterable[NotebookJob]) -> list[Path]:
    """Papermill's private folders (``execute_job``) beside ``jobs``' notebooks: what a
    worker process killed mid-notebook leaves behind (empty or a half-run notebook)."""
    return sorted({folder for job in jobs
                   for folder in Path(job.output_path).parent.glob(
                       f"{WORK_PREFIX}{Path(job.output_path).stem}.*")
                   if folder.is_dir() and not folder.is_symlink()})


# --------------------------------------------------------------------------- execution
def execute_job(job: NotebookJob, *, kernel_name: str = KERNEL_NAME,
                timeout: int | None = 1800, fork_server: str | None = None,
                run_token: str = "") -> NotebookResult:
    """Run one notebook with papermill; never raises for a notebook error.

    Papermill writes into a private folder beside the target (``.papermill-*``, which
    the next run clears if this one is killed); the notebook it wrote (with the error
    cell, when a cell failed) is then moved into place atomically and owner-only (it
    may hold child-level data), so no half-written notebook is ever left at
    ``output_path``.
    """
    out = Path(job.output_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    cwd = Path(job.cwd) if job.cwd else out.parent
    cwd.mkdir(parents=True, exist_ok=True)
    result = NotebookResult(job=job, ok=False, seconds=0.0)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix=f"{WORK_PREFIX}{out.stem}.", dir=out.parent) as work:
        executed = Path(work) / out.name
        run_papermill(job, executed, cwd, result, kernel_name=kernel_name, timeout=timeout,
                      fork_server=fork_server, run_token=run_token)
        result.seconds = time.perf_counter() - t0
        if executed.is_file() and executed.stat().st_size > 0:
            with atomic.atomic_path(out, mode=0o600) as tmp:
                executed.replace(tmp)
            result.output_path = out
    return result


def run_papermill(job: NotebookJob, executed: Path, cwd: Path, result: NotebookResult, *,
                  kernel_name: str, timeout: int | None, fork_server: str | None = None,
                  run_token: str = "") -> None:
    """Execute ``job`` into ``executed``; record success or the error in ``result``.

    ``fork_server``: the socket of ``warm_kernels.fork_server``, to fork the kernel from
    it; ``None``, a kernel started from scratch. ``run_token``: the run's, so that its
    kernels can be stopped together (``warm_kernels.stop_kernels``).
    """
    socket_dir = tempfile.mkdtemp(prefix="csc-kernel-")
    try:
        pm.execute_notebook(
            str(Path(job.notebook).resolve()), str(executed.resolve()),
            parameters=declared_parameters(job.notebook, job.parameters),
            kernel_name=kernel_name, progress_bar=False, log_output=False,
            # written once, when it has run (or failed in a cell), not again at every
            # cell's start and end: 50 writes of the whole notebook, its figures
            # included, were a third of a second of this process's time per notebook
            request_save_on_cell_execute=False,
            execution_timeout=timeout, config=_kernel_config(socket_dir, fork_server, run_token),
            kernel_manager_class=WarmKernelManager,
            # The kernel's own log (start-up notices, the interrupt at shutdown) is noise
            # on the console; a notebook's errors still reach us as cell errors.
            extra_arguments=["--IPKernelApp.log_level=CRITICAL"],
            # The kernel's working folder, given to nbclient rather than papermill's
            # ``cwd``: that one chdir()s the whole process, which races between the
            # threads running notebooks in parallel and can leave the run elsewhere.
            resources={"metadata": {"path": str(cwd.resolve())}},
        )
        result.ok = True
    except PapermillExecutionError as exc:
        result.error = f"{exc.ename}: {exc.evalue}"
        result.error_cell = exc.source
        result.error_cell_index = exc.cell_index
        result.traceback = "\n".join(exc.traceback or [])
    except Exception as exc:  # noqa: BLE001 - kernel died, bad notebook...: a failed run
        result.error = f"{type(exc).__name__}: {exc}"
    finally:
        shutil.rmtree(socket_dir, ignore_errors=True)


def _kernel_config(socket_dir: str, fork_server: str | None, run_token: str = "") -> Any:
    """Talk to the kernel over IPC sockets in a private folder, not loopback TCP; fork it
    from ``fork_server`` when there is one.

    Notebooks handle child-level data: TCP would carry it in plain text to any local
    user (ipykernel warns about that on every start), while a ``mkdtemp`` folder is
    readable by this user alone. One folder per kernel, because kernels started in
    parallel would otherwise race for the same socket names.
    """
    return Config({"KernelManager": {"transport": "ipc", "ip": os.path.join(socket_dir, "kernel")},
                   "WarmKernelManager": {"fork_server": fork_server or "", "run_token": run_token}})


def declared_parameters(notebook: str | Path, parameters: dict[str, Any]) -> dict[str, Any]:
    """The subset of ``parameters`` the notebook's ``parameters`` cell declares.

    The run passes a standard set (la_code, period_end, warehouse, measures_path,
    output_dir, la_name, comparators, suppression_threshold); a notebook takes those it
    declares. A notebook without a parameters cell gets them all (papermill injects
    them at the top).
    """
    try:
        declared = pm.inspect_notebook(str(notebook))
    except Exception:  # noqa: BLE001 - let execution report a broken notebook
        return dict(parameters)
    if not declared:
        return dict(parameters)
    return {k: v for k, v in parameters.items() if k in declared}


ProgressFn = Callable[[int, int, NotebookResult], None]


def print_progress(done: int, total: int, result: NotebookResult) -> None:
    """Default progress: one line a run on stderr."""
    status = "ok" if result.ok else "FAILED"
    print(f"[{done}/{total}] {result.job.name} {result.job.la_code} {result.job.period_end}: "
          f"{status} ({result.seconds:.1f}s)", file=sys.stderr, flush=True)


def run_notebooks(jobs: Sequence[NotebookJob], *, max_workers: int = 2,
                  kernel_name: str = KERNEL_NAME, progress: ProgressFn | None = print_progress,
                  timeout: int | None = 1800, cluster: str | None = None,
                  warm: bool = True) -> list[NotebookResult]:
    """Execute ``jobs`` (up to ``max_workers`` at once); results in the jobs' order.

    ``cluster``: a Dask scheduler's address, or ``local``, to run them there instead
    (``reporting.cluster``); ``None``, threads here. ``warm``: fork the kernels from a
    server that has imported the notebooks' libraries (``warm_kernels``); ``False``,
    start each from scratch.
    """
    if not jobs:
        return []
    if cluster:
        # the cluster module imports this one, and Dask takes ~2 s to load
        from csc_outcomes.reporting import cluster as dask_cluster  # noqa: PLC0415

        return dask_cluster.run_notebooks(jobs, address=cluster, max_workers=max_workers,
                                          kernel_name=kernel_name, progress=progress,
                                          timeout=timeout)
    ensure_kernel(kernel_name)
    notebooks = dict.fromkeys(Path(job.notebook) for job in jobs) if warm else {}
    # a notebook given its prepared sections reads no model (``reporting.sections``)
    held = (warm_kernels.held_models(job.parameters for job in jobs
                                     if not job.parameters.get("prepared")) if warm else [])
    with (warm_kernels.run_kernels() as token, quiet_once_stopped(token) as stop,
          warm_kernels.fork_server(notebooks, held) if warm else nullcontext() as server):
        return run_threads(jobs, max_workers, progress,
                           partial(execute_job, kernel_name=kernel_name, timeout=timeout,
                                   fork_server=server, run_token=token),
                           stop_running=stop)


@contextmanager
def quiet_once_stopped(run_token: str) -> Iterator[Callable[[], None]]:
    """What stops the run's kernels (``warm_kernels.stop_kernels``), silencing papermill's
    log from then on: its "Kernel died while waiting for execute reply" is about the
    kernels just killed on purpose, and read as a failure after Ctrl-C. The log's level
    is put back afterwards."""
    log = logging.getLogger("papermill")
    level = log.level

    def stop() -> None:
        log.setLevel(logging.CRITICAL + 1)
        warm_kernels.stop_kernels(run_token)
    try:
        yield stop
    finally:
        log.setLevel(level)


def run_threads(jobs: Sequence[NotebookJob], max_workers: int, progress: ProgressFn | None,
                execute: Callable[[NotebookJob], NotebookResult], *,
                stop_running: Callable[[], None] | None = None) -> list[NotebookResult]:
    """``execute`` each job on ``max_workers`` threads; results in the jobs' order.

    Interrupted (Ctrl-C), no job not yet started starts, and ``stop_running`` is called
    (``warm_kernels.stop_kernels``: the running kernels are killed, so their notebooks
    end at once as failed) before the running jobs are waited for.
    """
    results: dict[int, NotebookResult] = {}
    workers = max(1, min(int(max_workers), len(jobs)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="papermill") as pool:
        futures: dict[Future[NotebookResult], int] = {}
        with cancelled_on_exit(futures, stop_running):  # the submitting included
            futures.update({pool.submit(execute, job): i for i, job in enumerate(jobs)})
            for done, fut in enumerate(as_completed(futures), start=1):
                i = futures[fut]
                results[i] = fut.result()
                stopping.check()
                if progress:
                    progress(done, len(jobs), results[i])
    return [results[i] for i in range(len(jobs))]


def error_cells(path: str | Path) -> list[dict[str, Any]]:
    """The cells of an executed notebook whose outputs hold an error."""
    nb = nbformat.read(str(path), as_version=4)
    found = []
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                found.append({"index": i, "source": cell.source,
                              "error": f"{out.get('ename')}: {out.get('evalue')}"})
    return found
