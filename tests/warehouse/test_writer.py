"""Writing the warehouse: atomic, idempotent, and left as it was when an ingest fails."""

from __future__ import annotations

import pandas as pd
import pytest

from csc_outcomes import warehouse
from csc_outcomes.warehouse import ingest_into, writer

from .conftest import TODAY, write


def _content(path):
    tables, supplied = warehouse.read_tables(path)
    with warehouse.connect(path) as con:
        rej = con.execute("SELECT * FROM rejects").df()
        rep = con.execute("SELECT * FROM repairs").df()
    return tables, supplied, rej, rep


def test_round_trip_and_idempotent(clean_dir, tmp_path):
    wh = tmp_path / "w" / "warehouse.duckdb"
    r = ingest_into(clean_dir, wh, today=TODAY, progress=False)
    assert r.exit_code == 0
    assert (tmp_path / "w" / "warehouse.qa.json").exists()
    first = _content(wh)
    ingest_into(clean_dir, wh, today=TODAY, progress=False)
    second = _content(wh)
    for name in first[0]:
        pd.testing.assert_frame_equal(first[0][name], second[0][name])
        pd.testing.assert_frame_equal(first[0][name].reset_index(drop=True),
                                      r.tables[name].reset_index(drop=True), check_dtype=True)
    for a, b in zip(first[1:], second[1:], strict=True):
        pd.testing.assert_frame_equal(a, b)
    assert {"rejects", "repairs", "supplied", "ingest_runs"} <= set(warehouse.table_names(wh))
    only, sup = warehouse.read_tables(wh, la_codes=["NOPE"])
    assert len(only["episodes"]) == 0 and len(sup) == 0
    assert not [p for p in wh.parent.iterdir() if ".tmp" in p.name]


def test_failed_ingest_leaves_previous_warehouse(clean_dir, tmp_path, monkeypatch):
    wh = tmp_path / "warehouse.duckdb"
    ingest_into(clean_dir, wh, today=TODAY, progress=False)
    before = wh.read_bytes()
    # a crash while writing
    real = writer.create_table

    def boom(con, name, df, types):
        if name == "repairs":
            raise RuntimeError("disk full")
        return real(con, name, df, types)

    monkeypatch.setattr(writer, "create_table", boom)
    with pytest.raises(RuntimeError):
        ingest_into(clean_dir, wh, today=TODAY, progress=False)
    monkeypatch.undo()
    assert wh.read_bytes() == before
    assert not [p for p in tmp_path.iterdir() if ".tmp" in p.name]
    # a rejected file: exit 1 and the warehouse is not replaced
    write(clean_dir / "E1/ssda903/2025/episodes.csv", "CHILD\nC1\n")
    r = ingest_into(clean_dir, wh, today=TODAY, progress=False)
    assert r.exit_code == 1 and wh.read_bytes() == before
