"""Fixtures shared by every test folder."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest


def child_processes(pid: int) -> set[int]:
    """The live processes whose parent is ``pid`` (read from /proc)."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            found.add(int(stat.parent.name))
    return found


def is_alive(pid: int) -> bool:
    """Whether ``pid`` is a process that has not ended (a zombie has ended)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


@pytest.fixture
def ctrl_c_raises() -> Iterator[None]:
    """SIGINT raises KeyboardInterrupt during the test, as at a terminal, even when the
    suite was started ignoring it (a job a shell put in the background does)."""
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, before)


@pytest.fixture
def procs() -> SimpleNamespace:
    """Look-ups of live processes (Linux, /proc): ``children(pid)`` and ``alive(pid)``,
    for the tests that kill a command and check that nothing it started lives on."""
    return SimpleNamespace(children=child_processes, alive=is_alive)


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    """The README's demo as a new user runs it (3 LAs, seed 2026), once per test worker,
    in its own process and folder: the demo test and the attacker both read it (mark them
    ``xdist_group("demo")`` so that they share one run). ``folder``, ``code``, ``out``,
    ``err``."""
    folder = tmp_path_factory.mktemp("demo")
    proc = subprocess.run([sys.executable, "-m", "csc_outcomes", "demo", "--jobs", "2"],
                          cwd=folder, capture_output=True, text=True, timeout=1200, check=False)
    return SimpleNamespace(folder=folder, code=proc.returncode, out=proc.stdout, err=proc.stderr)


@pytest.fixture(scope="session", autouse=True)
def published_cache_of_the_session(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Parsed published figures go to a cache of the test session (each worker's own),
    not the user's: the notebooks' kernels inherit the variable."""
    os.environ["CSC_OUTCOMES_CACHE"] = str(tmp_path_factory.getbasetemp() / "published-cache")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The slow tests first, the demo's group (the longest) before them, so that the two
    workers start the longest runs at once instead of one worker finishing them alone
    while the other idles: the suite's wall time is its longest worker's."""
    items.sort(key=lambda item: (item.get_closest_marker("slow") is None,
                                 item.get_closest_marker("xdist_group") is None))
