"""The measures' public helpers: the per-computation context and the aggregations.

Everything here is pure and vectorised. The one piece of state is :class:`Context`, a
per-call cache: each canonical table is prepared once (``prepare.prepare_table``: the
catalogue's duplicates rule applied with ``keys.latest_versions``) and derived frames
that several measures share (the sorted episodes with their placement flags, the
looked-after cohort per period end) are built once per ``compute_measures`` call,
however many measures use them. The aggregations turn per-event or per-child frames
into a measure function's result (``RESULT_COLUMNS``).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from csc_outcomes import calendar
from csc_outcomes.measures.day_numbers import days
from csc_outcomes.measures.fields import CHILD_COLUMN
from csc_outcomes.measures.prepare import Codebook, prepare_table

#: Output columns of a measure function (before compute fills the grid).
RESULT_COLUMNS = ["la_code", "period_end", "numerator", "denominator"]

#: SSDA903 codes the catalogue's rules name.
SHORT_BREAKS = ("V3", "V4")
TEMPORARY_ABSENCES = ("T0", "T1", "T2", "T3", "T4")
FOSTER = ("U1", "U2", "U3", "U4", "U5", "U6")
ADOPTION_WITH_CARER = ("A3", "A5")


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
    measure needs (``compute.compute_measures`` calls it between measures). Memo keys
    are a name, or a tuple whose first element is the name (e.g. a frame per set of
    period ends); the catalogue's families name what their measures use.
    """

    #: Memo key of the LA codes: every prepared table needs them, so never released.
    LA_CODES = "_las"
    #: Memo key of the SSDA903 codebook (``prepare.Codebook``).
    CODEBOOK = "_codebook"

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
            self._tables[name] = prepare_table(
                self._raw.get(name), name, codebook, self.la_codes()
            )
        return self._tables[name]

    def la_codes(self) -> pd.Index:
        """Every LA code found in any table (sorted): the categories of ``la_code``."""
        if self.LA_CODES not in self._memo:
            las: set[str] = set()
            for df in self._raw.values():
                if df is None or "la_code" not in df.columns or not len(df):
                    continue
                las.update(str(x) for x in pd.unique(df["la_code"].dropna()))
            self._memo[self.LA_CODES] = pd.Index(sorted(las), dtype=object)
        return self._memo[self.LA_CODES]

    def _codebook(self) -> Codebook:
        """LA codes and SSDA903 ``CHILD`` ids of every table, so that ``child_key`` is
        the same integer for the same (LA, child) in every SSDA903 table."""
        if self.CODEBOOK not in self._memo:
            children: list[pd.Series] = []
            for t, df in self._raw.items():
                if df is None or "la_code" not in df.columns:
                    continue
                if CHILD_COLUMN.get(t) == "CHILD" and "CHILD" in df.columns:
                    children.append(pd.Series(pd.unique(df["CHILD"].dropna())).astype(str))
            kids = (pd.concat(children, ignore_index=True).unique() if children
                    else np.array([], dtype=object))
            self._memo[self.CODEBOOK] = (self.la_codes(), pd.Index(kids, dtype=object))
        return self._memo[self.CODEBOOK]

    def memo(self, key: Hashable, build: Callable[[], Any]) -> Any:
        """Build a derived value once per context (``key`` must be hashable)."""
        if key not in self._memo:
            self._memo[key] = build()
        return self._memo[key]

    def release(self, names: Iterable[str]) -> None:
        """Forget prepared tables and memoised frames named in ``names`` (the LA codes
        stay: every table prepared later needs them)."""
        drop = set(names) - {self.LA_CODES}
        for t in [t for t in self._tables if t in drop]:
            del self._tables[t]
        for k in [k for k in self._memo if _memo_name(k) in drop]:
            del self._memo[k]

    def cached_names(self) -> set[str]:
        """Names of the prepared tables and memoised frames currently held."""
        return set(self._tables) | {_memo_name(k) for k in self._memo}


def _memo_name(key: Hashable) -> str:
    """The name of a memo key: the key itself, or a tuple key's first element."""
    return str(key[0]) if isinstance(key, tuple) else str(key)


#: What a measure function takes: a :class:`Context`, or a plain ``{name: DataFrame}``.
Tables = Context | Mapping[str, pd.DataFrame]


def as_context(tables: Tables) -> Context:
    """Accept a :class:`Context` or a plain ``{name: DataFrame}`` mapping."""
    return tables if isinstance(tables, Context) else Context(tables)


def periods_key(periods: pd.DataFrame) -> tuple[pd.Timestamp, ...]:
    """The period ends of a periods frame, as a hashable part of a memo key."""
    return tuple(periods["period_end"].tolist())


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
    codes, uniques = pd.factorize(ev["la_code"])
    las = np.asarray(uniques, dtype=object)
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


def count_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A count's result columns: the ``numerator`` with an empty ``denominator``."""
    out = frame.copy()
    out["denominator"] = pd.NA
    return out[RESULT_COLUMNS]


def ages_on(dob: pd.Series, date: pd.Series | pd.Timestamp) -> pd.Series:
    """Whole years on ``date`` for a column of dates of birth (``calendar.age_at``);
    missing where the date of birth is."""
    if not len(dob):
        return pd.Series(dtype="float64", index=dob.index)
    return pd.Series(calendar.age_at(dob, date), index=dob.index)


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
        flagged = g[flag].eq(True)  # missing counts as False (no object fillna downcast)
        if flagged.dtype != bool:
            flagged = flagged.fillna(False)
        num = g[flagged.to_numpy(dtype=bool)].groupby(cols, sort=False, observed=True).size()
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
