"""The plan of a run: a month beyond the latest return is flagged as resting on incomplete
data; the run's LAs come from the measures table."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest

from csc_outcomes.reporting.config import RunError
from csc_outcomes.reporting.plan import data_coverage_warnings, run_las


def _warehouse(path: Path) -> Path:
    supplied = pd.DataFrame({
        "la_code": ["A1", "A1", "B2"], "source": ["ssda903", "cin", "ssda903"],
        "table_name": ["episodes", "cin_episodes", "episodes"],
        "collection_year": [2026, 2026, 2025], "source_file": ["x", "y", "z"],
    })
    con = duckdb.connect(str(path))
    con.register("supplied_frame", supplied)
    con.execute("CREATE TABLE supplied AS SELECT * FROM supplied_frame")
    con.close()
    return path


def test_warns_only_for_las_whose_returns_end_before_the_period(tmp_path: Path) -> None:
    wh = _warehouse(tmp_path / "w.duckdb")
    assert data_coverage_warnings(wh, "2025-03-31") == []
    (warning,) = data_coverage_warnings(wh, "2025-06-30")
    assert "B2" in warning and "A1" not in warning and "2025" in warning
    (warning,) = data_coverage_warnings(wh, "2026-04-30")
    assert "A1" in warning and "B2" in warning


def test_no_warehouse_no_warning(tmp_path: Path) -> None:
    assert data_coverage_warnings(tmp_path / "absent.duckdb", "2026-03-31") == []


def test_a_warehouse_without_the_supplied_table_gives_no_warning(tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "old.duckdb"))
    con.execute("CREATE TABLE episodes (la_code VARCHAR)")
    con.close()
    assert data_coverage_warnings(tmp_path / "old.duckdb", "2026-03-31") == []


def test_las_default_to_those_with_measures_for_the_period(tmp_path: Path) -> None:
    from conftest import make_measures

    path = make_measures(tmp_path / "m.csv", las=("B2", "A1"))
    assert run_las((), path, "2026-03-31") == ("A1", "B2")
    assert run_las(("C3", "C3"), path, "2026-03-31") == ("C3",)
    with pytest.raises(RunError, match="no LA has measures for 2025-03-31"):
        run_las((), path, "2025-03-31")
