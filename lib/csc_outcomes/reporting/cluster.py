"""Notebook and model jobs on a Dask distributed cluster: ``run --cluster ADDRESS|local``.

Why. One machine runs two notebooks at once; a regional or national run of hundreds of
notebooks can use as many machines as a Dask scheduler has workers. Dask is an
existing engine with its own scheduling, worker supervision and retries, so the kit
only submits jobs and gathers results.

What travels. A job is a ``NotebookJob`` (file paths and parameters) or whatever
picklable item a caller maps over; a result is a ``NotebookResult``. Child-level data
never travels: the workers read the warehouse and write the executed notebooks on
storage every worker sees at the same paths (see ``docs/cluster.md``).

Failures. A notebook's error is a failed ``NotebookResult``, as with the default
runner (``execute_job`` never raises for one). A worker that dies while running a job
is replaced by the scheduler and the job runs again elsewhere, up to
``distributed.scheduler.allowed-failures`` times (``WORKER_LOSSES`` for a local
cluster); after that the job is a failed result naming ``KilledWorker``. An exception
a job raises is not retried (``retries=0`` unless a caller asks): it is a real error.

Stopping. A stopped run (Ctrl-C, SIGTERM) cancels the jobs not started and has the
workers kill the kernels of the notebooks in hand (``cluster_stop``), waiting for them
to end, so that nothing is written after the run has gone.

``local`` starts a ``LocalCluster`` of ``jobs`` single-threaded worker processes on
127.0.0.1, with TLS on temporary credentials (``Security.temporary``) so that no other
local user can submit work to it, and no dashboard.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import dask
from distributed import Client, Future, LocalCluster, as_completed, wait
from distributed.comm import parse_address

from csc_outcomes import stopping
from csc_outcomes.ingest import UsageError
from csc_outcomes.reporting.cluster_stop import execute_stoppable, stop_event
from csc_outcomes.reporting.papermill_runs import (
    KERNEL_NAME,
    NotebookJob,
    NotebookResult,
    ProgressFn,
    ensure_kernel,
    work_folders,
)

#: ``--cluster local``: a cluster of this machine's processes, started for the run.
LOCAL = "local"
#: How long to wait for a scheduler to answer (seconds).
CONNECT_TIMEOUT = 10
#: How many workers may die running one job before it fails (a local cluster's setting).
WORKER_LOSSES = 3
#: How long a stopped run waits for the notebooks the workers have in hand to end, their
#: kernels killed (``cluster_stop``), before it goes, whatever the scheduler does (seconds).
STOP_WAIT = 30

Item = TypeVar("Item")
Result = TypeVar("Result")


@contextmanager
def connect(address: str, workers: int = 2) -> Iterator[Client]:
    """A client of the scheduler at ``address``, or of a new local cluster of ``workers``
    processes for ``local``; closed (and the local cluster shut down) on leaving. Not
    made the process's default client: ``submit_all`` names the one it uses."""
    if address != LOCAL:
        with Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False) as client:
            yield client
        return
    # The scheduler runs in this process, so this setting is the one it uses.
    with dask.config.set({"distributed.scheduler.allowed-failures": WORKER_LOSSES}), \
            LocalCluster(n_workers=max(1, workers), threads_per_worker=1, processes=True,
                         host="127.0.0.1", dashboard_address=None, security=True,
                         silence_logs=logging.ERROR) as cluster, \
            Client(cluster, set_as_default=False) as client:
        yield client


def submit_all(client: Client, fn: Callable[..., Result], items: Sequence[Item], *,
               retries: int = 0, on_error: Callable[[Item, BaseException], Result] | None = None,
               progress: Callable[[int, int, Result], None] | None = None,
               on_stop: Callable[[], None] | None = None, **kwargs: Any) -> list[Result]:
    """``fn(item, **kwargs)`` for each of ``items`` on the cluster; results in their order.

    ``fn`` must be importable on the workers (a module-level function of the kit) and
    ``items`` picklable. A job that raises (or whose workers kept dying) becomes
    ``on_error(item, exception)``; without ``on_error`` the other jobs are cancelled
    and the exception is raised. ``progress(done, total, result)`` is called here, on
    the client, as each job finishes. Stopped (Ctrl-C, SIGTERM): :func:`stopped`.
    """
    futures: list[Future] = []
    try:
        for item in items:  # a stop while submitting reaches the jobs submitted so far
            futures.append(client.submit(fn, item, pure=False, retries=retries, **kwargs))
        return gathered(client, futures, items, on_error, progress)
    except KeyboardInterrupt:
        stopped(client, futures, on_stop)
        raise


def gathered(client: Client, futures: list[Future], items: Sequence[Item],
             on_error: Callable[[Item, BaseException], Result] | None,
             progress: Callable[[int, int, Result], None] | None) -> list[Result]:
    """``submit_all``'s results, in the items' order, as the jobs finish."""
    where = {fut.key: i for i, fut in enumerate(futures)}
    results: dict[int, Result] = {}
    with client.as_current():  # as_completed asks for the current client
        for done, fut in enumerate(as_completed(futures), start=1):
            i = where[fut.key]
            try:
                results[i] = fut.result()
            except Exception as exc:
                if on_error is None:
                    client.cancel(futures)
                    raise
                results[i] = on_error(items[i], exc)
            stopping.check()
            if progress:
                progress(done, len(items), results[i])
    return [results[i] for i in range(len(items))]


