"""OC2 health measures: health checks, teeth, immunisations, SDQ (SSDA903 OC2).

The OC2 cohort: children in ``cla_at_period_end`` whose continuous period of care
started on or before ``window_start``. Each rate's denominator is the cohort's
children with an OC2 row in the collection year chosen for the period end
(``cohorts.year_rows``: the year holding ``period_end`` or the latest earlier one).
"""

from __future__ import annotations

import pandas as pd

from csc_outcomes.measures.base import Tables, ages_on, as_context, count_children, is_true
from csc_outcomes.measures.cohorts import oc2_cohort


def _flag_rate(tables: Tables, periods: pd.DataFrame, column: str) -> pd.DataFrame:
    """Of the OC2 cohort with an OC2 row, those whose ``column`` is true (``1``)."""
    ctx = as_context(tables)
    c = oc2_cohort(ctx, periods)
    c = c.assign(flag=is_true(c[column]).to_numpy() if len(c) else [])
    return count_children(c[["la_code", "period_end", "child_key", "flag"]], "flag")


def oc2_health_check(tables: Tables, periods: pd.DataFrame) -> pd.DataFrame:
    """Annual health check done.

    Catalogue: "Cohort: children in `cla_at_period_end` whose continuous period of care
    started on or before `window_start` — the "OC2 cohort". Of those with an OC2 row,
    `HEALTH_CHECK = 1`."
    """
    return _flag_rate(tables, periods, "HEALTH_CHECK")


def oc2_teeth_check(tables: Tables, periods: pd.DataFrame) -> pd.DataFrame:
    """Dental check done.

    Catalogue: "As above, `TEETH_CHECK = 1`."
    """
    return _flag_rate(tables, periods, "TEETH_CHECK")


def oc2_immunisations(tables: Tables, periods: pd.DataFrame) -> pd.DataFrame:
    """Immunisations up to date.

    Catalogue: "As above, `IMMUNISATIONS = 1`."
    """
    return _flag_rate(tables, periods, "IMMUNISATIONS")


def oc2_sdq_recorded(tables: Tables, periods: pd.DataFrame) -> pd.DataFrame:
    """Strengths and difficulties questionnaire score recorded.

    Catalogue: "Of the OC2 cohort aged 4 to 16 on `period_end` with an OC2 row, those
    with a `SDQ_SCORE` recorded." Ages 4 to 16 inclusive (whole years on the period
    end, header ``DOB``); a child without a date of birth is left out.
    """
    ctx = as_context(tables)
    c = oc2_cohort(ctx, periods)
    if len(c):
        age = ages_on(c["DOB"], c["period_end"])
        c = c[c["DOB"].notna() & (age >= 4).fillna(False) & (age <= 16).fillna(False)]
    score = pd.to_numeric(c["SDQ_SCORE"], errors="coerce") if len(c) else pd.Series(dtype=float)
    c = c.assign(flag=score.notna().to_numpy())
    return count_children(c[["la_code", "period_end", "child_key", "flag"]], "flag")


__all__ = ["oc2_health_check", "oc2_immunisations", "oc2_sdq_recorded", "oc2_teeth_check"]
