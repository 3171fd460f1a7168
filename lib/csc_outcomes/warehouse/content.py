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
from collections.abc import Sequence
from pathlib import Path
from typing import Any

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


def projection_digest(con: duckdb.DuckDBPyConnection, name: str, columns: Sequence[str]) -> str:
    """SHA-256 (hex) of ``columns`` of one table, whatever the row order: computed in SQL.

    What a pooled model's cache key holds of its inputs (``reporting.model_cache``):
    only the columns the model reads, so a change elsewhere keeps the model, and fast
    enough to compute at every run on a national warehouse (one parallel scan, no sort,
    three numbers fetched; about 0.2 s per million rows). Each row's DuckDB ``hash`` of
    its values is summed (as HUGEINT: no overflow) and XORed, with the row count: adding,
    removing or changing a row changes them, moving one does not. Not a cryptographic
    digest (an accidental match is about 1 in 2**64), and DuckDB may change ``hash``
    between versions: a cache entry then misses once and is rebuilt. The table's name,
    the columns and their types go in too.
    """
    types = column_types(name)
    unknown = [c for c in columns if c not in types]
    if unknown or not columns:
        raise ValueError(f"table {name!r} has no column(s) {', '.join(unknown) or '(none asked)'}")
    ((count, total, xor),) = row_hash_sums(con, name, columns).values() or [(0, 0, 0)]
    head = name + "\0" + ",".join(f"{c}:{types[c]}" for c in columns)
    return hashlib.sha256(f"{head}\0{count}\0{total or 0}\0{xor or 0}".encode()).hexdigest()


def row_hash_sums(con: duckdb.DuckDBPyConnection, name: str, columns: Sequence[str],
                  group: str | None = None) -> dict[Any, tuple[int, int, int]]:
    """(row count, sum, XOR) of each row's DuckDB ``hash`` of ``columns``, per value of
    the column ``group`` (one entry, keyed None, when not given): one parallel scan,
    no sort (see :func:`projection_digest`)."""
    values = ", ".join(_quoted(c) for c in columns)
    key, by = (f"{_quoted(group)}, ", f" GROUP BY {_quoted(group)}") if group else ("NULL, ", "")
    found = con.execute(f"SELECT {key}count(*), sum(CAST(h AS HUGEINT)), bit_xor(h) FROM "
                        f"(SELECT {key}hash({values}) AS h FROM {_quoted(name)}){by}").fetchall()
    return {k: (n, total or 0, xor or 0) for k, n, total, xor in found if n}


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


def la_digests(path: str | Path) -> dict[str, str]:
    """SHA-256 (hex) of each LA's content: what an incremental run keys each LA's reports by.

    An incremental run re-runs only the LAs whose rows changed, so it needs one digest
    per LA, and a new month's national warehouse needs them all before the first report:
    each table's rows of the LA (``la_code``) summed as :func:`projection_digest` sums a
    model's columns (count, sum and XOR of each row's DuckDB ``hash`` of every column:
    1.2-3.4 s for 34 million rows, where hashing each row's JSON with SHA-256 and sorting
    took 42 s), with the tables in :data:`CONTENT_TABLES` order, their names and column
    types. Adding, removing or changing one of the LA's rows changes its digest; the
    order of rows does not. Not a cryptographic digest (the manifest's record of the
    whole warehouse is: :func:`content_hash`).
    """
    per_la: dict[str, dict[str, tuple[int, int, int]]] = {}
    with connect(Path(path)) as con:
        for name in CONTENT_TABLES:
            for la, sums in row_hash_sums(con, name, list(column_types(name)), "la_code").items():
                per_la.setdefault(str(la), {})[name] = sums
    out = {}
    for la, tables in per_la.items():
        h = hashlib.sha256()
        for name in CONTENT_TABLES:
            shape = ",".join(f"{c}:{t}" for c, t in column_types(name).items())
            h.update(f"{name}\0{shape}\0{tables.get(name, '')}\0".encode())
        out[la] = h.hexdigest()
    return out
