"""Stopping a run's notebooks on a Dask cluster: the workers kill their own kernels.

Why. Dask cannot interrupt a task a worker is running: without this, a run stopped by
Ctrl-C or SIGTERM left each remote worker running its notebook to the end (up to the
half-hour timeout), writing it into the restricted tree after the command had said it
stopped and released its lock. Each notebook job therefore runs under a watch
(:func:`execute_stoppable`): a thread on the worker waits on a named Dask ``Event``
that the client sets when the run is stopped (:func:`stop_event`), and then kills the
job's kernel (``warm_kernels.stop_kernels``, papermill's "Kernel died" about it
silenced: ``papermill_runs.quiet_once_stopped``), so the notebook ends at once as failed
and writes nothing. A job that starts after the event is set does not run.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from distributed import Client, Event

from csc_outcomes.reporting import warm_kernels
from csc_outcomes.reporting.papermill_runs import (
    NotebookJob,
    NotebookResult,
    execute_job,
    quiet_once_stopped,
)

#: How often a job's watch asks the scheduler whether the run was stopped (seconds).
POLL = 0.5
#: What a job that the stop came before says.
NOT_RUN = "not run: the run was stopped"


def stop_event(client: Client) -> Event:
    """A new event for one run's jobs, named uniquely, on ``client``'s scheduler."""
    return Event(f"csc-outcomes-stop-{uuid.uuid4().hex}", client=client)


def execute_stoppable(job: NotebookJob, *, stop: str, **options: Any) -> NotebookResult:
    """``execute_job(job, **options)`` on a worker, its kernel killed as soon as the event
    named ``stop`` is set; not run at all when it is set already."""
    event = Event(stop)  # on the worker's own client: made in the task's thread
    if event.is_set():
        return NotebookResult(job=job, ok=False, seconds=0.0, error=NOT_RUN)
    with (warm_kernels.run_kernels() as token, quiet_once_stopped(token) as stop_kernels,
          watching(event, stop_kernels)):
        return execute_job(job, run_token=token, **options)


@contextmanager
def watching(event: Event, stop_kernels: Callable[[], None]) -> Iterator[None]:
    """While the block runs, a thread calls ``stop_kernels`` once ``event`` is set.

    It asks every ``POLL`` seconds rather than waiting once, so that it ends with the
    block; a scheduler that cannot be asked ends it too (the worker is then going)."""
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            try:
                stopped = event.wait(timeout=POLL)
            except Exception:  # noqa: BLE001 - scheduler gone: nothing left to stop for
                return
            if stopped:
                stop_kernels()
                return

    thread = threading.Thread(target=watch, name="csc-outcomes-stop-watch", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join(timeout=4 * POLL)
