"""Disclosure control for published tables: suppression, rounding and display.

The rules follow the Department for Education's (DfE) statistical publications (see
``docs/sources.md``), so that an LA's published tables look like, and are as safe as,
DfE's own:

* **Primary suppression.** Any count from 1 to 5 (``threshold``, configurable) is shown
  as ``c``. Zero is shown as 0: it identifies nobody.
* **Secondary suppression.** A suppressed cell must not be recoverable by subtraction
  from a row or column total. The kit's rule, simple and vectorised: *within each group
  (a row, a column, or any set of cells that add up to a published total), if exactly
  one cell is suppressed, also suppress the smallest remaining cell of that group*
  (preferring a cell above zero; ties go to the first cell). The rule is applied to rows
  and columns alternately until nothing changes. Where a group holds a single cell
  besides the suppressed one and the total is also published, the total should be
  suppressed as well; pass the total as a member of the group to get that.
* **Rates.** A rate (or percentage) whose numerator or denominator is suppressed is
  suppressed too. A rate with a zero or missing denominator is ``z`` (not applicable).
* **Rounding.** National and regional figures are rounded to the nearest 10 (halves
  up); a figure that is not zero but rounds to zero is shown as ``k``.

Symbols (DfE's): ``c`` suppressed, ``z`` not applicable, ``x`` not available,
``k`` rounds to zero but is not zero.

The scan of published files for anything that slipped through is
:mod:`csc_outcomes.reporting.leak_scan`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from csc_outcomes.measures.catalogue import CATALOGUE

__all__ = [
    "DEFAULT_THRESHOLD",
    "NOT_APPLICABLE",
    "NOT_AVAILABLE",
    "ROUNDS_TO_ZERO",
    "SUPPRESSED",
    "SYMBOLS",
    "format_value",
    "is_small",
    "round_to_base",
    "secondary_mask",
    "suppress_counts",
    "suppress_measures",
    "suppress_rate",
    "suppress_table",
]

SUPPRESSED = "c"
NOT_APPLICABLE = "z"
NOT_AVAILABLE = "x"
ROUNDS_TO_ZERO = "k"

#: DfE symbols and their meanings (for table footnotes).
SYMBOLS: dict[str, str] = {
    SUPPRESSED: "suppressed to protect confidentiality (a count from 1 to 5, or a cell "
    "that would reveal one)",
    NOT_APPLICABLE: "not applicable (for example a rate with no one in the denominator)",
    NOT_AVAILABLE: "not available",
    ROUNDS_TO_ZERO: "rounds to zero, but is not zero",
}

#: Counts from 1 up to this number are suppressed.
DEFAULT_THRESHOLD = 5


# --------------------------------------------------------------------------------------
# Suppression
# --------------------------------------------------------------------------------------


def _numeric(values: Any) -> pd.Series:
    s = values if isinstance(values, pd.Series) else pd.Series(values)
    return pd.to_numeric(s, errors="coerce").astype("Float64")


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

    Returns an object Series (ints and symbols) with the index of ``values``.

    >>> suppress_counts([0, 1, 5, 6]).tolist()
    [0, 'c', 'c', 6]
    """
    s = values if isinstance(values, pd.Series) else pd.Series(values)
    small = is_small(s, threshold)
    out = pd.Series([_display_count(v) for v in _numeric(s)], index=s.index, dtype=object)
    out[small.to_numpy()] = SUPPRESSED
    return out


