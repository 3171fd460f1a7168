"""The warehouse's content hash: what it holds, not when or how it was written.

A manifest records which data a run's reports were computed from, and ``reproduce``
checks a warehouse against it. The DuckDB file's bytes cannot serve: they change with
every write (block layout, the ingest's timestamps in ``ingest_runs``), so re-ingesting
the same inputs would look like different data. :func:`content_hash` hashes the rows
instead: each row of each table as canonical JSON (the contract's columns, in their
order), the rows' hashes sorted so that row order does not matter, and the tables in a
fixed order with their names and column types. Two warehouses have the same hash
exactly when they hold the same rows (as a multiset) in the same tables and columns.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb

from csc_outcomes.keys import TABLE_SOURCE
from csc_outcomes.warehouse.reader import connect
from csc_outcomes.warehouse.schema import column_types

#: The tables hashed, in this order: the canonical tables, then what the ingest found and
#: read (``ingest_runs`` holds the ingest's times and ``schema_version`` the layout: the
#: column types hashed stand for the layout).
CONTENT_TABLES = (*TABLE_SOURCE, "rejects", "repairs", "supplied", "input_files")

#: Row hashes fetched at a time.
FETCH_ROWS = 65_536


def _quoted(name: str) -> str:
    """An SQL identifier, quoted."""
    return '"' + name.replace('"', '""') + '"'


def table_digest(con: duckdb.DuckDBPyConnection, name: str) -> bytes:
    """SHA-256 of one table: its name, its columns and types, and its rows' sorted hashes."""
    types = column_types(name)
    h = hashlib.sha256()
    h.update(name.encode() + b"\0" + ",".join(f"{c}:{t}" for c, t in types.items()).encode() + b"\0")
    row = ", ".join(f"{_quoted(c)} := {_quoted(c)}" for c in types)
    cur = con.execute(f"SELECT sha256(CAST(to_json(struct_pack({row})) AS VARCHAR)) AS h "
                      f"FROM {_quoted(name)} ORDER BY h")
    while rows := cur.fetchmany(FETCH_ROWS):
        for (row_hash,) in rows:
            h.update(bytes.fromhex(row_hash))
    return h.digest()


def content_hash(path: str | Path) -> str:
    """SHA-256 (hex) of the warehouse's content (:data:`CONTENT_TABLES`), independent of
    timestamps, row order and the file's bytes. Raises
    :class:`~csc_outcomes.warehouse.schema.WarehouseSchemaError` for a warehouse this kit
    cannot read."""
    h = hashlib.sha256()
    with connect(Path(path)) as con:
        for name in CONTENT_TABLES:
            h.update(table_digest(con, name))
    return h.hexdigest()
