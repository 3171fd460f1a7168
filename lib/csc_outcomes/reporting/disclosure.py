"""Disclosure control: the one step every published figure goes through.

The rules follow the Department for Education's (DfE) statistical publications (see
``docs/sources.md``): a count from 1 to 5 (``threshold``) is shown as ``c``, and no
``c`` may be derivable from what else is published. Arithmetic is the attack, so each
rule here is written against one way of doing it:

* **Counts.** A count from 1 to ``threshold`` is ``c``; zero is shown (it identifies
  nobody, though it says that nobody in a group has a property).
* **Rates and ratios** (:func:`release`). A row is withheld whole (numerator and value
  ``c``) when its numerator, its denominator or its complement (denominator minus
  numerator, "the others") is from 1 to ``threshold``: ``90.0% (9 of 10)`` would
  reveal the 1 child who is not counted, and a shown rate times a shown denominator
  gives the numerator back. A denominator is shown unless it is small itself.
* **Pools** (:func:`pool`, :func:`pools`). A comparator figure (neighbours, all LAs,
  a mean of counts) is built only from rows whose own value is shown, and says how many
  LAs it covers. A pool minus its shown members then reveals nothing: every member is
  shown already.
* **Tables with totals** (:func:`suppress_table`). Totals are assumed published (they
  usually are, somewhere). Within each group that adds up to a total (a column, a row),
  a single suppressed cell is recoverable, so one more cell is suppressed (the smallest
  above zero); the rule runs over rows and columns until stable, and then a linear
  algebra check finds any cell still determined by the equations together (a "bridge"
  between two blocks of suppressed cells) and suppresses more until none is.
* **Rounding.** National and regional figures are rounded to the nearest 10 (halves
  up); a figure that is not zero but rounds to zero is shown as ``k``.

Frames that went through this step carry a mark (``frame.attrs``); charts and the
report views refuse frames without it (:func:`require_released`), so a raw small count
cannot reach a published page by way of a chart. What this does not cover is listed in
``docs/assumptions-and-caveats.md`` (for example, overlapping periods of rolling
measures, and knowledge an attacker brings from outside the publication).

Symbols (DfE's): ``c`` suppressed, ``z`` not applicable, ``x`` not available,
``k`` rounds to zero but is not zero.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from csc_outcomes.measures.catalogue import CATALOGUE

__all__ = [
    "DEFAULT_THRESHOLD",
    "NOT_APPLICABLE",
    "NOT_AVAILABLE",
    "RELEASE_COLUMNS",
    "ROUNDS_TO_ZERO",
    "SUPPRESSED",
    "SYMBOLS",
    "DisclosureError",
    "Pool",
    "PoolRows",
    "determined_cells",
    "format_value",
    "is_small",
    "mark_released",
    "pool",
    "pools",
    "release",
    "require_released",
    "round_to_base",
    "secondary_mask",
    "suppress_counts",
    "suppress_table",
]

SUPPRESSED = "c"
NOT_APPLICABLE = "z"
NOT_AVAILABLE = "x"
ROUNDS_TO_ZERO = "k"

#: DfE symbols and their meanings (for table footnotes).
SYMBOLS: dict[str, str] = {
    SUPPRESSED: "suppressed to protect confidentiality (a count from 1 to 5, or a figure "
    "that would reveal one)",
    NOT_APPLICABLE: "not applicable (for example a rate with no one in the denominator)",
    NOT_AVAILABLE: "not available",
    ROUNDS_TO_ZERO: "rounds to zero, but is not zero",
}

#: Counts from 1 up to this number are suppressed.
DEFAULT_THRESHOLD = 5
#: The lowest threshold a parameters file may set (DfE's rule: counts 1-5 are never shown).
MINIMUM_THRESHOLD = 5

#: The ``frame.attrs`` key marking a frame that went through this step (its threshold).
MARK = "csc_outcomes.disclosure.threshold"

#: Columns of :func:`release`'s output, in order.
RELEASE_COLUMNS = [
    "la_code", "period_end", "measure_id", "kind", "status", "numerator", "denominator",
    "value", "numerator_display", "denominator_display", "display",
]

_Frame = TypeVar("_Frame", bound=pd.DataFrame)


class DisclosureError(ValueError):
    """Figures that did not go through the disclosure step were about to be published."""


def mark_released(frame: _Frame, threshold: int) -> _Frame:
    """Mark ``frame`` as the output of this step (in place; returned for chaining)."""
    frame.attrs[MARK] = int(threshold)
    return frame


def require_released(frame: Any, what: str) -> int:
    """The threshold ``frame`` was released with; a :class:`DisclosureError` if it was
    not released here (so a chart or a report cannot be handed raw counts)."""
    attrs = getattr(frame, "attrs", None)
    if not isinstance(attrs, dict) or MARK not in attrs:
        raise DisclosureError(
            f"{what} takes only released figures: pass the output of "
            "disclosure.release() (measures) or disclosure.suppress_table() (a table of "
            "counts), not raw numbers")
    return int(attrs[MARK])


# --------------------------------------------------------------------------------------
# Counts
# --------------------------------------------------------------------------------------


def _numeric(values: Any) -> pd.Series:
    s = values if isinstance(values, pd.Series) else pd.Series(values)
    return pd.to_numeric(s, errors="coerce").astype("Float64")


def _index_of(values: Any) -> pd.Index:
    return values.index if isinstance(values, pd.Series) else pd.RangeIndex(len(values))


def is_small(values: Any, threshold: int = DEFAULT_THRESHOLD) -> pd.Series:
    """Boolean Series: True where a count is from 1 to ``threshold`` (never for 0 or NA)."""
    v = _numeric(values)
    return ((v >= 1) & (v <= threshold)).fillna(False).astype(bool)


def _display_count(v: Any) -> Any:
    if pd.isna(v):
        return NOT_AVAILABLE
    f = float(v)
    return int(f) if f.is_integer() else f


def suppress_counts(values: Any, threshold: int = DEFAULT_THRESHOLD) -> pd.Series:
    """Counts for display: 1 to ``threshold`` become ``c``, missing becomes ``x``.

    Primary suppression only: a set of counts that adds up to a published total goes
    through :func:`suppress_table`. Returns an object Series (ints and symbols).

    >>> suppress_counts([0, 1, 5, 6]).tolist()
    [0, 'c', 'c', 6]
    """
    s = values if isinstance(values, pd.Series) else pd.Series(values)
    small = is_small(s, threshold)
    out = pd.Series([_display_count(v) for v in _numeric(s)], index=s.index, dtype=object)
    out[small.to_numpy()] = SUPPRESSED
    return out


def round_to_base(values: Any, base: int = 10) -> pd.Series:
    """Round counts to the nearest ``base`` (halves up), as DfE does for national and
    regional figures. A value that is not zero but rounds to zero becomes ``k``;
    missing values become ``x``.

    >>> round_to_base([0, 3, 5, 14, 15, 1234]).tolist()
    [0, 'k', 10, 10, 20, 1230]
    """
    v = _numeric(values)
    arr = v.to_numpy(dtype=float, na_value=np.nan)
    rounded = np.floor(arr / base + 0.5) * base
    out: list[Any] = []
    for orig, r in zip(arr, rounded, strict=True):
        if np.isnan(orig):
            out.append(NOT_AVAILABLE)
        elif r == 0 and orig != 0:
            out.append(ROUNDS_TO_ZERO)
        else:
            out.append(int(r))
    return pd.Series(out, index=_index_of(values), dtype=object)


def format_value(value: Any, kind: str) -> str:
    """One display string: rates as percentages, counts with thousands separators,
    ratios to two decimals; symbols pass through."""
    if isinstance(value, str):
        return value
    if value is None or pd.isna(value):
        return NOT_AVAILABLE
    if kind == "rate":
        return f"{100 * float(value):.1f}%"
    if kind == "ratio":
        return f"{float(value):.2f}"
    return f"{round(float(value)):,}"


# --------------------------------------------------------------------------------------
# Tables of counts with totals
# --------------------------------------------------------------------------------------


def _group_keys(groups: Any) -> list[pd.Series]:
    compound = (
        isinstance(groups, (list, tuple))
        and len(groups) > 0
        and all(isinstance(g, (pd.Series, pd.Index, np.ndarray, list, tuple)) for g in groups)
    )
    keys = groups if compound else [groups]
    return [pd.Series(np.asarray(g)).reset_index(drop=True) for g in keys]


def secondary_mask(values: Any, suppressed: Any, groups: Any) -> pd.Series:
    """One pass of secondary suppression over the groups of a long table.

    ``values`` are the cell counts, ``suppressed`` the cells already suppressed, and
    ``groups`` the group key of each cell (a Series or array, or a list of them for a
    compound key): cells of a group add up to a published total, so a group with
    exactly one suppressed cell gives it away. In every such group the smallest
    unsuppressed cell is suppressed as well (a cell above zero is preferred: a zero
    beside a ``c`` still pins it; ties go to the first). Returns the new mask.

    One pass can leave a single suppression in another grouping (a column, when
    ``groups`` were rows); :func:`suppress_table` iterates until stable.
    """
    keys = _group_keys(groups)
    m = pd.Series(np.asarray(suppressed, dtype=bool))
    frame = pd.DataFrame({f"_g{i}": k for i, k in enumerate(keys)})
    gcols = list(frame.columns)
    frame["_v"] = _numeric(values).reset_index(drop=True).fillna(np.inf).astype(float)
    frame["_m"] = m
    frame["_pos"] = np.arange(len(frame))
    n_supp = frame.groupby(gcols, dropna=False)["_m"].transform("sum")
    candidates = frame[(n_supp == 1) & ~frame["_m"]].copy()
    new = m.to_numpy().copy()
    if not candidates.empty:
        candidates["_zero"] = candidates["_v"] <= 0
        candidates = candidates.sort_values(["_zero", "_v", "_pos"], kind="stable")
        new[candidates.drop_duplicates(subset=gcols, keep="first")["_pos"].to_numpy()] = True
    return pd.Series(new, index=_index_of(values))


def determined_cells(mask: np.ndarray, groups: Sequence[np.ndarray]) -> np.ndarray:
    """Which suppressed cells the published totals still determine exactly.

    Each group (an array of cell positions) is one equation: its cells add up to a
    published total, so the suppressed cells of a group add up to a known number. A
    suppressed cell is determined when the equations together pin it, even where every
    single group holds two or more suppressed cells (two blocks of ``c`` joined by one
    cell: that cell is the difference of the blocks' sums). Linear algebra decides it:
    a cell is determined exactly when every solution of the homogeneous system is zero
    there. Returns a boolean array over cells (True: determined and so recoverable).
    """
    cells = np.flatnonzero(mask)
    out = np.zeros(len(mask), dtype=bool)
    if cells.size == 0:
        return out
    column_of = {c: j for j, c in enumerate(cells)}
    rows = [[column_of[c] for c in g if c in column_of] for g in groups]
    rows = [r for r in rows if r]
    if not rows:
        return out
    a = np.zeros((len(rows), cells.size))
    for i, r in enumerate(rows):
        a[i, r] = 1.0
    _, sing, vt = np.linalg.svd(a)
    rank = int((sing > 1e-9).sum())
    null = vt[rank:]
    pinned = np.all(np.abs(null) < 1e-9, axis=0) if null.size else np.ones(cells.size, bool)
    out[cells[pinned]] = True
    return out


def _table_groups(n_rows: int, n_cols: int, rows: bool, columns: bool) -> list[np.ndarray]:
    """Cell positions (row-major) of each group with a published total; a group of one
    cell has no total apart from the cell, so it is not one."""
    idx = np.arange(n_rows * n_cols).reshape(n_rows, n_cols)
    groups: list[np.ndarray] = []
    if rows and n_cols > 1:
        groups += [idx[i, :] for i in range(n_rows)]
    if columns and n_rows > 1:
        groups += [idx[:, j] for j in range(n_cols)]
    return groups


def _protect(flat: np.ndarray, mask: np.ndarray, groups: list[np.ndarray]) -> np.ndarray:
    """Secondary suppression until no group has a single ``c`` and no cell is
    determined by the groups together."""
    mask = np.array(mask, dtype=bool)
    flat = np.where(np.isnan(flat), np.inf, flat)
    for _ in range(flat.size + 1):
        for _ in range(flat.size + 1):
            before = mask.copy()
            for g in groups:
                mask[g] = secondary_mask(flat[g], mask[g], np.zeros(g.size)).to_numpy()
            if (mask == before).all():
                break
        pinned = np.flatnonzero(determined_cells(mask, groups))
        if pinned.size == 0:
            return mask
        free = [c for g in groups if pinned[0] in g for c in g if not mask[c]]
        if not free:
            raise DisclosureError("a suppressed cell is determined by the totals and no cell "
                                  "is left to suppress beside it; suppress the totals")
        mask[min(free, key=lambda c: (flat[c] <= 0, flat[c], c))] = True
    raise DisclosureError("secondary suppression did not settle")


def suppress_table(
    table: pd.DataFrame,
    threshold: int = DEFAULT_THRESHOLD,
    *,
    rows: bool = True,
    columns: bool = True,
    exclude: Sequence[str] | None = None,
) -> pd.DataFrame:
    """The one disclosure step for a wide table of counts whose totals are published.

    Every numeric cell (columns in ``exclude`` are labels; by default every column that
    is not numeric) is a count. ``rows``/``columns``: whether each row's, each column's
    total is published (anywhere: assume it is unless the table's rows do not add up to
    anything, such as observed and predicted counts side by side). Counts 1 to
    ``threshold`` are suppressed; then secondary suppression makes sure no suppressed
    cell can be worked out from the totals (see :func:`secondary_mask` and
    :func:`determined_cells`). Returns an object frame of ints and ``c``, marked as
    released (charts accept it).
    """
    labels = set(exclude) if exclude is not None else {
        c for c in table.columns if not pd.api.types.is_numeric_dtype(table[c])}
    cols = [c for c in table.columns if c not in labels]
    counts = table[cols].apply(pd.to_numeric, errors="coerce")
    n_rows, n_cols = counts.shape
    flat = counts.to_numpy(dtype=float).ravel()  # row-major
    mask = is_small(pd.Series(flat), threshold).to_numpy()
    mask = _protect(flat, mask, _table_groups(n_rows, n_cols, rows, columns))
    out_vals = np.array([_display_count(v) for v in flat], dtype=object)
    out_vals[mask] = SUPPRESSED
    out = table.copy().astype(object)
    out[cols] = pd.DataFrame(
        out_vals.reshape(n_rows, n_cols), index=table.index, columns=cols, dtype=object
    )
    return mark_released(out, threshold)


# --------------------------------------------------------------------------------------
# The measures table
# --------------------------------------------------------------------------------------


def _kinds(df: pd.DataFrame, kinds: Mapping[str, str] | None) -> pd.Series:
    """Each row's kind: from ``kinds``, else the catalogue, else inferred (no
    denominator: count; a value within [0, 1]: rate; else ratio)."""
    known = {m: CATALOGUE[m].kind for m in df["measure_id"].dropna().unique() if m in CATALOGUE}
    known.update(kinds or {})
    den, val = _numeric(df["denominator"]), _numeric(df["value"])
    in_unit = (val.isna() | ((val >= 0) & (val <= 1))).fillna(False).to_numpy(dtype=bool)
    guess = np.where(den.isna().to_numpy(), "count", np.where(in_unit, "rate", "ratio"))
    return pd.Series([known.get(m) or str(g) for m, g in zip(df["measure_id"], guess, strict=True)],
                     index=df.index, dtype=object)


def _status(kind: pd.Series, num: pd.Series, den: pd.Series, val: pd.Series,
            threshold: int) -> np.ndarray:
    """``shown``, ``c``, ``z`` or ``x`` for each row (the rules in the module docstring)."""
    is_count = (kind == "count").to_numpy()
    count = val.where(val.notna(), num)
    count_status = np.select([count.isna().to_numpy(), is_small(count, threshold).to_numpy()],
                             [NOT_AVAILABLE, SUPPRESSED], "shown")
    small = (is_small(num, threshold) | is_small(den, threshold)
             | is_small((den - num).abs(), threshold)).to_numpy()
    rate_status = np.select(
        [den.isna().to_numpy(), small, (den == 0).fillna(False).to_numpy(),
         val.isna().to_numpy()],
        [NOT_AVAILABLE, SUPPRESSED, NOT_APPLICABLE, NOT_AVAILABLE], "shown")
    return np.where(is_count, count_status, rate_status)


def release(
    measures: pd.DataFrame,
    threshold: int = DEFAULT_THRESHOLD,
    *,
    kinds: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """The releasable figures of the measures table (all LAs, all periods).

    Input columns: ``la_code, period_end, measure_id, numerator, denominator, value``.
    Output (:data:`RELEASE_COLUMNS`), one row per input row: ``kind``; ``status``
    (``shown``, ``c``, ``z``, ``x``); ``numerator``, ``denominator``, ``value`` as
    floats, missing wherever not shown (a count's value is its count); and their display
    strings (``22.6%``, ``1,234``, ``c``). A count is ``c`` from 1 to ``threshold``; a
    rate or ratio is ``c`` whole when its numerator, denominator or complement is. The
    frame is marked released: report views, pools and charts take nothing else.
    """
    df = measures.reset_index(drop=True)
    kind = _kinds(df, kinds)
    num, den, val = (_numeric(df[c]) for c in ("numerator", "denominator", "value"))
    status = _status(kind, num, den, val, threshold)
    is_count = (kind == "count").to_numpy()
    num_f, den_f, val_f = (x.to_numpy(dtype=float, na_value=np.nan) for x in (num, den, val))
    count_f = np.where(np.isnan(val_f), num_f, val_f)
    num_f = np.where(is_count, count_f, num_f)
    num_hidden = (status == SUPPRESSED) | is_small(num_f, threshold).to_numpy()
    den_small = is_small(den_f, threshold).to_numpy()
    out = pd.DataFrame({
        "la_code": df["la_code"], "period_end": pd.to_datetime(df["period_end"]).dt.normalize(),
        "measure_id": df["measure_id"], "kind": kind, "status": status,
        "numerator": np.where(num_hidden, np.nan, num_f),
        "denominator": np.where(is_count | den_small, np.nan, den_f),
        "value": np.where(status == "shown", np.where(is_count, count_f, val_f), np.nan),
    })
    out["numerator_display"] = _part_display(out["numerator"], num_hidden, NOT_AVAILABLE)
    den_symbol = np.where(is_count, NOT_APPLICABLE, np.where(den_small, SUPPRESSED, NOT_AVAILABLE))
    out["denominator_display"] = [
        s if pd.isna(v) else format_value(v, "count")
        for v, s in zip(out["denominator"], den_symbol, strict=True)]
    out["display"] = [format_value(v, k) if s == "shown" else s
                      for v, k, s in zip(out["value"], kind, status, strict=True)]
    return mark_released(out[RELEASE_COLUMNS], threshold)


def _part_display(values: pd.Series, hidden: np.ndarray, missing: str) -> list[str]:
    return [SUPPRESSED if h else (missing if pd.isna(v) else format_value(v, "count"))
            for v, h in zip(values, hidden, strict=True)]


# --------------------------------------------------------------------------------------
# Pools: comparator figures built from released rows only
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pool:
    """A figure pooled over LAs: only those whose own value is shown are in it.

    ``las`` the LAs pooled (shown), ``asked`` the LAs with a row for the measure;
    ``value`` the pooled rate (sum of numerators over sum of denominators) or, for a
    count, the mean per LA; ``display`` the value formatted, or a symbol when no LA is
    pooled (``c`` if any was suppressed, else ``z`` or ``x``).
    """

    measure_id: str
    kind: str
    las: tuple[str, ...]
    asked: tuple[str, ...]
    numerator: float
    denominator: float
    value: float
    display: str

    @property
    def partial(self) -> bool:
        """Whether some LAs asked for are left out (their figure is not shown)."""
        return 0 < len(self.las) < len(self.asked)


def _pooled_value(kind: str, numerators: np.ndarray, denominators: np.ndarray,
                  values: np.ndarray) -> tuple[float, float, float]:
    """(numerator, denominator, value) of the shown rows' columns, as pandas gives them
    (a missing figure counts as nothing in a sum; a mean over the figures there are)."""
    if numerators.size == 0:
        return (np.nan, np.nan, np.nan)
    num = float(np.nansum(numerators))
    if kind == "count":
        there = ~np.isnan(values)  # pandas' mean: missing ones filled with 0, summed, / count
        mean = np.where(there, values, 0.0).sum() / there.sum() if there.any() else np.nan
        return (num, np.nan, float(mean))
    den = float(np.nansum(denominators))
    return (num, den, num / den if den > 0 else np.nan)


@dataclass(frozen=True, eq=False)
class PoolRows:
    """One measure's released rows at one period, as the columns' arrays: what a pool
    reads. Cut once (:meth:`of`) and pooled over many sets of LAs (:meth:`pool`): a
    report pools each measure for its comparators and for all LAs, 612 reports and 154
    workbooks a national run, and filtering frames for each pool cost a millisecond."""

    la_code: np.ndarray
    status: np.ndarray
    kind: np.ndarray
    numerator: np.ndarray
    denominator: np.ndarray
    value: np.ndarray

    @classmethod
    def of(cls, released: pd.DataFrame, measure_id: str, period_end: Any) -> PoolRows:
        """``released``'s rows of ``measure_id`` at ``period_end`` (released rows only)."""
        require_released(released, "a pooled figure")
        rows = released[(released["measure_id"] == measure_id)
                        & (released["period_end"] == pd.Timestamp(period_end))]
        arrays = {c: rows[c].to_numpy(dtype=object) for c in ("la_code", "status", "kind")}
        arrays |= {c: rows[c].to_numpy(dtype=float, na_value=np.nan)
                   for c in ("numerator", "denominator", "value")}
        for array in arrays.values():
            array.setflags(write=False)  # shared by every pool of the measure: read only
        return cls(**arrays)

    def shown_values(self, la_codes: Iterable[str]) -> list[float]:
        """The shown figures of ``la_codes``, in their order (each LA's first row; an LA
        whose figure is suppressed or missing left out)."""
        first: dict[Any, tuple[Any, float]] = {}
        for la, status, value in zip(self.la_code.tolist(), self.status.tolist(),
                                     self.value.tolist(), strict=True):
            first.setdefault(la, (status, value))
        hits = [first.get(la) for la in la_codes]
        return [float(hit[1]) for hit in hits if hit is not None and hit[0] == "shown"]

    def pool(self, measure_id: str, la_codes: Iterable[str]) -> Pool:
        """The measure pooled over those of ``la_codes`` whose own figure is shown."""
        wanted = set(la_codes)
        asked = np.fromiter((la in wanted for la in self.la_code), dtype=bool,
                            count=len(self.la_code))
        shown = asked & (self.status == "shown")
        kind = str(self.kind[asked][0]) if asked.any() else "rate"
        num, den, value = _pooled_value(kind, self.numerator[shown], self.denominator[shown],
                                        self.value[shown])
        status = self.status[asked]
        if shown.any():
            display = format_value(value, kind)
        elif (status == SUPPRESSED).any():
            display = SUPPRESSED
        elif (status == NOT_APPLICABLE).any():
            display = NOT_APPLICABLE
        else:
            display = NOT_AVAILABLE
        return Pool(measure_id, kind, tuple(sorted(set(self.la_code[shown]))),
                    tuple(sorted(set(self.la_code[asked]))), num, den, value, display)


def pool(released: pd.DataFrame, measure_id: str, la_codes: Iterable[str],
         period_end: Any) -> Pool:
    """One measure pooled over ``la_codes`` at ``period_end``, from shown rows only."""
    return PoolRows.of(released, measure_id, period_end).pool(measure_id, la_codes)


def pools(released: pd.DataFrame, la_codes: Iterable[str] | None = None) -> pd.DataFrame:
    """Every measure and period pooled over ``la_codes`` (default all), shown rows only.

    Columns: ``period_end, measure_id, kind, numerator, denominator, value, n_las``.
    """
    require_released(released, "pooled figures")
    r = released[released["status"] == "shown"]
    if la_codes is not None:
        r = r[r["la_code"].isin(list(la_codes))]
    out = r.groupby(["period_end", "measure_id", "kind"], as_index=False).agg(
        numerator=("numerator", "sum"), denominator=("denominator", "sum"),
        mean=("value", "mean"), n_las=("la_code", "nunique"))
    ratio = out["numerator"] / out["denominator"].where(out["denominator"] > 0)
    is_count = out["kind"] == "count"
    out["value"] = np.where(is_count, out["mean"], ratio)
    out["denominator"] = out["denominator"].where(~is_count)
    return out.drop(columns="mean")
