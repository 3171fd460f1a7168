"""Prepare one canonical table for the measures: the read fields, typed, de-duplicated.

:func:`prepare_table` is what ``base.Context`` calls once per table and computation.
A prepared table holds only what measures read, small: every field of ``fields.FIELDS``
present (a missing one added empty), dates as ``datetime64[ns]``, compared codes
stripped and upper-cased, the catalogue's duplicates rule applied
(``keys.latest_versions``), the child identifier replaced by an integer ``child_key``
(int32 when it fits), lineage dropped (except the OC2/OC3 year) and ``la_code``
categorical over the computation's LA codes.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from csc_outcomes.keys import latest_versions, version_key
from csc_outcomes.measures.day_numbers import days
from csc_outcomes.measures.fields import (
    CHILD_COLUMN,
    CODES,
    DATES,
    FIELDS,
    KEEP_LINEAGE,
    read_columns,
)

#: The SSDA903 codebook of a computation: its LA codes and every ``CHILD`` id, so that
#: ``child_key`` is the same integer for the same (LA, child) in every SSDA903 table.
Codebook = tuple[pd.Index, pd.Index]


def prepare_table(
    df: pd.DataFrame | None,
    name: str,
    codebook: Codebook | None = None,
    la_codes: pd.Index | None = None,
) -> pd.DataFrame:
    """The canonical table ``name`` prepared for the measures (see the module docstring).

    ``df`` may be ``None`` (the table was not supplied): the result is then empty
    with every field. ``codebook`` (SSDA903 tables) makes ``child_key`` consistent
    across tables; ``la_codes`` are the categories of ``la_code``.
    """
    df = _typed_columns(_with_fields(df, name), name)
    child_col = CHILD_COLUMN.get(name)
    la_idx, la_uniques = _factorize_few(df["la_code"])
    if child_col is not None:
        df["child_key"] = _child_key(df[child_col], la_idx, la_uniques, codebook)
    keep_rows = _rows_to_keep(df, name, la_idx)
    df = df.drop(columns=_unread_columns(df, name))
    df["la_code"] = _la_categorical(la_idx, la_uniques, la_codes)
    if keep_rows is not None and not keep_rows.all():
        df = df[keep_rows]
    return df.reset_index(drop=True)


def _with_fields(df: pd.DataFrame | None, name: str) -> pd.DataFrame:
    """Only the lineage and fields measures read (source file names are large and
    unused), every field present: a missing date as NaT, anything else as None."""
    fields = FIELDS.get(name, [])
    if df is None:
        df = pd.DataFrame(columns=["la_code", *fields])
    df = df[read_columns(name, df.columns)].copy(deep=False)
    if "la_code" not in df.columns:
        df["la_code"] = pd.Series(dtype="object")
    dates = DATES.get(name, [])
    for col in fields:
        if col in df.columns:
            continue
        if col in dates:
            df[col] = np.full(len(df), np.datetime64("NaT"), dtype="datetime64[ns]")
        else:
            df[col] = pd.Series(np.full(len(df), None, dtype=object), index=df.index, dtype=object)
    return df.reset_index(drop=True)


def _typed_columns(df: pd.DataFrame, name: str) -> pd.DataFrame:
    """Dates as ``datetime64[ns]`` (unparseable ones NaT), compared codes normalised."""
    for col in DATES.get(name, []):
        if not pd.api.types.is_datetime64_any_dtype(df[col].dtype):
            df[col] = pd.to_datetime(df[col], errors="coerce")
        if df[col].dtype != "datetime64[ns]":
            df[col] = df[col].astype("datetime64[ns]")
    for col in CODES.get(name, []):
        s = df[col]
        if s.notna().any():
            df[col] = pd.Series(_normalise_codes(s), index=df.index, dtype=object)
    return df


def _normalise_codes(s: pd.Series) -> np.ndarray:
    """Stripped, upper-cased codes (blank -> None) as an object array.

    Normalises the distinct values only and maps them back, so every row points at
    one shared string per code (no per-row string objects)."""
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    distinct = pd.Series(np.asarray(uniques, dtype=object), dtype=object)
    norm = distinct.map(lambda v: str(v).strip().upper()).to_numpy(dtype=object)
    norm[norm == ""] = None
    out = np.empty(len(codes), dtype=object)
    valid = codes >= 0
    out[valid] = norm[codes[valid]]
    return out


def _factorize_few(s: pd.Series) -> tuple[np.ndarray, Any]:
    """``pd.factorize`` of a column with few distinct values (``la_code``).

    Arrow-backed strings are dictionary-encoded by pyarrow directly: the same codes
    (order of first appearance, -1 for missing) several times faster than pandas'
    generic path on millions of rows. Anything else goes through ``pd.factorize``."""
    if not isinstance(s.dtype, pd.CategoricalDtype) and hasattr(s.array, "__arrow_array__"):
        a = pa.array(s.array)
        if isinstance(a, pa.ChunkedArray):
            a = a.combine_chunks()
        if pa.types.is_string(a.type) or pa.types.is_large_string(a.type):
            enc = a.dictionary_encode()
            codes = enc.indices.fill_null(-1).to_numpy(zero_copy_only=False)
            uniques = np.asarray(enc.dictionary.to_pylist(), dtype=object)
            return codes.astype(np.intp), uniques
    return pd.factorize(s, use_na_sentinel=True)


def _la_categorical(codes: np.ndarray, uniques: Any, la_codes: pd.Index | None) -> pd.Categorical:
    """``la_code`` (given as ``pd.factorize`` codes and uniques) as a categorical over
    the context's LA codes (small int codes)."""
    names = pd.Index([str(u) for u in uniques], dtype=object)
    if la_codes is None:
        la_codes = pd.Index(sorted(set(names)), dtype=object)
    pos = la_codes.get_indexer(names)
    out = np.full(len(codes), -1, dtype="int64")
    valid = codes >= 0
    out[valid] = pos[codes[valid]]
    return pd.Categorical.from_codes(out, categories=la_codes)


