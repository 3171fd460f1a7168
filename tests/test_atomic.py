"""Atomic writes: the old file stays whole when a write fails; no temporary is left."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from csc_outcomes import atomic


def test_write_replaces_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "out.txt"
    atomic.write_text(target, "first")
    atomic.write_text(target, "second")
    assert target.read_text() == "second"
    assert [p.name for p in target.parent.iterdir()] == ["out.txt"]


def test_a_failed_write_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic.atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("killed mid-write")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


def test_mode_is_set_before_the_file_appears(tmp_path: Path) -> None:
    target = atomic.write_bytes(tmp_path / "restricted.bin", b"x", mode=0o600)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_without_a_mode_a_file_gets_the_usual_permissions(tmp_path: Path) -> None:
    import os

    mask = os.umask(0o022)
    os.umask(mask)
    target = atomic.write_text(tmp_path / "report.html", "<p>")
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~mask
