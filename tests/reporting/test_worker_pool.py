"""Trackers and renders spread over worker processes: every item's result or error, in
order, from other processes when there are enough items, here when there are few."""

from __future__ import annotations

import functools
import os
import signal
import threading
import time
from pathlib import Path

import psutil
import pytest

from csc_outcomes import stopping
from csc_outcomes.reporting import worker_pool
from csc_outcomes.reporting.papermill_runs import run_threads


def square_or_fail(x: int) -> tuple[int, int]:
    """x squared and the process that worked it out; 3 fails (a bad LA)."""
    if x == 3:
        raise ValueError(f"item {x} is broken")
    return x * x, os.getpid()


def test_a_few_items_run_here_in_order_with_each_error_named() -> None:
    seen: list[tuple[int, int]] = []
    out = worker_pool.map_in_processes(square_or_fail, [1, 2, 3, 4], workers=2,
                                       progress=lambda done, total, o: seen.append((done, total)))
    assert [o.item for o in out] == [1, 2, 3, 4]
    assert [o.value[0] if o.value else None for o in out] == [1, 4, None, 16]
    assert out[2].error == "ValueError: item 3 is broken"
    assert {o.value[1] for o in out if o.value} == {os.getpid()}  # few items: no workers
    assert seen == [(1, 4), (2, 4), (3, 4), (4, 4)]


@pytest.mark.slow
def test_many_items_run_in_worker_processes_and_come_back_in_order() -> None:
    items = list(range(12))  # over INLINE_PER_WORKER x 2 workers
    out = worker_pool.map_in_processes(square_or_fail, items, workers=2)
    assert [o.item for o in out] == items
    assert [o.value[0] if o.value else o.error for o in out] == [
        0, 1, 4, "ValueError: item 3 is broken", *[i * i for i in items[4:]]]
    pids = {o.value[1] for o in out if o.value}
    assert os.getpid() not in pids and 1 <= len(pids) <= 2


def test_progress_every_tenth_of_the_way() -> None:
    lines: list[str] = []
    report = worker_pool.every_tenth(lines.append, "RAG trackers written")
    for done in range(1, 21):
        report(done, 20, None)
    assert lines[0] == "RAG trackers written: 2 of 20" and lines[-1] == "RAG trackers written: 20 of 20"
    assert len(lines) == 10
    worker_pool.every_tenth(None, "x")(1, 1, None)  # no log: nothing to say, no error


def die_on_three(x: int) -> int:
    """Kill this worker process on 3 (as the kernel's out-of-memory killer would)."""
    if x == 3:
        os._exit(9)
    return x


@pytest.mark.slow
def test_a_worker_killed_fails_its_items_by_name_not_the_stage() -> None:
    out = worker_pool.map_in_processes(die_on_three, list(range(12)), workers=2)
    assert [o.item for o in out] == list(range(12))
    dead = [o for o in out if o.error]
    assert dead and all("worker process died" in (o.error or "") for o in dead)
    assert 3 in {o.item for o in dead}


@pytest.mark.slow
def test_workers_of_a_killed_run_exit(tmp_path) -> None:
    """Attacker: SIGKILL the process that started the workers: they go too (before, they
    waited for ever on a pipe nobody would close)."""
    import signal
    import subprocess
    import sys
    import time

    import psutil

    code = ("import time\nfrom csc_outcomes.reporting import worker_pool\n"
            "if __name__ == '__main__':\n"
            "    worker_pool.map_in_processes(time.sleep, [30.0] * 12, workers=2)\n")
    script = tmp_path / "starts_workers.py"
    script.write_text(code)
    run = subprocess.Popen([sys.executable, str(script)])
    parent = psutil.Process(run.pid)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(parent.children(recursive=True)) < 2:
        time.sleep(0.2)
    workers = parent.children(recursive=True)
    assert len(workers) >= 2, "the workers did not start"
    run.send_signal(signal.SIGKILL)
    run.wait()
    _, alive = psutil.wait_procs(workers, timeout=10)
    assert alive == [], f"left running: {[p.pid for p in alive]}"


def mark_and_wait(item: tuple[str, int]) -> int:
    """Leave a file named after the item in the folder (it started), then take a while."""
    folder, x = item
    (Path(folder) / f"started-{x}").touch()
    time.sleep(1.0)  # long beside the time the run takes to see the first come back
    return x


def interrupt_at_first(done: int, total: int, outcome: object) -> None:
    """A progress callback that is Ctrl-C as the first item comes back."""
    raise KeyboardInterrupt


