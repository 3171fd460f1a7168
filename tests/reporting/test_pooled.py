"""Pooled models are built once per run and shared by the LAs' notebooks."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from csc_outcomes.reporting import pooled
from csc_outcomes.reporting.pooled import PooledModel, pooled_model, shared_result


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
    assert (tmp_path / "shared" / "model.pkl").stat().st_mode & 0o077 == 0, "child-level: owner only"


def test_without_a_folder_it_just_builds(tmp_path: Path) -> None:
    calls = []
    assert shared_result("model", "", lambda: calls.append(1) or "x") == "x"
    assert shared_result("model", None, lambda: calls.append(1) or "x") == "x"
    assert len(calls) == 2


@pytest.fixture
def counted_model(monkeypatch):
    """A pooled model ``toy`` whose frame builder counts its calls (no warehouse read)."""
    calls = []

    def frame(tables, period_end):
        calls.append(period_end)
        return pd.DataFrame({"la_code": ["A1", "B2"] * 20, "y": range(40)})

    toy = PooledModel(frame, lambda f, scale: f["y"].sum() * scale, min_rows=30,
                      what="the toy model", options=lambda f: {"scale": 2})
    monkeypatch.setattr(pooled, "MODELS", {**pooled.MODELS, "toy": toy})
    monkeypatch.setattr(pooled, "load_inputs", lambda warehouse: (SimpleNamespace(tables={}), None))
    return calls


def test_pooled_model_builds_once_for_two_calls_with_one_cache_dir(tmp_path, counted_model):
    first = pooled_model("toy", "w.duckdb", "2026-03-31", tmp_path / "shared")
    second = pooled_model("toy", "w.duckdb", "2026-03-31", tmp_path / "shared")
    assert len(counted_model) == 1
    frame, fit, why = second
    assert fit == first[1] == sum(range(40)) * 2 and why is None
    assert frame.equals(first[0])


def test_pooled_model_too_thin_or_without_warehouse_says_why(tmp_path, monkeypatch):
    monkeypatch.setattr(pooled, "load_inputs", lambda warehouse: (SimpleNamespace(tables={}), None))
    thin = PooledModel(lambda t, p: pd.DataFrame({"y": [1]}), lambda f: 1, min_rows=30,
                       what="the thin model")
    monkeypatch.setattr(pooled, "MODELS", {"thin": thin})
    frame, fit, why = pooled_model("thin", "w.duckdb", "2026-03-31", None)
    assert fit is None and "Too few records (1)" in why
    monkeypatch.undo()
    frame, fit, why = pooled_model("rereferral", tmp_path / "none.duckdb", "2026-03-31", None)
    assert frame is None and fit is None and "was not found" in why


def test_unknown_model_is_named():
    with pytest.raises(ValueError, match="no pooled model 'nope'; known: proportionality"):
        pooled_model("nope", "w.duckdb", "2026-03-31", None)
