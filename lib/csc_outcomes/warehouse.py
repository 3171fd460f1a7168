"""The warehouse: one DuckDB file. The only module that talks to DuckDB.

Tables: every canonical table of ``keys.TABLE_SOURCE`` (always present, empty when no LA
supplied it), ``rejects``, ``repairs``, ``supplied`` and ``ingest_runs`` (one row: started,
finished, input_hash, counts as JSON). Data tables hold no timestamps, and rows are
written in a fixed order, so ingesting the same files twice gives the same content.

Writes are atomic: the file is built at a temporary path beside the target and moved
into place with ``os.replace``; a failed or interrupted write leaves the previous
warehouse untouched (and removes the temporary file).
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa

from csc_outcomes.ingest import contracts
from csc_outcomes.keys import TABLE_SOURCE

META_TABLES = ["rejects", "repairs", "supplied", "ingest_runs"]


def _sql_type(dtype: str) -> str:
    return {"str": "VARCHAR", "datetime64[ns]": "DATE", "Int64": "BIGINT", "boolean": "BOOLEAN"}[dtype]


def _create(con: duckdb.DuckDBPyConnection, name: str, df: pd.DataFrame, types: dict[str, str]) -> None:
    """Create table ``name`` with explicit column types and insert ``df``."""
    cols = ", ".join(f'"{c}" {t}' for c, t in types.items())
    con.execute(f'CREATE TABLE "{name}" ({cols})')
    if len(df):
        # handed to DuckDB as an Arrow table: string columns are passed without a copy to
        # Python objects, and DuckDB reads the columns in bulk
        view = f"_df_{name}"
        frame = df[list(types)]
        arrays = []
        for c, t in types.items():
            s = frame[c]
            if t == "VARCHAR" and s.dtype == object:
                s = s.where(s.notna(), None).astype(contracts._str_dtype())
            arrays.append(pa.array(s, from_pandas=True))
        table = pa.Table.from_arrays(arrays, names=list(types))
        con.register(view, table)
        sel = ", ".join(f'CAST("{c}" AS {t})' for c, t in types.items())
        con.execute(f'INSERT INTO "{name}" SELECT {sel} FROM "{view}"')
        con.unregister(view)


def write(path: Path, result: Any) -> None:
    """Write an ``ingest.IngestResult`` to ``path`` atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    try:
        con = duckdb.connect(str(tmp))
        try:
            for t in TABLE_SOURCE:
                df = result.tables.get(t)
                df = contracts.empty_frame(t) if df is None else contracts.coerce_frame(df, t)
                types = {c: _sql_type(d) for c, d in contracts.canonical_dtypes(t).items()}
                _create(con, t, df, types)
            _create(con, "rejects", result.rejects, {
                "la_code": "VARCHAR", "source_file": "VARCHAR", "table_name": "VARCHAR", "source_line": "BIGINT",
                "column": "VARCHAR", "value": "VARCHAR", "rule": "VARCHAR", "message": "VARCHAR"})
            _create(con, "repairs", result.repairs, {
                "la_code": "VARCHAR", "table_name": "VARCHAR", "key": "VARCHAR", "rule": "VARCHAR",
                "detail": "VARCHAR"})
            _create(con, "supplied", result.supplied, {
                "la_code": "VARCHAR", "source": "VARCHAR", "table_name": "VARCHAR", "collection_year": "BIGINT",
                "source_file": "VARCHAR"})
            runs = pd.DataFrame([{
                "started": getattr(result, "started", None),
                "finished": getattr(result, "finished", None),
                "input_hash": getattr(result, "input_hash", ""),
                "counts": json.dumps(result.qa.get("summary", {}), default=str),
            }])
            runs["started"] = pd.to_datetime(runs["started"], utc=True).dt.tz_localize(None)
            runs["finished"] = pd.to_datetime(runs["finished"], utc=True).dt.tz_localize(None)
            _create(con, "ingest_runs", runs, {"started": "TIMESTAMP", "finished": "TIMESTAMP",
                                                "input_hash": "VARCHAR", "counts": "VARCHAR"})
            con.execute("CHECKPOINT")
        finally:
            con.close()
        os.replace(tmp, path)
    except BaseException:
        for p in (tmp, tmp.with_name(tmp.name + ".wal")):
            try:
                p.unlink()
            except FileNotFoundError:
                pass
        raise
    wal = tmp.with_name(tmp.name + ".wal")
    if wal.exists():  # pragma: no cover - CHECKPOINT leaves none
        wal.unlink()


def connect(path: Path, read_only: bool = True) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection to the warehouse (read-only by default), for SQL access."""
    path = Path(path)
    if read_only and not path.exists():
        raise FileNotFoundError(f"no warehouse at {path}; run 'csc-outcomes ingest' first")
    return duckdb.connect(str(path), read_only=read_only)


def table_names(path: Path) -> list[str]:
    """Names of the tables in the warehouse, sorted."""
    with connect(path) as con:
        return sorted(r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall())


def _read(con, name: str, la_codes: list[str] | None) -> pd.DataFrame:
    if la_codes:
        placeholders = ", ".join("?" for _ in la_codes)
        return con.execute(f'SELECT * FROM "{name}" WHERE la_code IN ({placeholders})', list(la_codes)).df()
    return con.execute(f'SELECT * FROM "{name}"').df()


def read_tables(path: Path, la_codes: list[str] | None = None) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """The canonical tables (dtypes as in the contract) and ``supplied``, optionally for some LAs."""
    la_codes = [c.strip().upper() for c in la_codes] if la_codes else None
    with connect(path) as con:
        present = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        tables = {}
        for t in TABLE_SOURCE:
            if t in present:
                tables[t] = contracts.coerce_frame(_read(con, t, la_codes), t)
            else:
                tables[t] = contracts.empty_frame(t)
        supplied = _read(con, "supplied", la_codes) if "supplied" in present else pd.DataFrame(
            columns=["la_code", "source", "table_name", "collection_year", "source_file"])
    if "collection_year" in supplied.columns:
        supplied["collection_year"] = supplied["collection_year"].astype("Int64")
    return tables, supplied


def read_table(path: Path, name: str, la_codes: list[str] | None = None) -> pd.DataFrame:
    """Any one warehouse table (``rejects``, ``repairs``, ...) as a DataFrame."""
    with connect(path) as con:
        return _read(con, name, la_codes)