def secondary_mask(
    values: Any,
    suppressed: Any,
    groups: Any,
) -> pd.Series:
    """One pass of secondary suppression over the groups of a long table.

    ``values`` are the cell counts, ``suppressed`` the cells already suppressed, and
    ``groups`` the group key of each cell (a Series or array, or a list of Series/arrays
    for a compound key): cells of a group add up to a published total. In every group with
    exactly one suppressed cell, the smallest unsuppressed cell is suppressed as well
    (a cell above zero is preferred; ties go to the first). Returns the new mask.

    One pass can create a new single suppression in another grouping (a column, when
    ``groups`` were rows); :func:`suppress_table` iterates until stable.
    """
    v = _numeric(values).reset_index(drop=True)
    m = pd.Series(np.asarray(suppressed, dtype=bool))
    compound = (
        isinstance(groups, (list, tuple))
        and len(groups) > 0
        and all(isinstance(g, (pd.Series, pd.Index, np.ndarray, list, tuple)) for g in groups)
    )
    if compound:
        keys = [pd.Series(np.asarray(g)).reset_index(drop=True) for g in groups]
    else:
        keys = [pd.Series(np.asarray(groups)).reset_index(drop=True)]
    frame = pd.DataFrame({f"_g{i}": k for i, k in enumerate(keys)})
    gcols = list(frame.columns)
    frame["_v"] = v.fillna(np.inf).astype(float)
    frame["_m"] = m
    frame["_pos"] = np.arange(len(frame))
    n_supp = frame.groupby(gcols, dropna=False)["_m"].transform("sum")
    candidates = frame[(n_supp == 1) & ~frame["_m"]].copy()
    if candidates.empty:
        return pd.Series(m.to_numpy(), index=_index_of(values))
    # Prefer cells above zero (a zero protects little), then the smallest, then the first.
    candidates["_zero"] = candidates["_v"] <= 0
    candidates = candidates.sort_values(["_zero", "_v", "_pos"], kind="stable")
    chosen = candidates.drop_duplicates(subset=gcols, keep="first")["_pos"].to_numpy()
    new = m.to_numpy().copy()
    new[chosen] = True
    return pd.Series(new, index=_index_of(values))


def _index_of(values: Any) -> pd.Index:
    return values.index if isinstance(values, pd.Series) else pd.RangeIndex(len(values))


def suppress_table(
    table: pd.DataFrame,
    threshold: int = DEFAULT_THRESHOLD,
    *,
    rows: bool = True,
    columns: bool = True,
    exclude: Sequence[str] = (),
    max_passes: int = 20,
) -> pd.DataFrame:
    """Primary and secondary suppression of a wide table of counts.

    Every numeric cell (columns in ``exclude`` are left alone, as labels) is a count.
    Counts 1 to ``threshold`` are suppressed; then, treating each row and each column
    as a group that sums to a published total, the secondary rule of
    :func:`secondary_mask` is applied alternately to rows and columns until nothing
    changes. Returns an object frame of ints and ``c``.
    """
    cols = [c for c in table.columns if c not in set(exclude)]
    counts = table[cols].apply(pd.to_numeric, errors="coerce")
    n_rows, n_cols = counts.shape
    flat = counts.to_numpy(dtype=float).ravel()  # row-major
    row_key = np.repeat(np.arange(n_rows), n_cols)
    col_key = np.tile(np.arange(n_cols), n_rows)
    mask = is_small(pd.Series(flat), threshold).to_numpy()
    for _ in range(max_passes):
        before = mask.copy()
        if rows:
            mask = secondary_mask(flat, mask, row_key).to_numpy()
        if columns:
            mask = secondary_mask(flat, mask, col_key).to_numpy()
        if (mask == before).all():
            break
    shown = [_display_count(v) for v in flat]
    out_vals = np.array(shown, dtype=object)
    out_vals[mask] = SUPPRESSED
    out = table.copy().astype(object)
    out[cols] = pd.DataFrame(
        out_vals.reshape(n_rows, n_cols), index=table.index, columns=cols, dtype=object
    )
    return out


