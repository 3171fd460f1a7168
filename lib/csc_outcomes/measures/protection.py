"""Assessments, section 47 enquiries and child protection plans (CIN census)."""

from __future__ import annotations

import pandas as pd

from csc_outcomes import calendar
from csc_outcomes.measures.base import Context, Tables, as_context, rate_frame, window_sums
from csc_outcomes.measures.day_numbers import working_days_between


def assessments_within_45wd(tables: Tables, periods: pd.DataFrame) -> pd.DataFrame:
    """Assessments authorised within 45 working days.

    Catalogue: "Of the assessments with `AssessmentAuthorisationDate` in the window,
    those with `working_days(AssessmentActualStartDate, AssessmentAuthorisationDate)
    <= 45`."

    An assessment without a start date cannot be timed and is left out of both
    numerator and denominator (docs/measures.md).
    """
    ctx = as_context(tables)
    a = ctx["assessments"]
    a = a[a["AssessmentAuthorisationDate"].notna() & a["AssessmentActualStartDate"].notna()]
    wd = working_days_between(a["AssessmentActualStartDate"], a["AssessmentAuthorisationDate"])
    ev = pd.DataFrame(
        {
            "la_code": a["la_code"].array,
            "date": a["AssessmentAuthorisationDate"].to_numpy(),
            "ok": wd <= 45,
        }
    )
    out = window_sums(ev, "date", periods, {"numerator": "ok", "denominator": None})
    return rate_frame(out)


def icpc_within_15wd(tables: Tables, periods: pd.DataFrame) -> pd.DataFrame:
    """Initial child protection conferences within 15 working days of the enquiry.

    Catalogue: "Of the section 47 enquiries with `DateOfInitialCPC` (the one inside
    the `Section47` element) in the window and `DateOfInitialCPC >=
    S47ActualStartDate`, those with `working_days(S47ActualStartDate,
    DateOfInitialCPC) <= 15`. Enquiries whose conference predates the enquiry are
    excluded from both numerator and denominator."
    """
    ctx = as_context(tables)
    s = ctx["section47"]
    s = s[
        s["DateOfInitialCPC"].notna()
        & s["S47ActualStartDate"].notna()
        & (s["DateOfInitialCPC"] >= s["S47ActualStartDate"])
    ]
    wd = working_days_between(s["S47ActualStartDate"], s["DateOfInitialCPC"])
    ev = pd.DataFrame(
        {
            "la_code": s["la_code"].array,
            "date": s["DateOfInitialCPC"].to_numpy(),
            "ok": wd <= 15,
        }
    )
    out = window_sums(ev, "date", periods, {"numerator": "ok", "denominator": None})
    return rate_frame(out)


def _plans(ctx: Context) -> pd.DataFrame:
    """Plans with a start date, with per-plan flags: ``subsequent`` (an earlier plan of
    the child in the data, or ``NumberOfPreviousCPP > 0``) and ``two_years`` (ended
    two years or more after it started). Memoised on the context as ``cp_plans``."""
    def build() -> pd.DataFrame:
        p = ctx["cp_plans"]
        p = p[p["CPPstartDate"].notna()]
        frame = pd.DataFrame(
            {
                "la_code": p["la_code"].array,
                "child_key": p["child_key"].to_numpy(),
                "start": p["CPPstartDate"].to_numpy(),
                "end": p["CPPendDate"].to_numpy(),
                "previous": pd.to_numeric(p["NumberOfPreviousCPP"], errors="coerce")
                .fillna(0)
                .to_numpy(),
            }
        )
        frame = frame.sort_values(["child_key", "start"], kind="stable").reset_index(drop=True)
        earlier = frame["child_key"].eq(frame["child_key"].shift(1))
        frame["subsequent"] = (earlier | (frame["previous"] > 0)).astype(bool)
        frame["two_years"] = (
            (frame["end"] >= calendar.add_years(frame["start"], 2)).fillna(False).astype(bool)
        )
        return frame

    return ctx.memo("cp_plans", build)


def cpp_started(tables: Tables, periods: pd.DataFrame) -> pd.DataFrame:
    """Child protection plans starting in the window.

    Catalogue: "Child protection plans with `CPPstartDate` in the window."
    """
    ctx = as_context(tables)
    return rate_frame(window_sums(_plans(ctx), "start", periods, {"numerator": None}))


def cpp_second_or_subsequent(tables: Tables, periods: pd.DataFrame) -> pd.DataFrame:
    """Plans that are a child's second or later.

    Catalogue: "Of the plans starting in the window, those where the child had an
    earlier plan: `NumberOfPreviousCPP > 0`, or an earlier `CPPstartDate` for the same
    child in the data, however long ago."
    """
    ctx = as_context(tables)
    out = window_sums(
        _plans(ctx), "start", periods, {"numerator": "subsequent", "denominator": None}
    )
    return rate_frame(out)


def cpp_ended_2y_plus(tables: Tables, periods: pd.DataFrame) -> pd.DataFrame:
    """Plans ending in the window that lasted two years or more.

    Catalogue: "Of the plans with `CPPendDate` in the window, those with `CPPendDate >=
    CPPstartDate + 2 years`."
    """
    ctx = as_context(tables)
    out = window_sums(
        _plans(ctx), "end", periods, {"numerator": "two_years", "denominator": None}
    )
    return rate_frame(out)


__all__ = [
    "assessments_within_45wd",
    "cpp_ended_2y_plus",
    "cpp_second_or_subsequent",
    "cpp_started",
    "icpc_within_15wd",
]
