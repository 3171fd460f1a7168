"""A run for a month beyond the latest return says the figures rest on incomplete data."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd

from csc_outcomes.reporting.run import data_coverage_warnings


def _warehouse(path: Path) -> Path:
    supplied = pd.DataFrame({
        "la_code": ["A1", "A1", "B2"], "source": ["ssda903", "cin", "ssda903"],
        "table_name": ["episodes", "cin_episodes", "episodes"],
        "collection_year": [2026, 2026, 2025], "source_file": ["x", "y", "z"],
    })
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE supplied AS SELECT * FROM supplied")
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
