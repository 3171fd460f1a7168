"""Reading the warehouse: the canonical tables' one reader, schema checked.

Every read first checks that the file holds the tables and columns it reads
(:func:`~csc_outcomes.warehouse.schema.check`), so that a warehouse written by another
version of the kit fails at once with a message saying to ingest again, not later with
a missing column.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd

from csc_outcomes.ingest.contracts import coerce_frame
from csc_outcomes.keys import TABLE_SOURCE
from csc_outcomes.warehouse import schema


def _open(path: Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection to an existing warehouse (no schema check)."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no warehouse at {path}; run 'csc-outcomes ingest' first")
    return duckdb.connect(str(path), read_only=True)


def connect(path: Path) -> duckdb.DuckDBPyConnection:
    """A read-only DuckDB connection to the warehouse, for SQL access, once its tables
    and columns are checked (:class:`~csc_outcomes.warehouse.schema.WarehouseSchemaError`)."""
    con = _open(path)
    try:
        schema.check(con, Path(path))
    except BaseException:
        con.close()
        raise
    return con


def check_schema(path: Path) -> None:
    """Raise :class:`~csc_outcomes.warehouse.schema.WarehouseSchemaError` (naming the table,
    column or version, and saying to ingest again) unless the warehouse at ``path`` is one
    this kit reads: what a command calls before it starts any work on it."""
    connect(path).close()


def la_codes(path: Path) -> list[str]:
    """The LAs the warehouse holds data for (those in ``supplied``), sorted."""
    with connect(path) as con:
        rows = con.execute('SELECT DISTINCT la_code FROM "supplied" WHERE la_code IS NOT NULL').fetchall()
    return sorted(str(r[0]) for r in rows)


def table_names(path: Path) -> list[str]:
    """Names of the tables in the warehouse, sorted."""
    with _open(path) as con:
        return sorted(r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall())


def _read(con: duckdb.DuckDBPyConnection, name: str, la_codes: list[str] | None) -> pd.DataFrame:
    """Table ``name``, only the rows of ``la_codes`` when given."""
    if la_codes:
        placeholders = ", ".join("?" for _ in la_codes)
        return con.execute(f'SELECT * FROM "{name}" WHERE la_code IN ({placeholders})', list(la_codes)).df()
    return con.execute(f'SELECT * FROM "{name}"').df()


def read_tables(path: Path, la_codes: list[str] | None = None) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """The canonical tables (dtypes as in the contract) and ``supplied``, optionally for some LAs."""
    la_codes = [c.strip().upper() for c in la_codes] if la_codes else None
    with connect(path) as con:
        tables = {t: coerce_frame(_read(con, t, la_codes), t) for t in TABLE_SOURCE}
        supplied = _read(con, "supplied", la_codes)
    supplied["collection_year"] = supplied["collection_year"].astype("Int64")
    return tables, supplied


def read_table(path: Path, name: str, la_codes: list[str] | None = None) -> pd.DataFrame:
    """Any one warehouse table (``rejects``, ``repairs``, ...) as a DataFrame (its
    columns checked when it is one of the kit's tables)."""
    with _open(path) as con:
        if name in schema.ALL_TABLES:
            schema.check(con, Path(path), [name])
        return _read(con, name, la_codes)
