"""The warehouse's schema version: recorded at write, checked at every read (finding 6: a
warehouse of another layout is refused, naming what differs and saying to ingest again)."""

from __future__ import annotations

import stat

import duckdb
import pytest

from csc_outcomes import warehouse
from csc_outcomes.warehouse import SCHEMA_VERSION, WarehouseSchemaError

from .conftest import altered


def test_the_version_is_recorded(small):
    with duckdb.connect(str(small), read_only=True) as con:
        assert con.execute("SELECT version FROM schema_version").fetchall() == [(SCHEMA_VERSION,)]
    warehouse.check_schema(small)


def test_a_warehouse_without_a_version_is_refused(small, tmp_path):
    path = altered(small, tmp_path, "DROP TABLE schema_version")  # as the kit wrote it before
    for read in (warehouse.read_tables, warehouse.connect, warehouse.check_schema, warehouse.content_hash,
                 warehouse.la_codes, lambda p: warehouse.read_table(p, "header")):
        with pytest.raises(WarehouseSchemaError, match="no schema version") as exc:
            read(path)
        assert "csc-outcomes ingest INPUT --warehouse" in str(exc.value)


@pytest.mark.parametrize("version", [SCHEMA_VERSION - 1, SCHEMA_VERSION + 1])
def test_another_version_is_refused(small, tmp_path, version):
    path = altered(small, tmp_path, f"UPDATE schema_version SET version = {version}")
    with pytest.raises(WarehouseSchemaError, match=f"schema version {version}.*reads schema version "
                                                   f"{SCHEMA_VERSION}"):
        warehouse.read_tables(path)


def test_the_error_is_not_a_usage_error():
    # commands report a ValueError as a usage error (exit 2): a warehouse to rebuild is exit 1
    assert not issubclass(WarehouseSchemaError, ValueError)


def test_the_warehouse_and_qa_report_are_owner_only(small):
    assert stat.S_IMODE(small.stat().st_mode) == 0o600
    assert stat.S_IMODE(small.with_name("w.qa.json").stat().st_mode) == 0o600
