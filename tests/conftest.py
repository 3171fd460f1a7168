"""Fixtures shared by every test folder."""

from __future__ import annotations

import contextlib
import io
import os
from pathlib import Path
from types import SimpleNamespace

import pytest

from csc_outcomes.cli import main


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


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    """The README's demo as a new user runs it (3 LAs, seed 2026, scale 0.15), once per
    test worker: the demo test and the attacker both read it (mark them
    ``xdist_group("demo")`` so they share one run). ``folder``, ``code``, ``out``."""
    folder = tmp_path_factory.mktemp("demo")
    out = io.StringIO()
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        with contextlib.redirect_stdout(out):
            code = main(["demo", "--jobs", "2"])
    finally:
        os.chdir(cwd)
    return SimpleNamespace(folder=folder, code=code, out=out.getvalue())
