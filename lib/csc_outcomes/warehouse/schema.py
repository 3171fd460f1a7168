"""The warehouse's tables and columns, and the check that a file holds them.

Every canonical table (``keys.TABLE_SOURCE``) has the columns and dtypes of its
contract (``ingest.contracts.canonical_dtypes``); the meta tables have the columns of
:data:`META_COLUMNS`. A warehouse written by another version of the kit (or altered
by hand) may lack some: :func:`check` says which, and that ingesting again rebuilds it,
before a reader meets a missing column halfway through a computation.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import duckdb

from csc_outcomes.ingest.contracts import canonical_dtypes
from csc_outcomes.keys import TABLE_SOURCE

#: The SQL type of each canonical dtype.
SQL_TYPES = {"str": "VARCHAR", "datetime64[ns]": "DATE", "Int64": "BIGINT", "boolean": "BOOLEAN"}

#: The tables about the ingest itself, with their columns' SQL types.
META_COLUMNS: dict[str, dict[str, str]] = {
    "rejects": {"la_code": "VARCHAR", "source_file": "VARCHAR", "table_name": "VARCHAR",
                "source_line": "BIGINT", "column": "VARCHAR", "value": "VARCHAR", "rule": "VARCHAR",
                "message": "VARCHAR"},
    "repairs": {"la_code": "VARCHAR", "table_name": "VARCHAR", "key": "VARCHAR", "rule": "VARCHAR",
                "detail": "VARCHAR"},
    "supplied": {"la_code": "VARCHAR", "source": "VARCHAR", "table_name": "VARCHAR",
                 "collection_year": "BIGINT", "source_file": "VARCHAR"},
    "ingest_runs": {"started": "TIMESTAMP", "finished": "TIMESTAMP", "input_hash": "VARCHAR",
                    "counts": "VARCHAR"},
}
META_TABLES = list(META_COLUMNS)

#: Every table of a warehouse: the canonical tables, then the meta tables.
ALL_TABLES = [*TABLE_SOURCE, *META_TABLES]


class WarehouseSchemaError(ValueError):
    """The warehouse lacks a table or column the kit reads (written by another version
    of the kit, or changed since); ingesting again rebuilds it."""


def column_types(table: str) -> dict[str, str]:
    """Column -> SQL type of a warehouse table (canonical or meta)."""
    if table in META_COLUMNS:
        return META_COLUMNS[table]
    return {c: SQL_TYPES[d] for c, d in canonical_dtypes(table).items()}


def present_columns(con: duckdb.DuckDBPyConnection) -> dict[str, set[str]]:
    """The tables of an open warehouse and their columns."""
    rows = con.execute("SELECT table_name, column_name FROM information_schema.columns").fetchall()
    out: dict[str, set[str]] = {}
    for table, column in rows:
        out.setdefault(table, set()).add(column)
    return out


def missing(present: dict[str, set[str]], tables: Iterable[str]) -> list[str]:
    """What ``present`` lacks of ``tables``: ``table x`` or ``column x.y``, in order."""
    out = []
    for t in tables:
        if t not in present:
            out.append(f"table {t}")
            continue
        out += [f"column {t}.{c}" for c in column_types(t) if c not in present[t]]
    return out


def check(con: duckdb.DuckDBPyConnection, path: Path, tables: Iterable[str] = ALL_TABLES) -> None:
    """Raise :class:`WarehouseSchemaError` unless the warehouse at ``path`` (open as
    ``con``) holds every column of ``tables`` (extra columns and tables are fine)."""
    gaps = missing(present_columns(con), tables)
    if gaps:
        shown = ", ".join(gaps[:10]) + (f" and {len(gaps) - 10} more" if len(gaps) > 10 else "")
        raise WarehouseSchemaError(
            f"the warehouse {path} lacks {shown}, which this version of the kit reads: it was "
            "written by another version (or changed since). Build it again from the input "
            "folder: csc-outcomes ingest INPUT --warehouse " + str(path))
