"""One run at a time per reports tree; a lock left by a killed run is taken over."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from csc_outcomes.reporting import lock
from csc_outcomes.reporting.config import RunError
from csc_outcomes.reporting.run import run

from conftest import tiny_config


def test_a_second_holder_is_refused_naming_the_first(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    with lock.hold([reports], "run-one") as killed:
        assert killed == []
        record = json.loads(lock.lock_path(reports).read_text())
        assert record["run_id"] == "run-one" and record["pid"] == os.getpid()
        with pytest.raises(RunError) as info, lock.hold([reports], "run-two"):
            pass
        msg = str(info.value)
        assert "another run is in progress" in msg and "run run-one" in msg
        assert f"pid {os.getpid()}" in msg and record["started"] in msg
    assert lock.lock_path(reports).read_text() == "", "a run that ended leaves no record"
    with lock.hold([reports], "run-three") as killed:  # free again
        assert killed == []


def test_a_run_stops_at_once_while_another_holds_its_tree(tiny_setup, tmp_path) -> None:
    config = tiny_config(tiny_setup, tmp_path)
    with lock.hold([config.restricted_dir], "the-other-run"):
        t0 = time.perf_counter()
        with pytest.raises(RunError, match="run the-other-run"):
            run(config)
        assert time.perf_counter() - t0 < 5
    assert not (tmp_path / "restricted").exists() and not (tmp_path / "reports").exists()


def test_the_lock_of_a_killed_run_is_taken_over(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    holder = textwrap.dedent(f"""
        import sys, time
        from pathlib import Path
        from csc_outcomes.reporting import lock
        with lock.hold([Path({str(reports)!r})], "killed-run"):
            print("held", flush=True)
            time.sleep(300)
    """)
    proc = subprocess.Popen([sys.executable, "-c", holder], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
        with pytest.raises(RunError, match="killed-run"), lock.hold([reports], "too-early"):
            pass
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    notes: list[str] = []
    with lock.hold([reports], "next-run", log=notes.append) as killed:
        assert [h.run_id for h in killed] == ["killed-run"] and killed[0].pid == proc.pid
        assert "killed-run" in notes[0] and "taking over" in notes[0]


def test_a_killed_runs_orphans_are_waited_for_then_named(tmp_path: Path, monkeypatch) -> None:
    """A killed run's kernel inherits its lock and ends a moment after it: the next run
    waits for it (``lock_after_orphans``); one that outlives the wait is named."""
    reports = tmp_path / "reports"
    holder = textwrap.dedent(f"""
        import os, sys, time
        from pathlib import Path
        from csc_outcomes.reporting import lock
        with lock.hold([Path({str(reports)!r})], "killed-run"):
            orphan = os.fork()
            if orphan == 0:  # holds the inherited lock a while, then ends
                time.sleep(float(sys.argv[1]))
                os._exit(0)
            print(orphan, flush=True)
            time.sleep(300)
    """)
    monkeypatch.setattr(lock, "ORPHANS_WAIT", 0.5)
    for orphan_lives, wait, taken in ((1.0, 10.0, True), (30.0, None, False)):
        proc = subprocess.Popen([sys.executable, "-c", holder, str(orphan_lives)],
                                stdout=subprocess.PIPE, text=True)
        assert proc.stdout is not None
        orphan = int(proc.stdout.readline())
        os.kill(proc.pid, signal.SIGKILL)  # the run dies; its fork still holds the lock
        proc.wait()
        fd = os.open(lock.lock_path(reports), os.O_RDWR)
        try:
            t0 = time.monotonic()
            assert lock.lock_after_orphans(fd, wait) is taken
            assert 0.4 <= time.monotonic() - t0 < 5
        finally:
            os.close(fd)
    try:
        with pytest.raises(RunError, match=r"pid \d+ has ended, but a process it started"), \
                lock.hold([reports], "too-early"):
            pass
    finally:
        os.kill(orphan, signal.SIGKILL)
