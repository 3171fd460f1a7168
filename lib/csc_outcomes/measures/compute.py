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
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from csc_outcomes.keys import TABLE_SOURCE
from csc_outcomes.measures._common import Context, make_periods
from csc_outcomes.measures.catalogue import CATALOGUE, Measure
from csc_outcomes.measures.inputs import MeasureInputs

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


def finish(measure: Measure, result: pd.DataFrame, las: list[str], periods: pd.DataFrame) -> pd.DataFrame:
    """Apply the output rules to one measure's raw result over the full (LA, period) grid."""
    grid = pd.MultiIndex.from_product(
        [las, periods["period_end"]], names=["la_code", "period_end"]
    ).to_frame(index=False)
    res = result[["la_code", "period_end", "numerator", "denominator"]].copy()
    res["la_code"] = res["la_code"].astype(object)
    res["period_end"] = pd.to_datetime(res["period_end"]).astype("datetime64[ns]")
    grid["period_end"] = grid["period_end"].astype("datetime64[ns]")
    grid["la_code"] = grid["la_code"].astype(object)
    out = grid.merge(res, on=["la_code", "period_end"], how="left")
    num = pd.to_numeric(out["numerator"], errors="coerce").fillna(0).round().astype("int64")
    if measure.kind == "count":
        out["numerator"] = pd.array(num, dtype="Int64")
        out["denominator"] = pd.array([pd.NA] * len(out), dtype="Int64")
        out["value"] = num.astype("float64")
    else:
        den = pd.to_numeric(out["denominator"], errors="coerce").fillna(0).round().astype("int64")
        out["numerator"] = pd.array(num, dtype="Int64")
        out["denominator"] = pd.array(den, dtype="Int64")
        with np.errstate(divide="ignore", invalid="ignore"):
            value = np.where(den.to_numpy() > 0, num.to_numpy() / np.maximum(den.to_numpy(), 1), np.nan)
        out["value"] = value.astype("float64")
    out["measure_id"] = measure.measure_id
    return out[OUTPUT_COLUMNS]


def compute_measures(
    inputs: MeasureInputs,
    period_ends: Sequence[Any],
    measure_ids: Sequence[str] | None = None,
) -> pd.DataFrame:
    """The tidy measures table for every LA in ``inputs`` and every period end.

    ``period_ends``: date-likes (31 March for the statutory year, any month end for
    rolling monthly tracking; any date works). ``measure_ids``: a subset of
    ``CATALOGUE`` (default all); unknown ids raise ``ValueError``.

    Returns ``la_code, period_end, measure_id, numerator, denominator, value``:
    ``numerator``/``denominator`` nullable integers, ``value`` float (NaN = empty).
    """
    ids = resolve_measure_ids(measure_ids)
    periods = make_periods(period_ends)
    feeds = feeds_by_la(inputs)
    ctx = Context(inputs.tables, supplied=getattr(inputs, "supplied", None))
    parts = []
    for mid in ids:
        measure = CATALOGUE[mid]
        las = eligible_las(measure, feeds)
        if not las:
            continue
        raw = measure.function(ctx, periods)
        part = finish(measure, raw, las, periods)
        part["_order"] = list(CATALOGUE).index(mid)
        parts.append(part)
    if not parts:
        return empty_measures()
    out = pd.concat(parts, ignore_index=True)
    out = out.sort_values(["la_code", "period_end", "_order"], kind="stable")
    out = out.drop(columns="_order").reset_index(drop=True)
    return out[OUTPUT_COLUMNS]


__all__ = ["compute_measures", "OUTPUT_COLUMNS", "resolve_measure_ids", "empty_measures"]
