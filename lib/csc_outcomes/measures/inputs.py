"""What the measures take: the canonical tables of every LA, and which were supplied.

The measures step reads what ingest wrote, either the in-memory result of an ingest or
the warehouse file; it never reaches back into the readers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from csc_outcomes.measures.fields import FIELDS, read_columns


@dataclass
class MeasureInputs:
    """Canonical tables (all LAs) and the (la_code, table_name) pairs that were supplied.

    ``supplied`` decides the catalogue's "absent sources" rule: a measure whose source
    table was never supplied for an LA gives no row for that LA. When ``supplied`` is
    empty it is inferred from the tables' own rows (handy for hand-built fixtures).
    """

    tables: dict[str, pd.DataFrame]
    supplied: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=["la_code", "table_name"])
    )

    def __post_init__(self) -> None:
        if self.supplied.empty:
            rows = [
                (la, name)
                for name, df in self.tables.items()
                if "la_code" in df.columns
                for la in df["la_code"].dropna().unique()
            ]
            self.supplied = pd.DataFrame(rows, columns=["la_code", "table_name"])

    @property
    def la_codes(self) -> list[str]:
        """Every LA with any supplied table, sorted."""
        return sorted(self.supplied["la_code"].astype(str).unique())

    def has(self, la_code: str, table_name: str) -> bool:
        """Whether ``table_name`` was supplied for ``la_code`` in any year."""
        s = self.supplied
        return bool(((s["la_code"] == la_code) & (s["table_name"] == table_name)).any())

    def table(self, name: str) -> pd.DataFrame:
        """A canonical table, or an empty frame when no LA supplied it."""
        return self.tables.get(name, pd.DataFrame(columns=["la_code"]))

    @classmethod
    def from_ingest(cls, result: Any) -> MeasureInputs:
        """From an ``ingest.IngestResult`` (attributes ``tables`` and ``supplied``)."""
        return cls(tables=dict(result.tables), supplied=_supplied_columns(result.supplied))

    @classmethod
    def from_warehouse(
        cls, path: str | Path, la_codes: list[str] | None = None, *, measures_only: bool = False
    ) -> MeasureInputs:
        """From a warehouse file written by ``csc-outcomes ingest``.

        ``measures_only=True`` reads only the tables and columns the measures read
        (``fields.read_columns``: ``fields.FIELDS`` plus ``la_code``,
        ``collection_year`` and ``source_line``), one table at a time, with
        ``la_code`` categorical: use it when only ``compute_measures`` follows (at
        national scale it needs a fraction of the memory and time of the full read,
        which holds every table and column, source file names included). The default
        returns every table and column.
        """
        # DuckDB is loaded only when a warehouse is read (measures from an ingest
        # result, and the tests, never need it).
        from csc_outcomes import warehouse  # noqa: PLC0415 - heavy, see above

        if not measures_only:
            tables, supplied = warehouse.read_tables(Path(path), la_codes=la_codes)
            return cls(tables=tables, supplied=_supplied_columns(supplied))
        return cls._from_warehouse_slim(Path(path), la_codes)

    @classmethod
    def _from_warehouse_slim(cls, path: Path, la_codes: list[str] | None) -> MeasureInputs:
        """Only the tables and columns measures read, one table at a time, through
        ``warehouse.connect`` (the warehouse's SQL access)."""
        from csc_outcomes import warehouse  # noqa: PLC0415 - DuckDB: see from_warehouse

        where, params = _la_filter(la_codes)
        with warehouse.connect(path) as con:
            present = _columns_by_table(con)
            supplied = con.execute(f'SELECT * FROM "supplied"{where}', params).df()
        tables = {
            t: _read_slim(path, t, read_columns(t, present[t]), where, params)
            for t in FIELDS
            if t in present
        }
        if "collection_year" in supplied.columns:
            supplied["collection_year"] = supplied["collection_year"].astype("Int64")
        las = pd.Index(sorted(supplied["la_code"].dropna().astype(str).unique()), dtype=object)
        for df in tables.values():
            df["la_code"] = pd.Categorical(df["la_code"].astype(object), categories=las)
        return cls(tables=tables, supplied=_supplied_columns(supplied))


def _la_filter(la_codes: list[str] | None) -> tuple[str, list[str]]:
    """The SQL ``WHERE`` clause (with its parameters) keeping the LAs asked for."""
    if not la_codes:
        return "", []
    wanted = [c.strip().upper() for c in la_codes]
    return f" WHERE la_code IN ({', '.join('?' for _ in wanted)})", wanted


def _columns_by_table(con: Any) -> dict[str, list[str]]:
    """Each warehouse table's column names."""
    rows = con.execute(
        "SELECT table_name, list(column_name) FROM information_schema.columns "
        "GROUP BY table_name"
    ).fetchall()
    return {r[0]: r[1] for r in rows}


def _read_slim(path: Path, table: str, columns: list[str], where: str,
               params: list[str]) -> pd.DataFrame:
    """``columns`` of one warehouse table, with the canonical dtypes.

    One connection per table: DuckDB's buffer cache is freed with it, so the memory
    held is the tables read so far, not the database's blocks.
    """
    from csc_outcomes import warehouse  # noqa: PLC0415 - DuckDB: see from_warehouse
    from csc_outcomes.ingest import contracts  # noqa: PLC0415 - pandera, as heavy

    sel = ", ".join(f'"{c}"' for c in columns)
    with warehouse.connect(path) as con:
        rel = con.sql(f'SELECT {sel} FROM "{table}"{where}', params=params or None)
        # a relation's Arrow output (no DB-API copy): ``to_arrow_table`` in DuckDB >=
        # 1.2, ``arrow`` before
        fetch = getattr(rel, "to_arrow_table", None) or rel.arrow
        arrow = fetch()
        del rel
    return _typed(arrow, contracts.canonical_dtypes(table))


def _typed(table: pa.Table, dtypes: dict[str, str]) -> pd.DataFrame:
    """An Arrow table read from the warehouse as pandas with the canonical dtypes
    (dates ``datetime64[ns]``, counts ``Int64``, booleans ``boolean``; strings as
    pandas converts Arrow strings: ``str`` on pandas 3, ``object`` before)."""
    frame = {}
    for name in table.column_names:
        frame[name] = _typed_column(table.column(name), dtypes.get(name)).reset_index(drop=True)
    return pd.DataFrame(frame)


def _typed_column(col: pa.ChunkedArray, dtype: str | None) -> pd.Series:
    """One Arrow column as a pandas Series of its canonical dtype."""
    if dtype == "datetime64[ns]":
        return pd.Series(col.to_pandas(date_as_object=False)).astype("datetime64[ns]")
    if dtype in ("Int64", "boolean"):
        mapper = {pa.int64(): pd.Int64Dtype(), pa.bool_(): pd.BooleanDtype()}.get
        return pd.Series(col.to_pandas(types_mapper=mapper)).astype(pd.api.types.pandas_dtype(dtype))
    # Copy the strings into buffers of their own: a zero-copy column would keep the
    # reader's whole record batches (every column) alive.
    own = pa.concat_arrays([*col.chunks, pa.array([], type=col.type)])
    return pd.Series(own.to_pandas())


def _supplied_columns(supplied: pd.DataFrame) -> pd.DataFrame:
    """``la_code, table_name`` and, when known, ``collection_year`` (the OC2/OC3 year
    rule uses the years supplied, even a year whose file had no rows)."""
    cols = ["la_code", "table_name"]
    if "collection_year" in supplied.columns:
        cols.append("collection_year")
    return supplied[cols].copy()
