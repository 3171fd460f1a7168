"""The ingest tests' clean input folder and helpers, and a small warehouse built from it."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from csc_outcomes.warehouse import ingest_into
from ingest.conftest import FIXTURES, TODAY, clean_dir, write

__all__ = ["FIXTURES", "TODAY", "altered", "clean_dir", "write"]


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse of the clean fixture, written once for the module."""
    path = tmp_path_factory.mktemp("wh") / "w.duckdb"
    ingest_into(FIXTURES / "clean", path, today=TODAY, progress=False)
    return path


def altered(small: Path, tmp_path: Path, sql: str) -> Path:
    """A copy of ``small`` changed by ``sql`` (a dropped column, an old version)."""
    path = tmp_path / "w.duckdb"
    shutil.copy(small, path)
    with duckdb.connect(str(path)) as con:
        con.execute(sql)
    return path