def _child_key(
    child: pd.Series, la_idx: np.ndarray, la_uniques: Any, codebook: Codebook | None
) -> np.ndarray:
    """One integer per (LA, child): from the codebook when given (-1 for an id it does
    not hold), else from this table's own ids."""
    if codebook is not None and len(child):
        la_pos = np.asarray(_la_categorical(la_idx, la_uniques, codebook[0]).codes)
        ch_pos = codebook[1].get_indexer(pd.Index(child.astype(str)))
        n = np.int64(len(codebook[1]) + 1)
        key = la_pos.astype("int64") * n + ch_pos.astype("int64")
        key = np.where((la_pos < 0) | (ch_pos < 0), -1, key)
        return _small_ints(key, (len(codebook[0]) + 1) * int(n))
    ch_codes, ch_uniques = pd.factorize(child, use_na_sentinel=True)
    n = np.int64(len(ch_uniques) + 1)
    key = la_idx.astype("int64") * n + ch_codes.astype("int64")
    return _small_ints(key, (int(la_idx.max(initial=0)) + 2) * int(n))


def _small_ints(values: np.ndarray, bound: int) -> np.ndarray:
    """``values`` as int32 when every possible value fits, else int64."""
    if bound < np.iinfo(np.int32).max:
        return values.astype("int32")
    return values.astype("int64")


def _rows_to_keep(df: pd.DataFrame, name: str, la_idx: np.ndarray) -> np.ndarray | None:
    """The mask of rows the duplicates rule keeps (contacts: only rows with a
    ``contact_id``, which they are counted by); ``None`` when every row stays."""
    keep = None
    if not df.empty and all(c in df.columns for c in version_key(name) if c != "collection_year"):
        keep = _latest(df, name, la_idx)
    if name == "contacts":
        valid = df["contact_id"].notna().to_numpy()
        keep = valid if keep is None else keep & valid
    return keep


def _unread_columns(df: pd.DataFrame, name: str) -> list[str]:
    """What no measure reads once the duplicates rule is applied: the child id (now
    ``child_key``), lineage except the OC2/OC3 year, a contact's id."""
    kept = KEEP_LINEAGE.get(name, [])
    drop = [c for c in ("collection_year", "source_line") if c in df.columns and c not in kept]
    child_col = CHILD_COLUMN.get(name)
    if child_col is not None and child_col in df.columns:
        drop.append(child_col)
    if name == "contacts":
        drop.append("contact_id")
    return drop


def _latest(df: pd.DataFrame, name: str, la_idx: np.ndarray) -> np.ndarray | None:
    """``keys.latest_versions`` applied only where a record key occurs more than once.

    Returns the mask of rows to keep (``None`` when every key is unique). Rows whose
    key is unique are kept as they are (the rule cannot change them), so the costly
    sort runs on the few duplicated records; the kept rows, in their order, are those
    of ``latest_versions(df, name)``. ``df`` has a RangeIndex.
    """
    key = _record_key(df, name, la_idx)
    # Rows whose key occurs more than once (a sort, cheaper than a hash table here).
    sk = np.sort(key)
    same = sk[1:] == sk[:-1]
    if not same.any():
        return None
    dupvals = np.unique(sk[1:][same])
    del sk, same
    dup = dupvals[np.minimum(np.searchsorted(dupvals, key), len(dupvals) - 1)] == key
    chosen = latest_versions(df[dup], name)
    keep = ~dup
    keep[chosen.index.to_numpy()] = True
    return keep


def _record_key(df: pd.DataFrame, name: str, la_idx: np.ndarray) -> np.ndarray:
    """One int64 per row, equal for rows with the same ``keys.version_key`` values."""
    cols = [c for c in version_key(name) if c in df.columns]
    child_col = CHILD_COLUMN.get(name)
    key = np.zeros(len(df), dtype="int64")
    bound = 1
    for col in cols:
        if col == "la_code" and "child_key" in df.columns and child_col in cols:
            continue  # child_key already combines LA and child
        codes, n = _column_codes(df, col, child_col, la_idx)
        if bound * n >= (1 << 62):
            key, uniq = pd.factorize(key)
            key, bound = key.astype("int64"), len(uniq) + 1
        key = key * np.int64(n) + (codes + 1)
        bound *= n + 1
    return key


def _column_codes(
    df: pd.DataFrame, col: str, child_col: str | None, la_idx: np.ndarray
) -> tuple[np.ndarray, int]:
    """Small int64 codes of one key column (-1 missing) and their bound."""
    if col == child_col:
        codes = df["child_key"].to_numpy().astype("int64")
        return codes, int(codes.max()) + 2
    if col == "la_code":
        return la_idx.astype("int64"), int(la_idx.max()) + 2
    if pd.api.types.is_datetime64_any_dtype(df[col].dtype):
        d = days(df[col])
        valid = d > 0
        lo = int(d[valid].min()) if valid.any() else 0
        codes = np.where(valid, d - lo, -1)
        return codes, (int(codes.max()) + 2) if len(codes) else 1
    factor_codes, uniques = pd.factorize(df[col], use_na_sentinel=True)
    return factor_codes.astype("int64"), len(uniques) + 1


__all__ = ["Codebook", "prepare_table"]
