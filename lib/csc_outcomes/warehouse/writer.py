"""Writing the warehouse: an ingest's result stored atomically, with its QA report.

:func:`write` builds the DuckDB file at a temporary path beside the target and moves
it into place (``atomic.atomic_path``): a failed or interrupted write leaves the
previous warehouse untouched. :func:`write_ingest` decides whether an ingest may
replace the warehouse (only when it completed, or with ``keep_going``) and always
writes the QA report; :func:`ingest_into` is an ingest followed by that.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterable
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa

from csc_outcomes.atomic import atomic_path
from csc_outcomes.ingest import IngestResult, default_qa_path, ingest_folder, write_qa
from csc_outcomes.ingest.contracts import coerce_frame, empty_frame, str_dtype
from csc_outcomes.keys import TABLE_SOURCE
from csc_outcomes.warehouse.schema import META_COLUMNS, SCHEMA_VERSION, column_types

#: The warehouse's permissions: it holds child-level data, so the owner's only.
FILE_MODE = 0o600


def create_table(con: duckdb.DuckDBPyConnection, name: str, df: pd.DataFrame, types: dict[str, str]) -> None:
    """Create table ``name`` with explicit column types and insert ``df``."""
    cols = ", ".join(f'"{c}" {t}' for c, t in types.items())
    con.execute(f'CREATE TABLE "{name}" ({cols})')
    if not len(df):
        return
    # handed to DuckDB as an Arrow table: string columns are passed without a copy to
    # Python objects, and DuckDB reads the columns in bulk
    view = f"_df_{name}"
    frame = df[list(types)]
    arrays = []
    for c, t in types.items():
        s = frame[c]
        if t == "VARCHAR" and s.dtype == object:
            s = s.where(s.notna(), None).astype(str_dtype())
        arrays.append(pa.array(s, from_pandas=True))
    con.register(view, pa.Table.from_arrays(arrays, names=list(types)))
    sel = ", ".join(f'CAST("{c}" AS {t})' for c, t in types.items())
    con.execute(f'INSERT INTO "{name}" SELECT {sel} FROM "{view}"')
    con.unregister(view)


def _utc_naive(when: dt.datetime | None) -> pd.Series:
    """A time as a one-row column of naive UTC timestamps (DuckDB's TIMESTAMP)."""
    return pd.to_datetime(pd.Series([when]), utc=True).dt.tz_localize(None)


def _ingest_run(result: IngestResult) -> pd.DataFrame:
    """The one row of ``ingest_runs``: when the ingest ran, its input hash, its counts."""
    # a result built by hand (tests, tools) may carry no times
    started, finished = getattr(result, "started", None), getattr(result, "finished", None)
    return pd.DataFrame({
        "started": _utc_naive(started),
        "finished": _utc_naive(finished),
        "input_hash": [getattr(result, "input_hash", "")],
        "counts": [json.dumps(result.qa.get("summary", {}), default=str)],
    })


def _input_files(result: IngestResult) -> pd.DataFrame:
    """``input_files``: every raw file behind the warehouse, sorted by path (a result
    built by hand may carry none)."""
    files = getattr(result, "input_files", None)
    if files is None or not len(files):
        return pd.DataFrame(columns=list(META_COLUMNS["input_files"]))
    return files.sort_values("path", kind="stable").reset_index(drop=True)


def _write_tables(con: duckdb.DuckDBPyConnection, result: IngestResult) -> None:
    """Every canonical table (empty when no LA supplied it), then the meta tables."""
    for t in TABLE_SOURCE:
        df = result.tables.get(t)
        df = empty_frame(t) if df is None else coerce_frame(df, t)
        create_table(con, t, df, column_types(t))
    meta = {"rejects": result.rejects, "repairs": result.repairs, "supplied": result.supplied,
            "ingest_runs": _ingest_run(result), "input_files": _input_files(result),
            "schema_version": pd.DataFrame({"version": [SCHEMA_VERSION]})}
    for name, types in META_COLUMNS.items():
        create_table(con, name, meta[name], types)


def write(path: Path, result: IngestResult) -> None:
    """Write an ingest's result to the warehouse at ``path`` atomically (``0600``).

    Data tables hold no timestamps and rows are written in a fixed order, so writing
    the same ingest twice gives the same content.
    """
    with atomic_path(path, mode=FILE_MODE) as tmp:
        tmp.unlink()  # DuckDB creates the file itself (it refuses an empty one)
        wal = tmp.with_name(tmp.name + ".wal")
        try:
            con = duckdb.connect(str(tmp))
            try:
                _write_tables(con, result)
                con.execute("CHECKPOINT")
            finally:
                con.close()
        finally:
            wal.unlink(missing_ok=True)  # left only by a failed write: CHECKPOINT empties it


def write_ingest(result: IngestResult, warehouse_path: Path, *, qa_report: Path | None = None,
                 keep_going: bool = False) -> IngestResult:
    """Store an ingest: the warehouse (atomically) and the QA report.

    The warehouse is replaced only when the ingest completed (exit code 0), or with
    ``keep_going`` also when a file was rejected; otherwise the previous warehouse is
    left as it was. The QA report (default :func:`~csc_outcomes.ingest.qa.default_qa_path`)
    is always written. Records ``warehouse``, ``warehouse_written`` and ``qa_report`` in
    ``result.qa`` and the seconds spent writing in ``result.timings["write"]``.
    """
    warehouse_path = Path(warehouse_path)
    qa_path = Path(qa_report) if qa_report else default_qa_path(warehouse_path)
    written = result.exit_code == 0 or keep_going
    result.qa["warehouse"] = str(warehouse_path)
    result.qa["warehouse_written"] = written
    if written:
        t0 = time.perf_counter()
        write(warehouse_path, result)
        result.timings["write"] = time.perf_counter() - t0
    write_qa(result.qa, qa_path)
    result.qa["qa_report"] = str(qa_path)
    return result


def ingest_into(input_dir: Path, warehouse_path: Path, *, qa_report: Path | None = None,
                strict: bool = False, progress: bool = True, today: dt.date | None = None,
                la_codes: list[str] | None = None, keep_going: bool = False, jobs: int | None = None,
                batch_bytes: int | None = None, allow_missing: Iterable[str] = ()) -> IngestResult:
    """Ingest ``input_dir`` (:func:`~csc_outcomes.ingest.ingest_folder`) and store it
    (:func:`write_ingest`): what ``csc-outcomes ingest`` does."""
    result = ingest_folder(input_dir, strict=strict, progress=progress, today=today, la_codes=la_codes,
                           jobs=jobs, batch_bytes=batch_bytes, allow_missing=allow_missing)
    return write_ingest(result, warehouse_path, qa_report=qa_report, keep_going=keep_going)
