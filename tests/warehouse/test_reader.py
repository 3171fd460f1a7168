"""Reading the warehouse: every read checks the tables and columns it reads first."""

from __future__ import annotations

import pytest

from csc_outcomes import warehouse
from csc_outcomes.warehouse import WarehouseSchemaError

from .conftest import altered


def test_a_complete_warehouse_reads(small):
    tables, supplied = warehouse.read_tables(small)
    assert len(tables["episodes"]) and len(supplied)
    with warehouse.connect(small) as con:
        assert con.execute("SELECT count(*) FROM episodes").fetchone()[0] == len(tables["episodes"])


def test_a_missing_column_names_table_and_column(small, tmp_path):
    path = altered(small, tmp_path, 'ALTER TABLE episodes DROP COLUMN "DECOM"')
    for read in (warehouse.read_tables, warehouse.connect):
        with pytest.raises(WarehouseSchemaError, match=r"column episodes\.DECOM") as exc:
            read(path)
        assert "csc-outcomes ingest" in str(exc.value)
    with pytest.raises(WarehouseSchemaError, match=r"episodes\.DECOM"):
        warehouse.read_table(path, "episodes")
    assert len(warehouse.read_table(path, "header"))  # the other tables still read alone


def test_a_missing_table_is_named(small, tmp_path):
    path = altered(small, tmp_path, "DROP TABLE supplied")
    with pytest.raises(WarehouseSchemaError, match="table supplied"):
        warehouse.read_tables(path)
    assert "supplied" not in warehouse.table_names(path)


def test_extra_columns_are_fine(small, tmp_path):
    path = altered(small, tmp_path, "ALTER TABLE header ADD COLUMN note VARCHAR")
    tables, _ = warehouse.read_tables(path)
    assert "note" not in tables["header"].columns


def test_no_warehouse(tmp_path):
    with pytest.raises(FileNotFoundError, match="csc-outcomes ingest"):
        warehouse.read_tables(tmp_path / "absent.duckdb")


def test_columns_reads_only_those_tables_and_columns_typed_as_the_full_read(small):
    full, supplied = warehouse.read_tables(small)
    wanted = {"episodes": ["la_code", "CHILD", "DECOM"], "header": ["CHILD", "DOB"]}
    tables, supplied_too = warehouse.read_tables(small, columns=wanted)
    assert set(tables) == {"episodes", "header"}
    for name, cols in wanted.items():
        assert tables[name].columns.tolist() == cols
        assert tables[name].equals(full[name][cols])  # same values, same dtypes
    assert supplied_too.equals(supplied)
    one = warehouse.read_table(small, "episodes", columns=["CHILD", "DECOM"])
    assert one.columns.tolist() == ["CHILD", "DECOM"] and len(one) == len(full["episodes"])


def test_columns_names_a_table_or_column_that_is_not_there(small):
    with pytest.raises(ValueError, match="table 'episodes' has no column"):
        warehouse.read_tables(small, columns={"episodes": ["CHILD", "NOPE"]})
    with pytest.raises(ValueError, match="no canonical table"):
        warehouse.read_tables(small, columns={"nope": ["CHILD"]})
