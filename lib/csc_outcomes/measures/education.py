"""Education of children looked after, from the school census feed (matched by UPN).

Catalogue: "A child is matched when it is in `cla_at_period_end`, its header `UPN` is
not blank, and the attendance feed has a row for that `UPN` with a term starting in
the window; the three measures share that set of children." Matching is within the
LA (``la_code`` and ``UPN``). Missing session counts are read as 0.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from csc_outcomes.measures.base import (
    RESULT_COLUMNS,
    Context,
    Tables,
    as_context,
    count_children,
    per_period,
    periods_key,
)
from csc_outcomes.measures.cohorts import cla_cohort, with_dob


def _norm_upn(s: pd.Series) -> pd.Series:
    """UPNs stripped and upper-cased, blank -> missing (prepared tables already are)."""
    if s.dtype == object:
        return s
    s = s.astype("string").str.strip().str.upper()
    return s.where(s != "", None)


def _keyed(
    ctx: Context, periods: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Cohort, attendance and suspensions with one integer key per (LA, UPN)."""

    def build() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
        # UPNs are prepared as codes (stripped, upper-cased, blank -> missing) and
        # ``la_code`` is categorical, so the key is built from integer codes.
        cohort = with_dob(ctx, cla_cohort(ctx, periods))
        cohort = cohort[cohort["UPN"].notna()]
        att = ctx["attendance"]
        att = att[att["UPN"].notna() & att["term_start"].notna()]
        sus = ctx["suspensions"]
        sus = sus[(sus["category"] == "FIXD") & sus["start_date"].notna() & sus["UPN"].notna()]
        frames = [cohort, att, sus]
        la_c, _ = pd.factorize(pd.concat([f["la_code"] for f in frames], ignore_index=True))
        upn = np.concatenate([_norm_upn(f["UPN"]).to_numpy(dtype=object) for f in frames])
        upn_c, upn_u = pd.factorize(upn)
        del upn
        key = la_c.astype("int64") * (len(upn_u) + 1) + upn_c
        n1, n2 = len(cohort), len(cohort) + len(att)
        cohort = cohort.assign(upn_key=key[:n1])[["la_code", "child_key", "period_end", "upn_key"]]
        sessions = {}
        for col in (
            "sessions_possible", "sessions_authorised_absence", "sessions_unauthorised_absence"
        ):
            sessions[col] = pd.to_numeric(att[col], errors="coerce").fillna(0).astype("int64").to_numpy()
        att = pd.DataFrame(
            {
                "upn_key": key[n1:n2],
                "term_start": att["term_start"].to_numpy(),
                "possible": sessions["sessions_possible"],
                "attended": sessions["sessions_possible"]
                - sessions["sessions_authorised_absence"]
                - sessions["sessions_unauthorised_absence"],
            }
        )
        sus = pd.DataFrame({"upn_key": key[n2:], "start_date": sus["start_date"].to_numpy()})
        return cohort, att, sus

    return ctx.memo(("education_keyed", periods_key(periods)), build)


def matched_children(ctx: Context, periods: pd.DataFrame) -> pd.DataFrame:
    """Matched children per period with their summed sessions over the window's terms.

    Columns ``la_code, period_end, child_key, upn_key, possible, attended``. Memoised.
    """

    def build() -> pd.DataFrame:
        cohort, att, _ = _keyed(ctx, periods)

        def one(p: pd.Series) -> pd.DataFrame:
            a = att[(att["term_start"] >= p["window_start"]) & (att["term_start"] <= p["period_end"])]
            sums = a.groupby("upn_key", sort=False)[["possible", "attended"]].sum().reset_index()
            c = cohort[cohort["period_end"] == p["period_end"]][["la_code", "child_key", "upn_key"]]
            return c.merge(sums, on="upn_key", how="inner")

        frame = per_period(periods, one)
        if frame.empty:
            frame = pd.DataFrame(
                columns=["la_code", "child_key", "upn_key", "possible", "attended", "period_end"]
            )
        return frame

    return ctx.memo(("matched_children", periods_key(periods)), build)


def cla_attendance_rate(tables: Tables, periods: pd.DataFrame) -> pd.DataFrame:
    """Attendance of matched children looked after.

    Catalogue: "For children in `cla_at_period_end` matched to the census: sessions
    attended (possible minus authorised minus unauthorised absence) divided by
    sessions possible, summed over the window's terms."
    """
    m = matched_children(as_context(tables), periods)
    g = m.groupby(["la_code", "period_end"], sort=False, observed=True)
    out = pd.concat(
        [g["attended"].sum().rename("numerator"), g["possible"].sum().rename("denominator")],
        axis=1,
    )
    return out.reset_index()[RESULT_COLUMNS]


def cla_persistent_absence(tables: Tables, periods: pd.DataFrame) -> pd.DataFrame:
    """Persistently absent matched children (attendance at or below 90%).

    Catalogue: "Of the matched children, those whose attendance over the window is at
    or below 90% (they missed 10% or more of possible sessions, as DfE defines
    persistent absence)." Compared in integers (``10 * attended <= 9 * possible``) to
    avoid rounding at exactly 90%; a matched child with no possible sessions stays in
    the denominator and is not counted.
    """
    m = matched_children(as_context(tables), periods)
    m = m.assign(flag=(m["possible"] > 0) & (10 * m["attended"] <= 9 * m["possible"]))
    return count_children(m, "flag")


def cla_suspended(tables: Tables, periods: pd.DataFrame) -> pd.DataFrame:
    """Matched children with a suspension in the window.

    Catalogue: "Where suspensions are supplied: of the matched children, those with at
    least one suspension (`category = FIXD`) starting in the window."
    """
    ctx = as_context(tables)
    m = matched_children(ctx, periods)
    _, _, s = _keyed(ctx, periods)

    def one(p: pd.Series) -> pd.DataFrame:
        mm = m[m["period_end"] == p["period_end"]]
        hit = s[(s["start_date"] >= p["window_start"]) & (s["start_date"] <= p["period_end"])]
        mm = mm.assign(flag=mm["upn_key"].isin(hit["upn_key"]).to_numpy())
        return mm[["la_code", "child_key", "flag"]]

    return count_children(per_period(periods, one), "flag")


__all__ = [
    "cla_attendance_rate",
    "cla_persistent_absence",
    "cla_suspended",
    "matched_children",
]
