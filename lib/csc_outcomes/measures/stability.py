"""Placement stability of children looked after: many placements, long-term stability.

Both count placements and carer changes with the catalogue's placement rule, computed
once per episode in ``placements.prepared_episodes``, over the looked-after cohort on
each period end (``cohorts.cla_cohort``).
"""

from __future__ import annotations

import pandas as pd

from csc_outcomes import calendar
from csc_outcomes.measures.base import Tables, ages_on, as_context, count_children, per_period
from csc_outcomes.measures.cohorts import cla_cohort, with_dob
from csc_outcomes.measures.placements import placements_in_window, prepared_episodes


def cla_3plus_placements(tables: Tables, periods: pd.DataFrame) -> pd.DataFrame:
    """Children looked after with three or more placements during the window.

    Catalogue: "Of `cla_at_period_end`, those with 3 or more placements during the
    window: the episodes that overlap the window (`DECOM <= period_end` and `DEC`
    empty or `> window_start`), counted as above with the first overlapping episode
    counting 1."
    """
    ctx = as_context(tables)
    eps = prepared_episodes(ctx)
    cohort = cla_cohort(ctx, periods)

    def build(p: pd.Series) -> pd.DataFrame:
        c = cohort[cohort["period_end"] == p["period_end"]]
        counts = placements_in_window(eps, p["window_start"], p["period_end"])
        c = c.merge(counts, on="child_key", how="left")
        c["flag"] = c["placements"].fillna(0) >= 3
        return c[["la_code", "child_key", "flag"]]

    return count_children(per_period(periods, build), "flag")


def cla_long_term_stability(tables: Tables, periods: pd.DataFrame) -> pd.DataFrame:
    """Long-term stability: same carer for two years (outcome).

    Catalogue: "Of `cla_at_period_end` aged under 16 on `period_end` whose continuous
    period of care started on or before `period_end - 2 years 6 months`, those with no
    carer change in that continuous period dated after `period_end - 2 years`."

    A child without a date of birth in the header cannot be shown to be under 16 and
    is left out (docs/measures.md).
    """
    ctx = as_context(tables)
    eps = prepared_episodes(ctx)
    changes = eps.loc[eps["carer_change"], ["poc_id", "DECOM"]]
    cohort = with_dob(ctx, cla_cohort(ctx, periods))

    def build(p: pd.Series) -> pd.DataFrame:
        pe = p["period_end"]
        c = cohort[cohort["period_end"] == pe]
        age = ages_on(c["DOB"], pe)
        eligible = c[
            c["DOB"].notna()
            & (age < 16).fillna(False)
            & (c["poc_start"] <= calendar.months_before(pe, 30))
        ]
        two_years = calendar.add_years(pe, -2)
        recent = changes[(changes["DECOM"] > two_years) & (changes["DECOM"] <= pe)]
        flag = ~eligible["poc_id"].isin(recent["poc_id"])
        return eligible.assign(flag=flag.to_numpy())[["la_code", "child_key", "flag"]]

    return count_children(per_period(periods, build), "flag")


__all__ = ["cla_3plus_placements", "cla_long_term_stability"]
