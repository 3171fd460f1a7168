"""The warehouse's tables and columns, its schema version, and the check that a file holds them.

Every canonical table (``keys.TABLE_SOURCE``) has the columns and dtypes of its
contract (``ingest.contracts.canonical_dtypes``); the meta tables have the columns of
:data:`META_COLUMNS`. The writer records :data:`SCHEMA_VERSION` in the table
``schema_version``. A warehouse written by another version of the kit (or altered by
hand) may record another version or lack a table or column: :func:`check` says which,
and that ingesting again rebuilds it, before a reader meets a missing column halfway
through a computation (where it would be read as nulls).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import duckdb

from csc_outcomes.ingest.contracts import canonical_dtypes
from csc_outcomes.keys import TABLE_SOURCE

#: The version of the warehouse's layout this kit writes and reads. Raise it whenever a
#: table or column is added, removed or changes meaning. 1: no version recorded (before
#: ``input_files``); 2: ``input_files`` and ``schema_version``.
SCHEMA_VERSION = 2

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
    "input_files": {"la_code": "VARCHAR", "path": "VARCHAR", "size": "BIGINT", "sha256": "VARCHAR"},
    "schema_version": {"version": "BIGINT"},
}
META_TABLES = list(META_COLUMNS)

#: Every table of a warehouse: the canonical tables, then the meta tables.
ALL_TABLES = [*TABLE_SOURCE, *META_TABLES]


class WarehouseSchemaError(RuntimeError):
    """The warehouse lacks a table or column the kit reads, or records another schema
    version (written by another version of the kit, or changed since); ingesting again
    rebuilds it. A data failure (exit 1), not a usage error: it is deliberately not a
    ``ValueError``, which commands report as a usage error (exit 2)."""


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


def rebuild_hint(path: Path) -> str:
    """What to do about a warehouse this kit cannot read."""
    return f"Build it again from the input folder: csc-outcomes ingest INPUT --warehouse {path}"


def version_problem(con: duckdb.DuckDBPyConnection, present: dict[str, set[str]]) -> str | None:
    """Why the recorded schema version is not :data:`SCHEMA_VERSION` (None when it is)."""
    if "version" not in present.get("schema_version", set()):
        return ("records no schema version (no table schema_version): it was written by an older "
                f"version of the kit, and this version reads schema version {SCHEMA_VERSION}")
    rows = con.execute('SELECT "version" FROM "schema_version"').fetchall()
    found = sorted({r[0] for r in rows})
    if found == [SCHEMA_VERSION]:
        return None
    shown = ", ".join(map(str, found)) or "none"
    return (f"records schema version {shown} (table schema_version), and this version of the kit "
            f"reads schema version {SCHEMA_VERSION}")


def check(con: duckdb.DuckDBPyConnection, path: Path, tables: Iterable[str] = ALL_TABLES) -> None:
    """Raise :class:`WarehouseSchemaError` unless the warehouse at ``path`` (open as
    ``con``) records :data:`SCHEMA_VERSION` and holds every column of ``tables`` (extra
    columns and tables are fine)."""
    present = present_columns(con)
    problem = version_problem(con, present)
    if problem:
        raise WarehouseSchemaError(f"the warehouse {path} {problem}. {rebuild_hint(path)}")
    gaps = missing(present, tables)
    if gaps:
        shown = ", ".join(gaps[:10]) + (f" and {len(gaps) - 10} more" if len(gaps) > 10 else "")
        raise WarehouseSchemaError(
            f"the warehouse {path} lacks {shown}, which this version of the kit reads: it was "
            f"written by another version (or changed since). {rebuild_hint(path)}")
