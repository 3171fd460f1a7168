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

Memory: measures are computed family by family (``EXECUTION_ORDER``) and, after each
one, the prepared tables and shared intermediates that no remaining measure uses
(``USES``) are released, so the CIN census frames are gone before the looked-after
frames are built. A name missing from ``USES`` is only released early (and rebuilt
on demand), never wrong.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from csc_outcomes.keys import TABLE_SOURCE
from csc_outcomes.measures.base import Context, make_periods
from csc_outcomes.measures.catalogue import CATALOGUE, Measure
from csc_outcomes.measures.inputs import MeasureInputs

OUTPUT_COLUMNS = ["la_code", "period_end", "measure_id", "numerator", "denominator", "value"]


_CIN_REF = frozenset({"cin_episodes", "referral_events"})
_CLA = frozenset({"episodes", "_codebook", "prepared_episodes", "cla_cohort"})

#: The prepared tables and memoised frames (``_common.Context`` names) each measure
#: reads, directly or through a shared intermediate.
USES: dict[str, frozenset[str]] = {
    "referrals": _CIN_REF,
    "rereferrals_within_12m": _CIN_REF,
    "referrals_nfa": _CIN_REF,
    "contacts_to_referrals": _CIN_REF | {"contacts"},
    "cin_closures_sustained_12m": frozenset({"cin_episodes"}),
    "assessments_within_45wd": frozenset({"assessments"}),
    "icpc_within_15wd": frozenset({"section47"}),
    "cpp_started": frozenset({"cp_plans"}),
    "cpp_second_or_subsequent": frozenset({"cp_plans"}),
    "cpp_ended_2y_plus": frozenset({"cp_plans"}),
    "cla_at_period_end": _CLA,
    "cla_started": _CLA,
    "cla_3plus_placements": _CLA,
    "cla_long_term_stability": _CLA | {"header"},
    "cla_missing": _CLA | {"missing"},
    "cla_3plus_social_workers": _CLA | {"sw_episodes"},
    **{m: _CLA | {"header", "oc2", "oc2_cohort"} for m in (
        "oc2_health_check", "oc2_teeth_check", "oc2_immunisations", "oc2_sdq_recorded")},
    **{m: _CLA | {"header", "attendance", "suspensions", "education_keyed", "matched_children"}
       for m in ("cla_attendance_rate", "cla_persistent_absence", "cla_suspended")},
    **{m: frozenset({"_codebook", "header", "oc3", "care_leavers"}) for m in (
        "care_leavers_eet_19_21", "care_leavers_suitable_accom_19_21",
        "care_leavers_in_touch_19_21")},
}

#: The order measures are computed in (families together, so that each family's
#: intermediates can be released before the next is built); output order is the
#: catalogue's whatever this order.
EXECUTION_ORDER = [
    "referrals", "rereferrals_within_12m", "referrals_nfa", "contacts_to_referrals",
    "cin_closures_sustained_12m", "assessments_within_45wd", "icpc_within_15wd",
    "cpp_started", "cpp_second_or_subsequent", "cpp_ended_2y_plus",
    "cla_at_period_end", "cla_started", "cla_3plus_placements", "cla_long_term_stability",
    "cla_missing", "cla_3plus_social_workers", "oc2_health_check", "oc2_teeth_check",
    "oc2_immunisations", "oc2_sdq_recorded", "cla_attendance_rate", "cla_persistent_absence",
    "cla_suspended", "care_leavers_eet_19_21", "care_leavers_suitable_accom_19_21",
    "care_leavers_in_touch_19_21",
]


def execution_order(ids: Sequence[str]) -> list[str]:
    """``ids`` in ``EXECUTION_ORDER`` (ids it does not list come last, in given order)."""
    rank = {m: i for i, m in enumerate(EXECUTION_ORDER)}
    return sorted(ids, key=lambda m: rank.get(m, len(rank)))


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
    order = {m: i for i, m in enumerate(CATALOGUE)}
    todo = [m for m in execution_order(ids) if eligible_las(CATALOGUE[m], feeds)]
    parts = []
    for i, mid in enumerate(todo):
        measure = CATALOGUE[mid]
        raw = measure.function(ctx, periods)
        part = finish(measure, raw, eligible_las(measure, feeds), periods)
        del raw
        part["_order"] = order[mid]
        parts.append(part)
        # Release what no remaining measure reads (shared frames go with their family).
        needed = set().union(*(USES.get(m, frozenset()) for m in todo[i + 1:]))
        ctx.release(ctx.cached_names() - needed - {"_las"})
    del ctx
    if not parts:
        return empty_measures()
    out = pd.concat(parts, ignore_index=True)
    out = out.sort_values(["la_code", "period_end", "_order"], kind="stable")
    out = out.drop(columns="_order").reset_index(drop=True)
    return out[OUTPUT_COLUMNS]


__all__ = ["compute_measures", "OUTPUT_COLUMNS", "resolve_measure_ids", "empty_measures"]
