"""Fixtures shared by every test folder."""

from __future__ import annotations

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
def procs() -> SimpleNamespace:
    """Look-ups of live processes (Linux, /proc): ``children(pid)`` and ``alive(pid)``,
    for the tests that kill a command and check that nothing it started lives on."""
    return SimpleNamespace(children=child_processes, alive=is_alive)
