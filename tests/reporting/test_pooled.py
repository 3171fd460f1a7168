"""Pooled models are built once per run and shared by the LAs' notebooks."""

from __future__ import annotations

from pathlib import Path

from csc_outcomes.reporting.context import shared_result


def test_built_once_then_read_from_the_run_folder(tmp_path: Path) -> None:
    calls = []

    def build():
        calls.append(1)
        return {"fit": [1, 2, 3]}, None

    first = shared_result("model", tmp_path / "shared", build)
    second = shared_result("model", tmp_path / "shared", build)
    assert first == second == ({"fit": [1, 2, 3]}, None)
    assert len(calls) == 1
    assert (tmp_path / "shared" / "model.pkl").is_file()


def test_without_a_folder_it_just_builds(tmp_path: Path) -> None:
    calls = []
    assert shared_result("model", "", lambda: calls.append(1) or "x") == "x"
    assert shared_result("model", None, lambda: calls.append(1) or "x") == "x"
    assert len(calls) == 2
