"""Shared helpers of the measure functions: periods, prepared tables, interval sums.

Everything here is pure and vectorised. The one piece of state is :class:`Context`, a
per-call cache: each canonical table is de-duplicated once (``keys.latest_versions``,
the catalogue's duplicates rule) and derived frames that several measures share (the
sorted episodes with their placement flags, the looked-after cohort per period end)
are built once per ``compute_measures`` call, however many measures use them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from csc_outcomes import calendar
from csc_outcomes.keys import latest_versions

#: The fields of each canonical table (docs/architecture.md) that the measures read.
#: A prepared table keeps only these (and ``la_code``, ``collection_year``,
#: ``source_line``); a field a supplied table lacks is added as missing.
FIELDS: dict[str, list[str]] = {
    "header": ["CHILD", "DOB", "UPN"],
    "episodes": ["CHILD", "DECOM", "RNE", "LS", "PLACE", "DEC", "PL_POST", "URN"],
    "oc2": ["CHILD", "DOB", "SDQ_SCORE", "HEALTH_CHECK", "IMMUNISATIONS", "TEETH_CHECK"],
    "oc3": ["CHILD", "DOB", "IN_TOUCH", "ACTIV", "ACCOM"],
    "missing": ["CHILD", "MISSING", "MIS_START"],
    "sw_episodes": ["CHILD", "SW_ID", "SW_DECOM", "SW_DEC"],
    "cin_episodes": ["LAchildID", "CINreferralDate", "CINclosureDate", "ReferralNFA"],
    "assessments": ["LAchildID", "AssessmentActualStartDate", "AssessmentAuthorisationDate"],
    "section47": ["LAchildID", "S47ActualStartDate", "DateOfInitialCPC"],
    "cp_plans": ["LAchildID", "CPPstartDate", "CPPendDate", "NumberOfPreviousCPP"],
    "attendance": [
        "UPN", "term_start", "sessions_possible", "sessions_authorised_absence",
        "sessions_unauthorised_absence",
    ],
    "suspensions": ["UPN", "start_date", "category"],
    "contacts": ["contact_id", "contact_date"],
}

#: Date columns of each table (coerced to datetime64[ns] when a fixture gives strings).
DATES: dict[str, list[str]] = {
    "header": ["DOB"],
    "episodes": ["DECOM", "DEC"],
    "oc2": ["DOB"],
    "oc3": ["DOB"],
    "missing": ["MIS_START"],
    "sw_episodes": ["SW_DECOM", "SW_DEC"],
    "cin_episodes": ["CINreferralDate", "CINclosureDate"],
    "assessments": ["AssessmentActualStartDate", "AssessmentAuthorisationDate"],
    "section47": ["S47ActualStartDate", "DateOfInitialCPC"],
    "cp_plans": ["CPPstartDate", "CPPendDate"],
    "attendance": ["term_start"],
    "suspensions": ["start_date"],
    "contacts": ["contact_date"],
}

#: Code-valued columns that measures compare (stripped and upper-cased defensively).
CODES: dict[str, list[str]] = {
    "header": ["UPN"],
    "attendance": ["UPN"],
    "episodes": ["RNE", "LS", "PLACE", "URN", "PL_POST"],
    "oc3": ["IN_TOUCH", "ACTIV", "ACCOM"],
    "missing": ["MISSING"],
    "suspensions": ["UPN", "category"],
}

#: The child identifier column of each table (``child_key`` is built from it and
#: ``la_code`` when the table is prepared).
CHILD_COLUMN: dict[str, str] = {
    **{t: "CHILD" for t in ("header", "episodes", "oc2", "oc3", "missing", "sw_episodes")},
    **{t: "LAchildID" for t in ("cin_episodes", "assessments", "section47", "cp_plans")},
}

#: Output columns of a measure function (before compute fills the grid).
RESULT_COLUMNS = ["la_code", "period_end", "numerator", "denominator"]

SHORT_BREAKS = ("V3", "V4")
TEMPORARY_ABSENCES = ("T0", "T1", "T2", "T3", "T4")
FOSTER = ("U1", "U2", "U3", "U4", "U5", "U6")
ADOPTION_WITH_CARER = ("A3", "A5")

_DAY0 = np.datetime64("1800-01-01", "D")
_SPAN = np.int64(1 << 20)  # days per LA block in composite keys (~2,870 years)


# --------------------------------------------------------------------------- periods


def make_periods(period_ends: Iterable[Any]) -> pd.DataFrame:
    """Normalise period ends (date-likes) into a sorted, de-duplicated frame.

    Columns: ``period_end``, ``window_start`` (``calendar.window_start``), ``prev_end``
    (``period_end`` minus one year) and ``prev_start`` (the window ending on
    ``prev_end``), all ``datetime64[ns]``.
    """
    ends = sorted({pd.Timestamp(p).normalize() for p in period_ends})
    if not ends:
        raise ValueError("at least one period end is needed")
    frame = pd.DataFrame({"period_end": pd.to_datetime(pd.Series(ends)).astype("datetime64[ns]")})
    frame["window_start"] = [calendar.window_start(p) for p in ends]
    prev = [calendar.add_years(p, -1) for p in ends]
    frame["prev_end"] = prev
    frame["prev_start"] = [calendar.window_start(p) for p in prev]
    for col in ("window_start", "prev_end", "prev_start"):
        frame[col] = pd.to_datetime(frame[col]).astype("datetime64[ns]")
    return frame


def days(values: pd.Series | pd.Index | np.ndarray) -> np.ndarray:
    """Whole days since 1800-01-01 as int64 (NaT becomes a very negative number)."""
    arr = np.asarray(values, dtype="datetime64[ns]").astype("datetime64[D]")
    out = (arr - _DAY0).astype("int64")
    out[np.isnat(arr)] = np.iinfo(np.int64).min // 4
    return out


def working_days_between(start: pd.Series, end: pd.Series) -> np.ndarray:
    """``calendar.working_days(start, end)`` for date columns without missing values,
    as int64: one cumulative count of working days over the dates' range, so each
    row is two look-ups (``count(end) - count(start)``; negative when ``end`` is
    before ``start``, as ``calendar.working_days``). Bank holidays come from
    ``calendar.bank_holidays`` (the ``holidays`` package)."""
    s, e = days(start), days(end)
    if not len(s):
        return np.zeros(0, dtype="int64")
    lo = int(min(s.min(), e.min()))
    hi = int(max(s.max(), e.max()))
    span = _DAY0 + np.arange(lo, hi + 1).astype("timedelta64[D]")
    y0, y1 = int(str(span[0])[:4]), int(str(span[-1])[:4])
    hols = np.array(
        [np.datetime64(d.date(), "D") for d in calendar.bank_holidays(y0 - 1, y1 + 1)],
        dtype="datetime64[D]",
    )
    count = np.cumsum(np.is_busday(span, holidays=hols)).astype("int64")
    out = count[e - lo] - count[s - lo]
    back = e < s  # end before start: numpy's own reversed count, as calendar's
    if back.any():
        one = np.timedelta64(1, "D")
        sd = (_DAY0 + s[back].astype("timedelta64[D]")) + one
        ed = (_DAY0 + e[back].astype("timedelta64[D]")) + one
        out[back] = np.busday_count(sd, ed, holidays=hols)
    return out


# --------------------------------------------------------------------------- context


class Context:
    """Prepared tables for one computation: de-duplicated once, derived frames memoised.

    ``ctx[name]`` is the canonical table ``name`` with the catalogue's duplicates rule
    applied (``keys.latest_versions``), every documented column present, dates as
    ``datetime64[ns]`` and compared codes stripped and upper-cased. To keep memory
    low a prepared table holds only what measures read: ``la_code`` is categorical
    (the same categories in every table of the context), the child identifier is
    replaced by the integer ``child_key`` (int32 when it fits) and lineage columns
    other than ``collection_year`` of OC2/OC3 are dropped.

    :meth:`release` drops prepared tables and memoised frames that no remaining
    measure needs (``compute.compute_measures`` calls it between measures).
    """

    def __init__(
        self, tables: Mapping[str, pd.DataFrame], supplied: pd.DataFrame | None = None
    ):
        self._raw = dict(tables)
        #: what was supplied (``la_code, table_name[, collection_year]``), if known
        self.supplied = supplied
        self._tables: dict[str, pd.DataFrame] = {}
        self._memo: dict[Any, Any] = {}

    def __getitem__(self, name: str) -> pd.DataFrame:
        if name not in self._tables:
            codebook = self._codebook() if CHILD_COLUMN.get(name) == "CHILD" else None
            self._tables[name] = _prepare(self._raw.get(name), name, codebook, self.la_codes())
        return self._tables[name]

    def la_codes(self) -> pd.Index:
        """Every LA code found in any table (sorted): the categories of ``la_code``."""
        if "_las" not in self._memo:
            las: set[str] = set()
            for df in self._raw.values():
                if df is None or "la_code" not in df.columns or not len(df):
                    continue
                las.update(str(x) for x in pd.unique(df["la_code"].dropna()))
            self._memo["_las"] = pd.Index(sorted(las), dtype=object)
        return self._memo["_las"]

    def _codebook(self) -> tuple[pd.Index, pd.Index]:
        """LA codes and SSDA903 ``CHILD`` ids of every table, so that ``child_key`` is
        the same integer for the same (LA, child) in every SSDA903 table."""
        if "_codebook" not in self._memo:
            children = []
            for t, df in self._raw.items():
                if df is None or "la_code" not in df.columns:
                    continue
                if CHILD_COLUMN.get(t) == "CHILD" and "CHILD" in df.columns:
                    children.append(pd.Series(pd.unique(df["CHILD"].dropna())).astype(str))
            kids = pd.concat(children, ignore_index=True).unique() if children else []
            self._memo["_codebook"] = (self.la_codes(), pd.Index(kids, dtype=object))
        return self._memo["_codebook"]

    def memo(self, key: Any, build: Callable[[], Any]) -> Any:
        """Build a derived value once per context (``key`` must be hashable)."""
        if key not in self._memo:
            self._memo[key] = build()
        return self._memo[key]

    def release(self, names: Iterable[str]) -> None:
        """Forget prepared tables and memoised frames named in ``names`` (a memo key
        is named by itself when a string, else by its first element)."""
        names = set(names)
        for t in [t for t in self._tables if t in names]:
            del self._tables[t]
        for k in list(self._memo):
            name = k if isinstance(k, str) else k[0]
            if name in names:
                del self._memo[k]

    def cached_names(self) -> set[str]:
        """Names of the prepared tables and memoised frames currently held."""
        out = set(self._tables)
        out.update(k if isinstance(k, str) else k[0] for k in self._memo)
        return out


def as_context(tables: Context | Mapping[str, pd.DataFrame]) -> Context:
    """Accept a :class:`Context` or a plain ``{name: DataFrame}`` mapping."""
    return tables if isinstance(tables, Context) else Context(tables)


def periods_key(periods: pd.DataFrame) -> tuple:
    return tuple(periods["period_end"].tolist())


def _normalise_codes(s: pd.Series) -> np.ndarray:
    """Stripped, upper-cased codes (blank -> None) as an object array.

    Normalises the distinct values only and maps them back, so every row points at
    one shared string per code (no per-row string objects)."""
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    norm = pd.Series(np.asarray(uniques, dtype=object), dtype=object)
    norm = norm.map(lambda v: str(v).strip().upper()).to_numpy(dtype=object)
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
        try:
            import pyarrow as pa

            a = pa.array(s.array)
            if isinstance(a, pa.ChunkedArray):
                a = a.combine_chunks()
            if pa.types.is_string(a.type) or pa.types.is_large_string(a.type):
                enc = a.dictionary_encode()
                codes = enc.indices.fill_null(-1).to_numpy(zero_copy_only=False)
                uniques = np.asarray(enc.dictionary.to_pylist(), dtype=object)
                return codes.astype(np.intp), uniques
        except Exception:  # noqa: BLE001 - fall back to pandas
            pass
    return pd.factorize(s, use_na_sentinel=True)


def _la_categorical(
    codes: np.ndarray, uniques: Any, la_codes: pd.Index | None
) -> pd.Categorical:
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


#: Lineage columns a prepared table keeps (the OC2/OC3 year rule reads the year).
KEEP_LINEAGE: dict[str, list[str]] = {"oc2": ["collection_year"], "oc3": ["collection_year"]}


def _prepare(
    df: pd.DataFrame | None,
    name: str,
    codebook: tuple[pd.Index, pd.Index] | None = None,
    la_codes: pd.Index | None = None,
) -> pd.DataFrame:
    fields = FIELDS.get(name, [])
    if df is None:
        df = pd.DataFrame(columns=["la_code", *fields])
    if name == "contacts" and "CHILD" not in df.columns and "LAchildID" in df.columns:
        df = df.rename(columns={"LAchildID": "CHILD"})
    # Only the columns measures read (lineage file names are large and unused).
    keep = [c for c in dict.fromkeys(["la_code", "collection_year", "source_line", *fields])
            if c in df.columns]
    df = df[keep].copy(deep=False)
    if "la_code" not in df.columns:
        df["la_code"] = pd.Series(dtype="object")
    dates = DATES.get(name, [])
    for col in fields:
        if col not in df.columns:
            if col in dates:
                df[col] = np.full(len(df), np.datetime64("NaT"), dtype="datetime64[ns]")
            else:
                df[col] = pd.Series(np.full(len(df), None, dtype=object), index=df.index,
                                    dtype=object)
    for col in DATES.get(name, []):
        if pd.api.types.is_datetime64_any_dtype(df[col].dtype):
            if df[col].dtype != "datetime64[ns]":
                df[col] = df[col].astype("datetime64[ns]")
        else:
            df[col] = pd.to_datetime(df[col], errors="coerce").astype("datetime64[ns]")
    for col in CODES.get(name, []):
        s = df[col]
        if s.notna().any():
            df[col] = pd.Series(_normalise_codes(s), index=df.index, dtype=object)
    df = df.reset_index(drop=True)
    child_col = CHILD_COLUMN.get(name)
    la_codes_i, la_uniques = _factorize_few(df["la_code"])
    if child_col is not None and codebook is not None and len(df):
        la_idx = np.asarray(_la_categorical(la_codes_i, la_uniques, codebook[0]).codes)
        ch_idx = codebook[1].get_indexer(df[child_col].astype(str))
        n = np.int64(len(codebook[1]) + 1)
        ck = la_idx.astype("int64") * n + ch_idx.astype("int64")
        df["child_key"] = _small_ints(np.where((la_idx < 0) | (ch_idx < 0), -1, ck),
                                      (len(codebook[0]) + 1) * int(n))
    elif child_col is not None:
        ch_codes, ch_uniques = pd.factorize(df[child_col], use_na_sentinel=True)
        n = np.int64(len(ch_uniques) + 1)
        ck = la_codes_i.astype("int64") * n + ch_codes.astype("int64")
        df["child_key"] = _small_ints(ck, (int(la_codes_i.max(initial=0)) + 2) * int(n))
    keep_rows = None
    if not df.empty and _has_key(df, name):
        keep_rows = _latest(df, name, la_codes_i)
    # The duplicates rule is applied: drop what no measure reads (the child id is now
    # ``child_key``; lineage except the OC2/OC3 year), before any row filtering copy.
    drop = [c for c in ("collection_year", "source_line") if c in df.columns
            and c not in KEEP_LINEAGE.get(name, [])]
    if child_col is not None and child_col in df.columns:
        drop.append(child_col)
    if name == "contacts":
        # contacts are counted by ``contact_id``: rows without one never count
        valid = df["contact_id"].notna().to_numpy()
        keep_rows = valid if keep_rows is None else keep_rows & valid
        drop.append("contact_id")
    if name == "contacts" and "CHILD" in df.columns:
        drop.append("CHILD")
    df = df.drop(columns=drop)
    df["la_code"] = _la_categorical(la_codes_i, la_uniques, la_codes)
    if keep_rows is not None and not keep_rows.all():
        df = df[keep_rows]
    return df.reset_index(drop=True)


def _small_ints(values: np.ndarray, bound: int) -> np.ndarray:
    """``values`` as int32 when every possible value fits, else int64."""
    if bound < np.iinfo(np.int32).max:
        return values.astype("int32")
    return values.astype("int64")


def _latest(df: pd.DataFrame, name: str, la_codes: np.ndarray) -> np.ndarray | None:
    """``keys.latest_versions`` applied only where a record key occurs more than once.

    Returns the mask of rows to keep (``None`` when every key is unique). Rows whose
    key is unique are kept as they are (the rule cannot change them), so the costly
    sort runs on the few duplicated records; the kept rows, in their order, are those
    of ``latest_versions(df, name)``. ``df`` has a RangeIndex.
    """
    from csc_outcomes.keys import version_key

    cols = [c for c in version_key(name) if c in df.columns]
    child_col = CHILD_COLUMN.get(name)
    key = np.zeros(len(df), dtype="int64")
    bound = 1
    for col in cols:
        if col == "la_code" and "child_key" in df.columns and child_col in cols:
            continue  # child_key already combines LA and child
        if col == child_col:
            codes = df["child_key"].to_numpy().astype("int64")
            n = int(codes.max()) + 2
        elif col == "la_code":
            codes, n = la_codes.astype("int64"), int(la_codes.max()) + 2
        elif pd.api.types.is_datetime64_any_dtype(df[col].dtype):
            d = days(df[col])
            valid = d > 0
            lo = int(d[valid].min()) if valid.any() else 0
            codes = np.where(valid, d - lo, -1)
            n = (int(codes.max()) + 2) if len(codes) else 1
        else:
            codes, uniques = pd.factorize(df[col], use_na_sentinel=True)
            codes, n = codes.astype("int64"), len(uniques) + 1
        if bound * n >= (1 << 62):
            key, uniq = pd.factorize(key)
            key, bound = key.astype("int64"), len(uniq) + 1
        key = key * np.int64(n) + (codes + 1)
        bound *= n + 1
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


def _has_key(df: pd.DataFrame, name: str) -> bool:
    from csc_outcomes.keys import version_key

    return all(c in df.columns for c in version_key(name) if c != "collection_year")


# --------------------------------------------------------------------------- keys


def child_keys(la: pd.Series, child: pd.Series) -> np.ndarray:
    """An int64 key per (LA, child) pair, consistent within one call."""
    la_codes, _ = pd.factorize(la, use_na_sentinel=True)
    ch_codes, ch_uniques = pd.factorize(child, use_na_sentinel=True)
    return la_codes.astype("int64") * np.int64(len(ch_uniques) + 1) + ch_codes.astype("int64")


def joint_child_keys(
    frames: Sequence[tuple[pd.Series, pd.Series]],
) -> list[np.ndarray]:
    """Consistent (LA, child) int keys across several frames (same child, same key)."""
    la = pd.concat([f[0] for f in frames], ignore_index=True)
    ch = pd.concat([f[1] for f in frames], ignore_index=True)
    keys = child_keys(la, ch)
    out, start = [], 0
    for f in frames:
        out.append(keys[start : start + len(f[0])])
        start += len(f[0])
    return out


def next_date_after(
    key_a: np.ndarray, date_a: pd.Series, key_b: np.ndarray, date_b: pd.Series
) -> np.ndarray:
    """For each row of A, days (since 1800) of B's first date strictly after A's date
    for the same key, or -1 when there is none. Keys are small non-negative ints."""
    db = days(date_b)
    ok = ~pd.isna(date_b).to_numpy()
    kb = key_b[ok].astype("int64") * _SPAN + db[ok]
    kb.sort()
    da = days(date_a)
    ka = key_a.astype("int64") * _SPAN + da
    # Look the queries up in sorted order (sequential access into ``kb``: much faster
    # than random-order binary searches over millions of rows), then put them back.
    order = np.argsort(ka, kind="stable")
    pos = np.empty(len(ka), dtype=np.intp)
    pos[order] = np.searchsorted(kb, ka[order], side="right")
    del order
    out = np.full(len(ka), -1, dtype="int64")
    inside = pos < len(kb)
    cand = kb[np.minimum(pos, len(kb) - 1)] if len(kb) else np.zeros(len(ka), dtype="int64")
    same = inside & (cand // _SPAN == key_a.astype("int64")) & ~pd.isna(date_a).to_numpy()
    out[same] = cand[same] % _SPAN
    return out


# --------------------------------------------------------------------------- sums


def window_sums(
    events: pd.DataFrame,
    date_col: str,
    periods: pd.DataFrame,
    values: Mapping[str, str | None],
    lo: str = "window_start",
    hi: str = "period_end",
) -> pd.DataFrame:
    """Sums of event values over each LA's window ``[periods[lo], periods[hi]]``.

    Interval logic, not a cross join: events are summed per (LA, date), cumulated,
    and each (LA, period) window is two ``searchsorted`` look-ups. ``values`` maps an
    output column to an event column (summed; booleans count) or ``None`` (a count of
    rows). Returns ``la_code, period_end`` and the output columns, one row per LA with
    events and period.
    """
    ev = events[events[date_col].notna()]
    if ev.empty:
        return pd.DataFrame(columns=["la_code", "period_end", *values])
    codes, las = pd.factorize(ev["la_code"])
    las = np.asarray(las, dtype=object)
    n_la, n_p = len(las), len(periods)
    lo_d, hi_d = days(periods[lo]), days(periods[hi])
    first, last = int(lo_d.min()) - 1, int(hi_d.max()) + 1
    # Dates outside every window only matter as "before" or "after": clip them, so
    # the dense (LA x day) table spans the periods' range plus two days.
    d = np.clip(days(ev[date_col]), first, last) - first
    width = last - first + 1
    cell = codes.astype("int64") * width + d
    la_idx = np.repeat(np.arange(n_la, dtype="int64"), n_p)
    i0 = la_idx * width + np.tile(lo_d - first, n_la) - 1  # last cell before the window
    i1 = la_idx * width + np.tile(hi_d - first, n_la)  # last cell in the window
    result = pd.DataFrame(
        {"la_code": las[la_idx], "period_end": np.tile(periods["period_end"].to_numpy(), n_la)}
    )
    for out, col in values.items():
        weights = None if col is None else np.asarray(ev[col].fillna(0).astype("int64"))
        dense = np.bincount(cell, weights=weights, minlength=n_la * width)
        cs = np.cumsum(dense.reshape(n_la, width), axis=1).ravel()
        result[out] = np.rint(cs[i1] - cs[i0]).astype("int64")
    return result


def rate_frame(
    frame: pd.DataFrame, numerator: str = "numerator", denominator: str = "denominator"
) -> pd.DataFrame:
    """Rename to the measure-function result columns."""
    out = frame.rename(columns={numerator: "numerator", denominator: "denominator"})
    if "denominator" not in out.columns:
        out["denominator"] = pd.NA
    return out[RESULT_COLUMNS]


def per_period(
    periods: pd.DataFrame, build: Callable[[pd.Series], pd.DataFrame]
) -> pd.DataFrame:
    """Concatenate ``build(period_row)`` over the (few) period ends, tagging each."""
    parts = []
    for _, p in periods.iterrows():
        part = build(p)
        part = part.assign(period_end=p["period_end"])
        parts.append(part)
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def count_children(
    frame: pd.DataFrame, flag: str | None = None, key: str = "child_key"
) -> pd.DataFrame:
    """Distinct children per (LA, period): all (denominator) and flagged (numerator)."""
    cols = ["la_code", "period_end"]
    if frame.empty:
        return pd.DataFrame(columns=RESULT_COLUMNS)
    g = frame.drop_duplicates([*cols, key])
    den = g.groupby(cols, sort=False, observed=True).size().rename("denominator")
    if flag is None:
        num = den.rename("numerator")
    else:
        mask = g[flag].eq(True)  # missing counts as False (no object fillna downcast)
        if mask.dtype != bool:
            mask = mask.fillna(False)
        mask = mask.to_numpy(dtype=bool)
        num = g[mask].groupby(cols, sort=False, observed=True).size()
        num = num.rename("numerator").reindex(den.index, fill_value=0)
    return pd.concat([num, den], axis=1).reset_index()[RESULT_COLUMNS]


def is_true(s: pd.Series) -> pd.Series:
    """``1``/``true``/``True`` (any case, also booleans and numbers) as a bool Series."""
    if pd.api.types.is_bool_dtype(s.dtype):
        return s.fillna(False).astype(bool)
    if pd.api.types.is_numeric_dtype(s.dtype):
        return (s.fillna(0) == 1).astype(bool)
    txt = s.astype(object).where(s.notna(), "").astype(str).str.strip().str.lower()
    return txt.isin(["1", "true", "t", "yes", "y", "1.0"])


def eq_or_both_missing(a: pd.Series, b: pd.Series) -> np.ndarray:
    """Element-wise equality where two missing values also count as equal."""
    sentinel = "\x00missing"
    av = a.astype(object).where(a.notna(), sentinel).astype(str).to_numpy()
    bv = b.astype(object).where(b.notna(), sentinel).astype(str).to_numpy()
    return np.asarray(av == bv, dtype=bool)