def stopped(client: Client, futures: list[Future], on_stop: Callable[[], None] | None) -> None:
    """After a stop: the jobs not started are cancelled; with ``on_stop`` (which tells the
    workers to end the jobs in hand: ``cluster_stop``), those are waited for, so that none
    writes after the run has cleaned up and gone. All of it within ``STOP_WAIT`` seconds:
    a scheduler that does not answer (frozen, cut off) must not hold the stop, and the
    signals after the first are only recorded (``stopping``), so nothing else would end it.

    Dask cannot interrupt a running task, and a cancelled one runs on: without
    ``on_stop`` (the model fits, which write only complete cache entries) they are left."""
    deadline = time.monotonic() + STOP_WAIT
    ending = threading.Thread(target=end_jobs, args=(client, futures, on_stop, deadline),
                              name="csc-outcomes-stop", daemon=True)
    ending.start()
    ending.join(STOP_WAIT)


def end_jobs(client: Client, futures: list[Future], on_stop: Callable[[], None] | None,
             deadline: float) -> None:
    """:func:`stopped`'s work, which may wait on the scheduler; its waiting ends by
    ``deadline`` (``time.monotonic``)."""
    with contextlib.suppress(Exception):  # a scheduler gone: nothing left to end there
        if on_stop is not None:
            on_stop()  # first: a job starting from now on sees it, and does not run
        running = {key for keys in client.processing().values() for key in keys}
        client.cancel([f for f in futures if f.key not in running])
        if on_stop is not None:
            with client.as_current(), contextlib.suppress(TimeoutError):
                wait([f for f in futures if f.key in running],
                     timeout=max(0.1, deadline - time.monotonic()))
        client.cancel(futures)


def map_on_cluster(address: str, fn: Callable[..., Result], items: Sequence[Item], *,
                   workers: int = 2, **options: Any) -> list[Result]:
    """``submit_all`` on a client of ``address`` (``local``: ``workers`` processes) opened
    for these jobs alone; the pooled-model stage calls this with its fits."""
    if not items:
        return []
    with connect(address, workers) as client:
        return submit_all(client, fn, items, **options)


def failed_result(job: NotebookJob, exc: BaseException) -> NotebookResult:
    """A job the cluster could not run (its workers died, or it raised) as a failed run."""
    return NotebookResult(job=job, ok=False, seconds=0.0,
                          error=f"{type(exc).__name__} on the Dask cluster: {exc}")


def run_notebooks(jobs: Sequence[NotebookJob], *, address: str, max_workers: int = 2,
                  kernel_name: str = KERNEL_NAME, progress: ProgressFn | None = None,
                  timeout: int | None = 1800) -> list[NotebookResult]:
    """``papermill_runs.run_notebooks`` on a cluster: the same results, in the same order.

    ``max_workers`` is the size of a ``local`` cluster; a remote one has its own workers.
    Every worker first checks that its kernel runs its own Python (``ensure_kernel``).
    A scheduler that cannot be reached fails every job (the run then fails, naming it).

    A ``local`` cluster's workers are gone once it is shut down, however the jobs ended
    (a stop kills them mid-notebook, a worker that died was replaced): papermill's
    folders they left are removed then, not at the next run. A remote cluster's workers
    may still be running a cancelled job, so theirs are left for the next run to clear.
    """
    if not jobs:
        return []
    try:
        with connect(address, min(max_workers, len(jobs))) as client:
            client.run(ensure_kernel, kernel_name)
            stop = stop_event(client)
            return submit_all(client, execute_stoppable, jobs, stop=stop.name,
                              kernel_name=kernel_name, timeout=timeout, on_error=failed_result,
                              progress=progress, on_stop=stop.set)
    except OSError as exc:
        return [failed_result(job, exc) for job in jobs]
    finally:
        if address == LOCAL:
            for folder in work_folders(jobs):
                shutil.rmtree(folder, ignore_errors=True)


def check_address(address: str, paths: Sequence[Path] = ()) -> None:
    """Refuse (``UsageError``, exit 2) a cluster the run cannot use, before anything runs.

    ``local`` is always usable. Otherwise the scheduler must answer within
    ``CONNECT_TIMEOUT`` seconds, have at least one worker, and every worker must see
    each of ``paths`` (the run's inputs) at the same place as this machine.
    """
    if address == LOCAL:
        return
    try:
        parse_address(address, strict=True)
    except ValueError:
        raise UsageError(f"--cluster {address}: not a scheduler address; give one such as "
                         "tcp://host:8786, or 'local' for a cluster on this machine") from None
    try:
        with Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False) as client:
            workers = client.scheduler_info().get("workers", {})
            unseen = unseen_paths(client, paths) if workers else {}
    except OSError as exc:
        raise UsageError(f"--cluster {address}: no Dask scheduler answered ({exc}). Start "
                         f"one ('dask scheduler' on that host, workers with 'dask worker "
                         f"{address}'), check the address and the network, or use "
                         "--cluster local") from None
    if not workers:
        raise UsageError(f"--cluster {address}: the scheduler has no workers; start some "
                         f"with 'dask worker {address}' on machines that see this run's files")
    if unseen:
        listed = "; ".join(f"{w} cannot see {', '.join(p)}" for w, p in sorted(unseen.items()))
        raise UsageError(f"--cluster {address}: {listed}. Workers must see the warehouse, "
                         "notebooks and restricted tree at the same paths as this machine "
                         "(a shared file system mounted at the same place)")


def unseen_paths(client: Client, paths: Sequence[Path]) -> dict[str, list[str]]:
    """Each worker's list of ``paths`` it cannot see (workers that see them all omitted)."""
    wanted = [str(Path(p).resolve()) for p in paths]
    seen = client.run(existing, wanted)
    return {w: [p for p in wanted if p not in found] for w, found in seen.items()
            if set(found) != set(wanted)}


def existing(paths: Sequence[str]) -> list[str]:
    """Those of ``paths`` that exist on this machine (run on each worker)."""
    return [p for p in paths if os.path.exists(p)]