@pytest.mark.slow
def test_ctrl_c_cancels_the_items_not_started_instead_of_running_them_all(tmp_path: Path) -> None:
    """Attacker: Ctrl-C as the first of 20 items comes back. Leaving ``with pool`` waited
    for every item submitted: all 20 ran (a national run's 612 renders) before the run
    could stop. Now those not started are cancelled and the workers stopped: at most the
    running ones and the few queued for the workers (2 + 3 here) ever start."""
    items = [(str(tmp_path), x) for x in range(20)]
    with pytest.raises(KeyboardInterrupt):
        worker_pool.map_in_processes(mark_and_wait, items, workers=2, progress=interrupt_at_first,
                                     inline_per_worker=0)
    started = len(list(tmp_path.glob("started-*")))
    assert 1 <= started <= 6, started
    time.sleep(2.5)  # a reviewer's catch: the cancel was lost, and all 20 ran after the raise
    assert len(list(tmp_path.glob("started-*"))) == started


def test_ctrl_c_in_the_notebooks_threads_starts_no_more_and_stops_the_running_ones() -> None:
    """The notebooks' threads: Ctrl-C as the first of 10 comes back starts no other
    notebook (before: the other 9 ran, one after another, before the run could stop),
    and ``stop_running`` (which kills the running kernels) is called once."""
    started: list[int] = []
    stopped = threading.Event()  # the running "notebooks" end when their kernels are killed

    def execute(job: int) -> int:
        started.append(job)
        if job:
            stopped.wait(timeout=5)
        return job

    with pytest.raises(KeyboardInterrupt):
        run_threads(list(range(10)), 2, interrupt_at_first, execute,  # type: ignore[arg-type]
                    stop_running=stopped.set)
    assert stopped.is_set()
    assert sorted(started) in ([0, 1], [0, 1, 2]), started  # the first's thread may take one more


def mark_and_hang(item: tuple[str, int]) -> int:
    """Leave a file named after the item (it started), then take half a minute (a fit)."""
    folder, x = item
    (Path(folder) / f"started-{x}").touch()
    time.sleep(30)
    return x


def command_of(process: psutil.Process) -> str:
    """A process's command line ("" once it has ended, or is a zombie)."""
    try:
        return " ".join(process.cmdline())
    except psutil.Error:
        return ""


@pytest.mark.slow
def test_ctrl_c_does_not_wait_for_the_items_in_hand(tmp_path: Path, ctrl_c_raises: None) -> None:
    """Attacker: Ctrl-C while both workers are in a half-minute item (a national model
    fit). The workers are stopped, not waited for: the stage ends in seconds, and no
    worker process is left."""
    items = [(str(tmp_path), x) for x in range(6)]

    def press_ctrl_c() -> None:
        while len(list(tmp_path.glob("started-*"))) < 2:
            time.sleep(0.05)
        signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGINT)

    threading.Thread(target=press_ctrl_c, daemon=True).start()
    t0 = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        worker_pool.map_in_processes(mark_and_hang, items, workers=2, inline_per_worker=0)
    assert time.monotonic() - t0 < 25
    # multiprocessing's resource tracker lives as long as this process: not a worker
    workers = [p for p in psutil.Process().children(recursive=True)
               if "resource_tracker" not in command_of(p)]
    _, left = psutil.wait_procs(workers, timeout=5)
    assert not left, left


def interrupted_like_duckdb(item: int) -> int:
    """Item 0 gets SIGTERM mid-query and answers, as DuckDB does, with an exception of
    its own (``duckdb.InterruptException``), which the stage sets aside as a failure."""
    if item == 0:
        try:
            os.kill(os.getpid(), signal.SIGTERM)
            sum(range(100_000))
        except KeyboardInterrupt as exc:
            raise RuntimeError("INTERRUPT Error: Interrupted!") from exc
    return item


def test_a_stop_a_library_turned_into_its_own_error_still_stops_the_stage() -> None:
    """Attacker (found by a double Ctrl-C during the trackers): the stop's exception
    became another error, set aside as one LA's failure, and the run went on for 20 s
    to exit 1. Now the stage asks for the stop as each item comes back."""
    ran: list[int] = []
    with stopping.handled(), pytest.raises(stopping.Terminated):
        worker_pool.map_in_processes(interrupted_like_duckdb, [0, 1, 2], workers=1,
                                     progress=lambda done, total, o: ran.append(o.item))
    assert ran == []  # asked before the first item's progress, and nothing after it


def blas_threads(item: int) -> list[int]:
    """The thread counts of the BLAS libraries loaded here (numpy's OpenBLAS)."""
    import numpy  # noqa: F401 - loads numpy's BLAS
    from threadpoolctl import threadpool_info

    return [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]


def test_a_model_fit_given_a_process_runs_its_blas_on_one_thread() -> None:
    """Two fits side by side, each with BLAS's thread per core, contended for the cores:
    the fitting workers hold BLAS to one thread, and only while they fit."""
    inside = worker_pool.one_blas_thread(blas_threads, 0)
    assert inside and set(inside) == {1}
    if os.cpu_count() and os.cpu_count() > 1:
        assert max(blas_threads(0)) > 1  # as it was, outside
    out = worker_pool.map_in_processes(functools.partial(worker_pool.one_blas_thread, blas_threads),
                                       list(range(8)), workers=2, inline_per_worker=0)
    assert all(o.error is None and set(o.value) == {1} for o in out)
