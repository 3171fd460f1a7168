"""Reading the warehouse: the canonical tables' one reader, schema checked.

Every read first checks that the file holds the tables and columns it reads
(:func:`~csc_outcomes.warehouse.schema.check`), so that a warehouse written by another
version of the kit fails at once with a message saying to ingest again, not later with
a missing column.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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


def _read(con: duckdb.DuckDBPyConnection, name: str, la_codes: list[str] | None,
          columns: Sequence[str] | None = None) -> pd.DataFrame:
    """Table ``name``: only ``columns`` when given (projected in SQL, so the others are
    never read), only the rows of ``la_codes`` when given."""
    select = ", ".join(f'"{c}"' for c in columns) if columns else "*"
    if la_codes:
        placeholders = ", ".join("?" for _ in la_codes)
        return con.execute(f'SELECT {select} FROM "{name}" WHERE la_code IN ({placeholders})',
                           list(la_codes)).df()
    return con.execute(f'SELECT {select} FROM "{name}"').df()


def _projection(name: str, columns: Sequence[str] | None) -> list[str] | None:
    """``columns`` of table ``name`` checked against its schema (``None``: every column)."""
    if columns is None:
        return None
    known = schema.column_types(name)
    unknown = [c for c in columns if c not in known]
    if unknown or not columns:
        raise ValueError(f"table {name!r} has no column(s) {', '.join(unknown) or '(none asked)'}; "
                         f"its columns: {', '.join(known)}")
    return list(dict.fromkeys(columns))


def read_tables(path: Path, la_codes: list[str] | None = None,
                columns: Mapping[str, Sequence[str]] | None = None,
                ) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """The canonical tables (dtypes as in the contract) and ``supplied``, optionally for some LAs.

    ``columns`` (table -> column names) reads only those tables and, of each, only those
    columns, projected in SQL: what a pooled model's frame reads (``stats.frames``), a
    fraction of the warehouse at national scale. Without it every table and column.
    """
    la_codes = [c.strip().upper() for c in la_codes] if la_codes else None
    wanted = {t: _projection(t, columns.get(t)) for t in TABLE_SOURCE if t in columns} \
        if columns is not None else dict.fromkeys(TABLE_SOURCE)
    unknown = sorted(set(columns or ()) - set(TABLE_SOURCE))
    if unknown:
        raise ValueError(f"no canonical table(s) {', '.join(unknown)}")
    with connect(path) as con:
        tables = {t: coerce_frame(_read(con, t, la_codes, cols), t, cols) for t, cols in wanted.items()}
        supplied = _read(con, "supplied", la_codes)
    supplied["collection_year"] = supplied["collection_year"].astype("Int64")
    return tables, supplied


def read_table(path: Path, name: str, la_codes: list[str] | None = None,
               columns: Sequence[str] | None = None) -> pd.DataFrame:
    """Any one warehouse table (``rejects``, ``repairs``, ...) as a DataFrame (its
    columns checked when it is one of the kit's tables); only ``columns`` when given
    (projected in SQL)."""
    with _open(path) as con:
        if name in schema.ALL_TABLES:
            schema.check(con, Path(path), [name])
        return _read(con, name, la_codes, _projection(name, columns))
