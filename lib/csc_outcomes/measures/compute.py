"""Compute the catalogue for every LA and period end: the tidy measures table.

``compute_measures`` prepares each table once (de-duplicated with
``keys.latest_versions``), runs each measure function once over all period ends,
and applies the catalogue's output rules in one place:

- one row per (LA, period end, measure) for every LA that supplied the measure's
  feeds (an LA without them gets no row, never a zero);
- a count has ``numerator = value = count`` and an empty ``denominator``;
- a rate or ratio has ``value = numerator / denominator`` and an empty ``value`` when
  the denominator is 0;
- sorted by ``la_code``, ``period_end``, then catalogue order.

Memory: measures are computed family by family (``catalogue.execution_order``) and,
after each one, the prepared tables and shared frames that no remaining measure
uses (``Measure.uses``) are released, so the CIN census frames are gone before the
looked-after frames are built. A name a family forgets to declare is only released
early (and rebuilt on demand), never wrong.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import pandas as pd

from csc_outcomes.keys import TABLE_SOURCE
from csc_outcomes.measures.base import Context
from csc_outcomes.measures.catalogue import CATALOGUE, Measure, execution_order
from csc_outcomes.measures.inputs import MeasureInputs
from csc_outcomes.measures.periods import make_periods

OUTPUT_COLUMNS = ["la_code", "period_end", "measure_id", "numerator", "denominator", "value"]


def empty_measures() -> pd.DataFrame:
    """An empty measures table with the output columns and dtypes."""
    return pd.DataFrame(
        {
            "la_code": pd.Series(dtype=object),
            "period_end": pd.Series(dtype="datetime64[ns]"),
            "measure_id": pd.Series(dtype=object),
            "numerator": pd.Series(dtype="Int64"),
            "denominator": pd.Series(dtype="Int64"),
            "value": pd.Series(dtype="float64"),
        }
    )


def resolve_measure_ids(measure_ids: Sequence[str] | None) -> list[str]:
    """The requested ids in catalogue order; ``ValueError`` naming unknown ids."""
    if measure_ids is None:
        return list(CATALOGUE)
    wanted = list(dict.fromkeys(measure_ids))
    unknown = [m for m in wanted if m not in CATALOGUE]
    if unknown:
        raise ValueError(
            f"unknown measure id(s): {', '.join(unknown)}; known: {', '.join(CATALOGUE)}"
        )
    return [m for m in CATALOGUE if m in wanted]


def feeds_by_la(inputs: MeasureInputs) -> pd.DataFrame:
    """(la_code, feed) pairs supplied: each table name, and ``cin`` for the CIN census."""
    s = inputs.supplied[["la_code", "table_name"]].dropna().astype(str).drop_duplicates()
    cin = s[s["table_name"].map(TABLE_SOURCE).eq("cin")][["la_code"]].drop_duplicates()
    cin = cin.assign(table_name="cin")
    out = pd.concat([s, cin], ignore_index=True).rename(columns={"table_name": "feed"})
    return out.drop_duplicates().reset_index(drop=True)


def eligible_las(measure: Measure, feeds: pd.DataFrame) -> list[str]:
    """LAs that supplied every feed the measure needs."""
    have = feeds[feeds["feed"].isin(measure.feeds)].groupby("la_code")["feed"].nunique()
    return sorted(have[have == len(set(measure.feeds))].index)


def la_period_grid(las: list[str], periods: pd.DataFrame) -> pd.DataFrame:
    """Every (LA, period end) pair: the rows a measure has for its eligible LAs."""
    grid = pd.MultiIndex.from_product(
        [las, periods["period_end"]], names=["la_code", "period_end"]
    ).to_frame(index=False)
    grid["period_end"] = grid["period_end"].astype("datetime64[ns]")
    grid["la_code"] = grid["la_code"].astype(object)
    return grid


def whole_numbers(values: pd.Series) -> np.ndarray:
    """A result column as int64: missing (an LA-period without events) is 0."""
    return pd.to_numeric(values, errors="coerce").fillna(0).round().to_numpy(dtype="int64")


def finish(measure: Measure, result: pd.DataFrame, las: list[str], periods: pd.DataFrame) -> pd.DataFrame:
    """Apply the output rules to one measure's raw result over the full (LA, period) grid."""
    res = result[["la_code", "period_end", "numerator", "denominator"]].copy()
    res["la_code"] = res["la_code"].astype(object)
    res["period_end"] = pd.to_datetime(res["period_end"]).astype("datetime64[ns]")
    out = la_period_grid(las, periods).merge(res, on=["la_code", "period_end"], how="left")
    num = whole_numbers(out["numerator"])
    out["numerator"] = pd.array(num, dtype="Int64")
    if measure.kind == "count":
        out["denominator"] = pd.array([pd.NA] * len(out), dtype="Int64")
        out["value"] = num.astype("float64")
    else:
        den = whole_numbers(out["denominator"])
        out["denominator"] = pd.array(den, dtype="Int64")
        with np.errstate(divide="ignore", invalid="ignore"):
            out["value"] = np.where(den > 0, num / np.maximum(den, 1), np.nan).astype("float64")
    out["measure_id"] = measure.measure_id
    return out[OUTPUT_COLUMNS]


def finished_parts(
    inputs: MeasureInputs, measure_ids: list[str], periods: pd.DataFrame
) -> Iterator[pd.DataFrame]:
    """Each measure's finished rows, family by family, releasing what is done with.

    After each measure, the prepared tables and shared frames that no remaining
    measure uses are dropped from the context (see the module docstring).
    """
    feeds = feeds_by_la(inputs)
    ctx = Context(inputs.tables, supplied=inputs.supplied)
    todo = [m for m in execution_order(measure_ids) if eligible_las(CATALOGUE[m], feeds)]
    for i, mid in enumerate(todo):
        measure = CATALOGUE[mid]
        raw = measure.function(ctx, periods)
        yield finish(measure, raw, eligible_las(measure, feeds), periods)
        del raw
        needed = set().union(*(CATALOGUE[m].uses for m in todo[i + 1:]))
        ctx.release(ctx.cached_names() - needed)


def compute_measures(
    inputs: MeasureInputs,
    period_ends: Sequence[Any],
    measure_ids: Sequence[str] | None = None,
) -> pd.DataFrame:
    """The tidy measures table for every LA in ``inputs`` and every period end.

    ``period_ends``: dates or ``YYYY-MM-DD`` strings (``periods.parse_period_end``):
    31 March for the statutory year, any month end for rolling monthly tracking (any
    date works). ``measure_ids``: a subset of ``CATALOGUE`` (default all); unknown
    ids raise ``ValueError``.

    Returns ``la_code, period_end, measure_id, numerator, denominator, value``:
    ``numerator``/``denominator`` nullable integers, ``value`` float (NaN = empty).
    """
    ids = resolve_measure_ids(measure_ids)
    periods = make_periods(period_ends)
    parts = list(finished_parts(inputs, ids, periods))
    if not parts:
        return empty_measures()
    order = {m: i for i, m in enumerate(CATALOGUE)}
    out = pd.concat(parts, ignore_index=True)
    out["_order"] = out["measure_id"].map(order)
    out = out.sort_values(["la_code", "period_end", "_order"], kind="stable")
    return out.drop(columns="_order").reset_index(drop=True)[OUTPUT_COLUMNS]


__all__ = [
    "OUTPUT_COLUMNS",
    "compute_measures",
    "eligible_las",
    "empty_measures",
    "feeds_by_la",
    "finish",
    "resolve_measure_ids",
]