def suppress_rate(
    value: Any,
    numerator: Any,
    denominator: Any,
    threshold: int = DEFAULT_THRESHOLD,
) -> pd.Series:
    """Rates for display: ``c`` when numerator or denominator is from 1 to ``threshold``,
    ``z`` when the denominator is zero or missing or the rate is missing.

    Unsuppressed rates are returned as floats (object Series).
    """
    v = _numeric(value)
    num_small = is_small(numerator, threshold).to_numpy()
    den = _numeric(denominator)
    den_small = is_small(den, threshold).to_numpy()
    out = pd.Series(
        [float(x) if pd.notna(x) else NOT_APPLICABLE for x in v],
        index=_index_of(value),
        dtype=object,
    )
    no_den = (den.isna() | (den == 0)).fillna(True).to_numpy()
    out[no_den] = NOT_APPLICABLE
    out[num_small | den_small] = SUPPRESSED
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


# --------------------------------------------------------------------------------------
# The measures table
# --------------------------------------------------------------------------------------


def _catalogue_kinds(measure_ids: Iterable[str]) -> dict[str, str]:
    """kind ('count' | 'rate' | 'ratio') of each measure the catalogue knows."""
    return {mid: CATALOGUE[mid].kind for mid in measure_ids if mid in CATALOGUE}


def _inferred_kinds(den: pd.Series, val: pd.Series) -> np.ndarray:
    """Kinds of measures the catalogue does not know: empty denominator, count; else a
    value within [0, 1] (or missing), rate; else ratio."""
    is_rate = (val.isna() | ((val >= 0) & (val <= 1))).fillna(False).to_numpy(dtype=bool)
    return np.where(den.isna().to_numpy(), "count", np.where(is_rate, "rate", "ratio"))


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


def suppress_measures(
    measures_df: pd.DataFrame,
    threshold: int = DEFAULT_THRESHOLD,
    *,
    kinds: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Display-ready copy of the tidy measures table.

    Input columns: ``la_code, period_end, measure_id, numerator, denominator, value``.
    Output: the same columns, with ``numerator``/``denominator`` as ints or symbols
    (``c`` for 1 to ``threshold``; a count measure's empty denominator becomes ``z``),
    ``value`` as a number or a symbol (``c`` when its numerator or denominator is
    suppressed, or when a count measure's count is from 1 to ``threshold``; ``z`` when
    a rate has no denominator), plus ``kind``, ``display`` (the value formatted:
    ``22.6%``, ``1,234``, ``c``) and ``suppressed`` (bool).

    A measure's kind comes from ``kinds``, else the catalogue, else is inferred
    (empty denominator: count; otherwise rate when the value is within [0, 1], else
    ratio).
    """
    df = measures_df.copy()
    known = _catalogue_kinds(df["measure_id"].dropna().unique())
    if kinds:
        known.update(kinds)
    num = _numeric(df["numerator"]).set_axis(df.index)
    den = _numeric(df["denominator"]).set_axis(df.index)
    val = _numeric(df["value"]).set_axis(df.index)
    inferred = _inferred_kinds(den, val)
    kind = pd.Series(
        [known.get(mid) or str(guess)
         for mid, guess in zip(df["measure_id"], inferred, strict=True)],
        index=df.index,
        dtype=object,
    )
    is_count = (kind == "count").to_numpy()
    num_small = is_small(num, threshold)
    den_small = is_small(den, threshold)

    numerator = suppress_counts(num, threshold)
    denominator = suppress_counts(den, threshold)
    denominator[is_count & den.isna().to_numpy()] = NOT_APPLICABLE
    value = suppress_rate(val, num, den, threshold)
    # counts: the value is the count itself
    count_vals = suppress_counts(val.where(val.notna(), num), threshold)
    value[is_count] = count_vals[is_count].to_numpy()

    df["numerator"] = numerator
    df["denominator"] = denominator
    df["value"] = value
    df["kind"] = kind
    df["suppressed"] = (
        (df["value"] == SUPPRESSED) | num_small.to_numpy() | den_small.to_numpy()
    ).astype(bool)
    df["display"] = [format_value(v, k) for v, k in zip(df["value"], df["kind"], strict=True)]
    return df
