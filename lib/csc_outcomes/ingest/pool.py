"""The readers' process pool: files read, decoded and parsed in worker processes.

Each worker returns one file's units (its raw tables); the main process takes them in
the files' order, so the result is the same for any number of workers. While the main
process validates a batch, the workers read the next one.

No worker outlives the ingest: each one, as it starts, asks the kernel to kill it when
its parent ends (``prctl(PR_SET_PDEATHSIG)`` on Linux; elsewhere a thread watching its
parent's pid), so killing ``csc-outcomes ingest`` leaves no reader behind holding
child-level data. (Linux sends the signal when the *thread* that forked the worker
ends; the pool forks its workers from the thread that runs the ingest, which outlives
the pool.)
"""

from __future__ import annotations

import ctypes
import ctypes.util
import multiprocessing as mp
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from types import TracebackType
from typing import Self

from csc_outcomes.ingest.discover import LaFolder
from csc_outcomes.ingest.read import DEBUG_ENV, read_file
from csc_outcomes.ingest.units import Unit


def default_jobs() -> int:
    """``min(2, os.cpu_count())``: the readers' processes when ``jobs`` is not given."""
    return max(1, min(2, os.cpu_count() or 1))


def read_file_job(path: Path, input_dir: Path, la_code: str, la_dir: Path, debug: bool) -> list[Unit]:
    """:func:`~csc_outcomes.ingest.read.read_file` in a worker process (with the
    caller's ``CSC_OUTCOMES_DEBUG``)."""
    if debug:
        os.environ[DEBUG_ENV] = "1"
    else:
        os.environ.pop(DEBUG_ENV, None)
    return read_file(path, input_dir, la_code, la_dir)


#: ``prctl`` option from ``<linux/prctl.h>``: the signal sent to a process when its parent dies.
PR_SET_PDEATHSIG = 1


def watch_parent(parent: int) -> None:
    """End this process once ``parent`` is no longer its parent (checked twice a second)."""
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)


def die_with_parent(parent: int) -> None:
    """A worker's initializer: be killed when the ingest (pid ``parent``) ends, however."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"prctl(PR_SET_PDEATHSIG): {os.strerror(err)}")
    else:
        threading.Thread(target=watch_parent, args=(parent,), daemon=True).start()
    if os.getppid() != parent:  # the ingest ended before the lines above took effect
        os._exit(1)


def reader_pool(n: int) -> ProcessPoolExecutor | None:
    """A pool of ``n`` reader processes, forked now (at the start of the ingest, while
    the process is small): no re-import of the caller's ``__main__``, so scripts and
    notebooks without an ``if __name__ == "__main__"`` guard work. None where processes
    cannot be forked (Windows: the files are read in this process). Its workers die
    with the ingest (``die_with_parent``)."""
    if "fork" not in mp.get_all_start_methods():
        return None
    return ProcessPoolExecutor(max_workers=n, mp_context=mp.get_context("fork"),
                               initializer=die_with_parent, initargs=(os.getpid(),))


class Readers:
    """Reads the files of the ingest's batches, in ``jobs`` worker processes (or in this
    process when ``jobs`` is 1 or there is one file). Use as a context manager: the
    pool is shut down on leaving it."""

    def __init__(self, input_dir: Path, batches: list[list[LaFolder]], jobs: int) -> None:
        self.input_dir = input_dir
        self.batches = batches
        n_files = sum(len(la.files) for batch in batches for la in batch)
        self.pool = reader_pool(jobs) if jobs > 1 and n_files > 1 else None
        self.debug = bool(os.environ.get(DEBUG_ENV))
        self.queued: dict[int, list[list[Future | None]]] = {}

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)

    def _queue(self, i: int) -> None:
        """Queue every file of batch ``i`` on the pool, in order."""
        if self.pool is None or i >= len(self.batches) or i in self.queued:
            return
        self.queued[i] = [[self.pool.submit(read_file_job, f, self.input_dir, la.la_code, la.path,
                                            self.debug) for f in la.files] for la in self.batches[i]]

    def read(self, i: int, on_la: Callable[[LaFolder], None]) -> Iterator[tuple[Path, list[Unit]]]:
        """Each file of batch ``i`` with its units, in the files' order; ``on_la`` is
        called before each LA's files. The next batch is queued first, so the workers
        read it while this one is validated."""
        self._queue(i)
        queued = self.queued.pop(i, None)
        self._queue(i + 1)
        for k, la in enumerate(self.batches[i]):
            on_la(la)
            for j, f in enumerate(la.files):
                if queued is None:
                    yield f, read_file(f, self.input_dir, la.la_code, la.path)
                    continue
                future = queued[k][j]
                queued[k][j] = None  # the units are ours now: the future need not keep them
                if future is None:  # pragma: no cover - each future is taken once
                    raise ValueError(f"{f}: read twice")
                yield f, future.result()
