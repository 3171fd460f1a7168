"""Pure-Python work of a run (trackers, built-in rendering) spread over worker processes.

Why. Writing an LA's RAG tracker (openpyxl, pandas) and rendering a report to HTML
(nbconvert, Jinja) are Python from end to end: in threads they take turns on one core.
At national scale that is 153 trackers and 612 renders, minutes of one core while the
other waits. ``map_in_processes`` runs such a function over the items in ``workers``
processes started fresh (``spawn``: the run process has DuckDB's and papermill's
threads, and forking a process with threads can deadlock the child), each result or
error coming back in the items' order. For a handful of items it runs them here:
starting a worker costs about a second.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.process import BaseProcess
from typing import Any, Generic, TypeVar

from csc_outcomes import stopping

T = TypeVar("T")
R = TypeVar("R")

#: Items per worker below which a stage runs them in this process instead.
INLINE_PER_WORKER = 4


@dataclass(frozen=True)
class Outcome(Generic[T, R]):
    """One item's result, or the error it raised (``error``: "TypeError: ...")."""

    item: T
    value: R | None
    error: str | None = None
    seconds: float = 0.0


def one_blas_thread(fn: Callable[..., R], item: Any, **kwargs: Any) -> R:
    """``fn(item, **kwargs)`` with the linear-algebra libraries (OpenBLAS, MKL) held to
    one thread, for work given a process per core: the pooled model fits run side by
    side, and each fit's BLAS starting a thread per core made them contend (the
    re-referral fit, national scale, alone on this 2-core machine: 64 s with BLAS's two
    threads, 49 s with one)."""
    from threadpoolctl import threadpool_limits  # noqa: PLC0415 - only the fitting workers

    with threadpool_limits(limits=1, user_api="blas"):
        return fn(item, **kwargs)


def run_one(fn: Callable[[T], R], item: T) -> Outcome[T, R]:
    """``fn(item)`` as an ``Outcome``: an error is caught and named, not raised."""
    t0 = time.perf_counter()
    try:
        return Outcome(item, fn(item), None, time.perf_counter() - t0)
    except Exception as exc:  # noqa: BLE001 - the stage names each failure and sets the LA aside
        return Outcome(item, None, f"{type(exc).__name__}: {exc}", time.perf_counter() - t0)


def map_in_processes(fn: Callable[[T], R], items: Sequence[T], workers: int, *,
                     progress: Callable[[int, int, Outcome[T, R]], None] | None = None,
                     inline_per_worker: int = INLINE_PER_WORKER) -> list[Outcome[T, R]]:
    """``fn`` over ``items`` in ``workers`` processes (``fn`` and the items picklable: a
    module-level function and plain values); the outcomes in the items' order.
    ``progress(done, total, outcome)`` is called here as each finishes; with at most
    ``inline_per_worker`` items a worker they run here (0: few long items)."""
    total = len(items)
    if workers <= 1 or total <= max(1, workers * inline_per_worker):
        outcomes = []
        for done, item in enumerate(items, start=1):
            outcomes.append(run_one(fn, item))
            stopping.check()
            if progress:
                progress(done, total, outcomes[-1])
        return outcomes
    return map_in_pool(fn, items, workers, progress)


def map_in_pool(fn: Callable[[T], R], items: Sequence[T], workers: int,
                progress: Callable[[int, int, Outcome[T, R]], None] | None,
                ) -> list[Outcome[T, R]]:
    """:func:`map_in_processes` in ``workers`` spawned processes; stopped (Ctrl-C), its
    workers are stopped too and the items not started never run."""
    found: dict[int, Outcome[T, R]] = {}
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=start_worker,
                             initargs=(os.getpid(),)) as pool:
        try:
            futures = {pool.submit(run_one, fn, item): i for i, item in enumerate(items)}
            for done, future in enumerate(as_completed(futures), start=1):
                i = futures[future]
                try:
                    found[i] = future.result()
                except BrokenProcessPool as exc:  # a worker killed (out of memory, say)
                    found[i] = Outcome(items[i], None, f"the worker process died ({exc})")
                stopping.check()
                if progress:
                    progress(done, len(items), found[i])
        except BaseException:
            # the pool, broken by its workers' end, fails the items not started rather
            # than run them (leaving ``with pool`` waits for every item submitted). Not
            # ``cancel()``: Python 3.11's pool then fails on a cancelled future as it breaks
            terminate(worker_processes(pool))
            raise
    return [found[i] for i in range(len(items))]


@contextmanager
def cancelled_on_exit(futures: Iterable[Future[Any]], stop_running: Callable[[], None] | None = None,
                      ) -> Iterator[None]:
    """Around the wait for a thread pool's ``futures`` (the notebooks'): when it ends by
    an exception (Ctrl-C, say), cancel those not started and call ``stop_running``
    (which ends the running ones); the pool then waits for the rest.

    Why. Leaving ``with pool`` waits for every item submitted, not only the running
    ones: a run interrupted at the first of 612 notebooks went on, silently, with the
    other 611 (12.9 s after Ctrl-C on the demo's 12; minutes at national scale). A
    process pool is stopped by :func:`terminate` instead (``map_in_processes``).
    """
    try:
        yield
    except BaseException:
        for future in futures:
            future.cancel()
        if stop_running is not None:
            stop_running()
        raise


def worker_processes(pool: ProcessPoolExecutor) -> list[BaseProcess]:
    """The pool's worker processes, before its ``shutdown``.

    Read from the executor's own ``_processes``, which ``shutdown`` empties: there is no
    public way to stop a worker in hand before Python 3.14's ``terminate_workers``."""
    return list((getattr(pool, "_processes", None) or {}).values())


def terminate(processes: Sequence[BaseProcess]) -> None:
    """SIGTERM each live process: a run stopped does not wait for an item in hand (a
    model fit takes half a minute at national scale); what the item was writing is
    staged or written atomically, as when a run is killed."""
    for process in processes:
        if process.is_alive():
            process.terminate()


def start_worker(parent: int) -> None:
    """In each worker: leave Ctrl-C to the run (which stops the pool), and exit when the
    run has gone (killed, its pipes never close: the worker would wait for ever)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)
    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def every_tenth(log: Callable[[str], None] | None, what: str) -> Callable[[int, int, Any], None]:
    """A ``progress`` that logs "what: done of total" about every tenth of the way."""
    def report(done: int, total: int, _outcome: Any) -> None:
        if log and (done == total or done % -(-total // 10) == 0):
            log(f"{what}: {done} of {total}")
    return report
