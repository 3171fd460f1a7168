"""Modelling frames built from the canonical tables: pure, vectorised, one row per unit.

Each function takes the canonical tables (a ``{name: DataFrame}`` mapping, a
``MeasureInputs`` or an ingest result with ``.tables``), a ``period_end`` and optionally
an ``la_code`` (default: every LA), and returns a DataFrame. The catalogue's duplicates
rule is applied first (``keys.latest_versions``, through the measures' ``Context``).
A child is the same child across the CIN census and the SSDA903 when ``LAchildID``
equals ``CHILD`` within the same LA.

The kit's definitions (where the brief left a choice, the choice is written here):

:func:`assessment_frame` - one row per assessment.
    Assessments with ``AssessmentAuthorisationDate`` in the ``years`` x 12 months
    ending ``period_end - follow_up_days`` (so each has its full follow-up inside the
    data). Factor indicators ``factor_<code>`` (0/1) for every factor code present in
    those assessments (``assessment_factors`` joined on LA, ``LAchildID`` and
    ``AssessmentActualStartDate``), ``n_factors``, and the **level of intervention**,
    the highest that applies:

    * 3 looked after: an SSDA903 episode with ``RNE = S`` and
      ``AssessmentAuthorisationDate <= DECOM <= AssessmentAuthorisationDate + 60 days``;
    * 2 child protection plan: a plan of the same CIN episode (``LAchildID``,
      ``CINreferralDate``) with ``AssessmentActualStartDate <= CPPstartDate <=
      AssessmentAuthorisationDate + 60 days``;
    * 1 CIN plan: likewise with ``CINPlanStartDate``;
    * 0 assessed, then no plan.

:func:`closure_frame` - one row per closed CIN episode.
    Episodes with ``CINclosureDate`` in the ``years`` x 12 months ending one year
    before ``period_end`` (the window of the catalogue's
    ``cin_closures_sustained_12m``: every closure has a full year of follow-up).
    ``level`` reached during the episode (3 if an ``RNE = S`` episode started between
    referral and closure, else 2 if the episode had a CP plan, else 1 if it had a CIN
    plan, else 0); ``nfa`` (``ReferralNFA`` true); ``level_group`` (``"nfa"`` for
    referrals closed with no further action, else the level as a string);
    ``length_months`` (days from referral to closure / 30.4375); ``rereferred`` (1 when
    the same child has a referral with ``closure < CINreferralDate <= closure + 1
    year``, the catalogue's rule).

:func:`attendance_frame` - one row per looked-after child per term.
    Attendance rows with ``term_start`` in the ``years`` x 12 months ending
    ``period_end``, matched through ``UPN`` to the SSDA903 header of the same LA, for
    children looked after on ``term_start`` (an episode open that day, not a short
    break ``V3``/``V4``). ``attendance`` = (possible - authorised - unauthorised
    absence) / possible (terms with no possible sessions dropped); ``moves`` = number
    of placement changes with ``term_start - 365 days <= DECOM < term_start``: episodes
    that start a new placement under the catalogue's rules (temporary absences
    skipped, adoption by the foster carer and returns to the same placement are not
    changes) other than the child's first placement and other than entering care
    (``RNE = S``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from csc_outcomes import calendar
from csc_outcomes.keys import latest_versions
from csc_outcomes.measures.base import is_true
from csc_outcomes.measures.placements import placement_flags

__all__ = [
    "ASSESSMENT_FRAME_READS",
    "ATTENDANCE_FRAME_READS",
    "CLOSURE_FRAME_READS",
    "FOLLOW_UP_DAYS",
    "LEVEL_LABELS",
    "MONTH_DAYS",
    "READ_LINEAGE",
    "REREFERRAL_MAX_AGE",
    "assessment_frame",
    "attendance_frame",
    "closure_frame",
    "factor_columns",
    "rereferral_eligible",
]

LEVEL_LABELS: dict[int, str] = {
    0: "Assessed, no plan",
    1: "CIN plan",
    2: "Child protection plan",
    3: "Looked after",
}
#: Days after authorisation within which a plan or care entry counts as the outcome.
FOLLOW_UP_DAYS = 60
#: Closures before this birthday have a whole year in which a re-referral can come
#: before the child turns 18; later ones cannot be re-referred as a child.
REREFERRAL_MAX_AGE = 17
#: Days per month for episode lengths (365.25 / 12).
MONTH_DAYS = 30.4375

_DATES: dict[str, list[str]] = {
    "cin_episodes": ["CINreferralDate", "CINclosureDate"],
    "assessments": ["CINreferralDate", "AssessmentActualStartDate", "AssessmentAuthorisationDate"],
    "assessment_factors": ["CINreferralDate", "AssessmentActualStartDate"],
    "cin_plans": ["CINreferralDate", "CINPlanStartDate", "CINPlanEndDate"],
    "cp_plans": ["CINreferralDate", "CPPstartDate", "CPPendDate"],
    "episodes": ["DECOM", "DEC"],
    "header": ["DOB"],
    "cin_children": ["PersonBirthDate"],
    "attendance": ["term_start"],
}
_COLUMNS: dict[str, list[str]] = {
    "cin_episodes": ["LAchildID", "CINreferralDate", "CINclosureDate", "ReferralNFA",
                     "ReasonForClosure"],
    "cin_children": ["LAchildID", "PersonBirthDate"],
    "assessments": ["LAchildID", "CINreferralDate", "AssessmentActualStartDate",
                    "AssessmentAuthorisationDate"],
    "assessment_factors": ["LAchildID", "CINreferralDate", "AssessmentActualStartDate",
                           "AssessmentFactor"],
    "cin_plans": ["LAchildID", "CINreferralDate", "CINPlanStartDate"],
    "cp_plans": ["LAchildID", "CINreferralDate", "CPPstartDate"],
    "episodes": ["CHILD", "DECOM", "DEC", "RNE", "LS", "PLACE", "URN", "PL_POST"],
    "header": ["CHILD", "UPN"],
    "attendance": ["UPN", "term_start", "sessions_possible", "sessions_authorised_absence",
                   "sessions_unauthorised_absence"],
}
#: The lineage columns every frame reads: the LA, and what ``keys.latest_versions``
#: orders versions by.
READ_LINEAGE = ("la_code", "collection_year", "source_line")
_KEYS = ["la_code", "LAchildID"]


def _tables_of(tables: Any) -> Mapping[str, pd.DataFrame]:
    if hasattr(tables, "tables") and not isinstance(tables, Mapping):
        return tables.tables
    return tables


def _table(tables: Any, name: str, la_code: str | None) -> pd.DataFrame:
    """A canonical table: needed columns present, dates coerced, ids as stripped str,
    one LA (when given), and the later version of each record kept."""
    raw = _tables_of(tables).get(name)
    cols = ["la_code", *_COLUMNS[name]]
    if raw is None:
        df = pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
    else:
        df = raw.copy()
        for c in cols:
            if c not in df.columns:
                df[c] = pd.NA
    if la_code is not None:
        df = df[df["la_code"].astype(str) == str(la_code)]
    for c in _DATES.get(name, []):
        if c in df.columns:
            df[c] = pd.to_datetime(df[c], errors="coerce").astype("datetime64[ns]")
    for c in ("la_code", "LAchildID", "CHILD", "UPN", "RNE", "LS", "PLACE", "URN", "PL_POST",
              "AssessmentFactor"):
        if c in df.columns:
            txt = df[c].astype("string").str.strip()
            if c in ("RNE", "LS", "PLACE", "URN", "PL_POST", "AssessmentFactor", "UPN"):
                txt = txt.str.upper()
            txt = txt.mask(txt == "")
            df[c] = txt.astype(object).where(txt.notna(), None)
    if not df.empty:
        df = latest_versions(df, name)
    return df.reset_index(drop=True)


def _reads(fields: dict[str, list[str]]) -> dict[str, tuple[str, ...]]:
    """Table -> the columns a frame builder reads: ``READ_LINEAGE``, then its fields."""
    return {t: (*READ_LINEAGE, *cols) for t, cols in fields.items()}


def factor_columns(frame: pd.DataFrame) -> list[str]:
    """The ``factor_<code>`` indicator columns of an assessment frame."""
    return [c for c in frame.columns if c.startswith("factor_")]


def _any_in_range(
    left: pd.DataFrame,
    right: pd.DataFrame,
    on: list[str],
    date_col: str,
    lo_col: str,
    hi_col: str,
) -> np.ndarray:
    """For each row of ``left``, whether ``right`` has a row with the same ``on`` keys
    and ``left[lo_col] <= right[date_col] <= left[hi_col]`` (a merge, then a group any)."""
    if left.empty or right.empty:
        return np.zeros(len(left), dtype=bool)
    lhs = left[[*on, lo_col, hi_col]].assign(_row=np.arange(len(left)))
    rhs = right[[*on, date_col]].dropna(subset=[date_col])
    m = lhs.merge(rhs, on=on, how="inner")
    hit = (m[date_col] >= m[lo_col]) & (m[date_col] <= m[hi_col])
    rows = m.loc[hit.fillna(False).to_numpy(), "_row"].unique()
    out = np.zeros(len(left), dtype=bool)
    out[rows] = True
    return out


def _has_match(left: pd.DataFrame, right: pd.DataFrame, on: list[str]) -> np.ndarray:
    """For each row of ``left``, whether ``right`` has a row with the same ``on`` keys."""
    if left.empty or right.empty:
        return np.zeros(len(left), dtype=bool)
    keys = right[on].dropna().drop_duplicates().assign(_hit=True)
    m = left[on].merge(keys, on=on, how="left")
    return m["_hit"].notna().to_numpy()


def _care_starts(tables: Any, la_code: str | None) -> pd.DataFrame:
    """Episodes starting a period of care (``RNE = S``), keyed like CIN rows."""
    e = _table(tables, "episodes", la_code)
    e = e[(e["RNE"] == "S") & e["DECOM"].notna()]
    return e.rename(columns={"CHILD": "LAchildID"})[["la_code", "LAchildID", "DECOM"]]


#: The tables and columns :func:`assessment_frame` reads (each table's record key among
#: them): a pooled model reads only these (``warehouse.read_tables(columns=)``) and its
#: cache key digests only these. A test checks the frame from them equals the full read's.
ASSESSMENT_FRAME_READS = _reads({
    "assessments": ["LAchildID", "CINreferralDate", "AssessmentActualStartDate",
                    "AssessmentAuthorisationDate"],
    "assessment_factors": ["LAchildID", "AssessmentActualStartDate", "AssessmentFactor"],
    "episodes": ["CHILD", "DECOM", "RNE"],
    "cp_plans": ["LAchildID", "CINreferralDate", "CPPstartDate"],
    "cin_plans": ["LAchildID", "CINreferralDate", "CINPlanStartDate"],
})


def assessment_frame(
    tables: Any,
    period_end: Any,
    la_code: str | None = None,
    *,
    years: int = 1,
    follow_up_days: int = FOLLOW_UP_DAYS,
) -> pd.DataFrame:
    """One row per assessment: factor indicators and the level of intervention (0-3).

    Columns: ``la_code, LAchildID, CINreferralDate, AssessmentActualStartDate,
    AssessmentAuthorisationDate, factor_<code>..., n_factors, level``. See the module
    docstring for the window and the level rules.
    """
    pe = pd.Timestamp(period_end).normalize()
    window_end = pe - pd.Timedelta(days=follow_up_days)
    window_start = calendar.add_years(window_end, -years) + pd.Timedelta(days=1)
    a = _table(tables, "assessments", la_code)
    auth = a["AssessmentAuthorisationDate"]
    a = a[(auth >= window_start) & (auth <= window_end)].copy()
    a = a.sort_values(["la_code", "LAchildID", "AssessmentActualStartDate"], kind="stable")
    a = a.reset_index(drop=True)
    a["_hi"] = a["AssessmentAuthorisationDate"] + pd.Timedelta(days=follow_up_days)
    episode = ["la_code", "LAchildID", "CINreferralDate"]

    lac = _any_in_range(a, _care_starts(tables, la_code), _KEYS, "DECOM",
                        "AssessmentAuthorisationDate", "_hi")
    cpp = _any_in_range(a, _table(tables, "cp_plans", la_code), episode, "CPPstartDate",
                        "AssessmentActualStartDate", "_hi")
    cinp = _any_in_range(a, _table(tables, "cin_plans", la_code), episode, "CINPlanStartDate",
                         "AssessmentActualStartDate", "_hi")
    level = np.select([lac, cpp, cinp], [3, 2, 1], default=0)

    out = a[["la_code", "LAchildID", "CINreferralDate", "AssessmentActualStartDate",
             "AssessmentAuthorisationDate"]].copy()
    out = _with_factors(out, _table(tables, "assessment_factors", la_code))
    out["level"] = level.astype("int64")
    return out.reset_index(drop=True)


def _with_factors(out: pd.DataFrame, factors: pd.DataFrame) -> pd.DataFrame:
    """``out`` (assessments) with a 0/1 ``factor_<code>`` column for every factor code
    recorded at these assessments (in code order) and ``n_factors``."""
    keys = ["la_code", "LAchildID", "AssessmentActualStartDate"]
    f = factors.dropna(subset=["AssessmentFactor"])
    f = f.merge(out[keys].drop_duplicates(), on=keys, how="inner")
    codes = sorted(f["AssessmentFactor"].unique(), key=_code_order)
    if len(f):
        ind = (
            f.assign(_one=1)
            .pivot_table(index=keys, columns="AssessmentFactor", values="_one",
                         aggfunc="max", fill_value=0)
            .reindex(columns=codes, fill_value=0)
        )
        ind.columns = [f"factor_{c}" for c in ind.columns]
        out = out.merge(ind.reset_index(), on=keys, how="left")
    fcols = [f"factor_{c}" for c in codes]
    for c in fcols:
        out[c] = out[c].fillna(0).astype("int64")
    out["n_factors"] = out[fcols].sum(axis=1).astype("int64") if fcols else 0
    return out


def _code_order(code: str) -> tuple[int, str]:
    digits = "".join(ch for ch in code if ch.isdigit())
    return (int(digits) if digits else 10**6, code)


#: The tables and columns :func:`closure_frame` reads (see ``ASSESSMENT_FRAME_READS``).
CLOSURE_FRAME_READS = _reads({
    "cin_episodes": ["LAchildID", "CINreferralDate", "CINclosureDate", "ReferralNFA",
                     "ReasonForClosure"],
    "episodes": ["CHILD", "DECOM", "RNE"],
    "cp_plans": ["LAchildID", "CINreferralDate", "CPPstartDate"],
    "cin_plans": ["LAchildID", "CINreferralDate", "CINPlanStartDate"],
    "cin_children": ["LAchildID", "PersonBirthDate"],
})


def closure_frame(
    tables: Any,
    period_end: Any,
    la_code: str | None = None,
    *,
    years: int = 1,
) -> pd.DataFrame:
    """One row per closed CIN episode with a full year of follow-up.

    Columns: ``la_code, LAchildID, CINreferralDate, CINclosureDate, nfa, level,
    level_group, length_months, rereferred, ReasonForClosure, age_at_closure`` (whole
    years, from ``cin_children.PersonBirthDate``; missing when unknown) and ``eligible``
    (:func:`rereferral_eligible`: a young person aged 17 or more at closure turns 18
    within the follow-up year and cannot be re-referred as a child). See the module
    docstring.
    """
    pe = pd.Timestamp(period_end).normalize()
    window_end = calendar.add_years(pe, -1)
    window_start = calendar.add_years(window_end, -years) + pd.Timedelta(days=1)
    eps = _table(tables, "cin_episodes", la_code)
    eps = eps[eps["CINreferralDate"].notna()]
    closed = eps[(eps["CINclosureDate"] >= window_start) & (eps["CINclosureDate"] <= window_end)]
    closed = closed.sort_values(["la_code", "LAchildID", "CINreferralDate"], kind="stable")
    closed = closed.reset_index(drop=True).copy()
    episode = ["la_code", "LAchildID", "CINreferralDate"]

    lac = _any_in_range(closed, _care_starts(tables, la_code), _KEYS, "DECOM",
                        "CINreferralDate", "CINclosureDate")
    # plans belong to the episode (same LAchildID and CINreferralDate): any plan counts
    cpp = _has_match(closed, _table(tables, "cp_plans", la_code), episode)
    cinp = _has_match(closed, _table(tables, "cin_plans", la_code), episode)
    level = np.select([lac, cpp, cinp], [3, 2, 1], default=0)

    nxt = eps[[*_KEYS, "CINreferralDate"]].rename(columns={"CINreferralDate": "_ref"})
    c2 = closed.assign(_lo=closed["CINclosureDate"] + pd.Timedelta(days=1),
                       _hi=calendar.add_years(closed["CINclosureDate"], 1))
    reref = _any_in_range(c2, nxt, _KEYS, "_ref", "_lo", "_hi")

    out = closed[["la_code", "LAchildID", "CINreferralDate", "CINclosureDate"]].copy()
    out["nfa"] = is_true(closed["ReferralNFA"]).to_numpy().astype("int64")
    out["level"] = level.astype("int64")
    out["level_group"] = np.where(out["nfa"] == 1, "nfa", out["level"].astype(str))
    days = (closed["CINclosureDate"] - closed["CINreferralDate"]).dt.days
    out["length_months"] = (days / MONTH_DAYS).astype(float)
    out["rereferred"] = reref.astype("int64")
    out["ReasonForClosure"] = closed["ReasonForClosure"].astype(object).to_numpy()
    kids = _table(tables, "cin_children", la_code)[[*_KEYS, "PersonBirthDate"]]
    kids = kids.dropna(subset=["PersonBirthDate"]).drop_duplicates(_KEYS, keep="last")
    dob = out[_KEYS].merge(kids, on=_KEYS, how="left")["PersonBirthDate"]
    age = calendar.age_at(dob.set_axis(out.index), out["CINclosureDate"])
    out["age_at_closure"] = age.astype("Int64").mask(dob.isna().to_numpy())
    out["eligible"] = rereferral_eligible(out).astype("int64")
    return out.reset_index(drop=True)


def rereferral_eligible(closures: pd.DataFrame) -> pd.Series:
    """Closures that can be re-referred within 12 months: the child's age is known and
    under ``REREFERRAL_MAX_AGE``, and the case did not close on adoption (RC1)."""
    age_ok = closures["age_at_closure"].lt(REREFERRAL_MAX_AGE).fillna(False).astype(bool)
    return age_ok & closures["ReasonForClosure"].astype(str).ne("RC1")


#: The tables and columns :func:`attendance_frame` reads (see ``ASSESSMENT_FRAME_READS``).
ATTENDANCE_FRAME_READS = _reads({
    "attendance": ["UPN", "term_start", "sessions_possible", "sessions_authorised_absence",
                   "sessions_unauthorised_absence"],
    "header": ["CHILD", "UPN"],
    "episodes": ["CHILD", "DECOM", "DEC", "RNE", "LS", "PLACE", "URN", "PL_POST"],
})


def attendance_frame(
    tables: Any,
    period_end: Any,
    la_code: str | None = None,
    *,
    years: int = 1,
) -> pd.DataFrame:
    """One row per looked-after child per term: attendance and placement moves.

    Columns: ``la_code, CHILD, UPN, term_start, sessions_possible, attendance, moves``.
    See the module docstring.
    """
    pe = pd.Timestamp(period_end).normalize()
    start = calendar.add_years(pe, -years) + pd.Timedelta(days=1)
    att = _table(tables, "attendance", la_code)
    att = att[(att["term_start"] >= start) & (att["term_start"] <= pe)].copy()
    for c in ("sessions_possible", "sessions_authorised_absence", "sessions_unauthorised_absence"):
        att[c] = pd.to_numeric(att[c], errors="coerce").astype(float)
    att = att[att["sessions_possible"] > 0]

    header = _table(tables, "header", la_code).dropna(subset=["UPN", "CHILD"])
    header = header[["la_code", "CHILD", "UPN"]].drop_duplicates(["la_code", "UPN"], keep="last")
    rows = att.merge(header, on=["la_code", "UPN"], how="inner")
    rows = rows.sort_values(["la_code", "CHILD", "term_start"], kind="stable").reset_index(drop=True)

    eps = _table(tables, "episodes", la_code).dropna(subset=["DECOM"])
    eps = eps.sort_values(["la_code", "CHILD", "DECOM"], kind="stable").reset_index(drop=True)
    # looked after on term_start (not a short break)
    r = rows.assign(_row=np.arange(len(rows)))[["la_code", "CHILD", "term_start", "_row"]]
    m = r.merge(eps[["la_code", "CHILD", "DECOM", "DEC", "LS"]], on=["la_code", "CHILD"])
    open_ = (m["DECOM"] <= m["term_start"]) & (m["DEC"].isna() | (m["DEC"] > m["term_start"]))
    open_ &= ~m["LS"].isin(["V3", "V4"]).to_numpy()
    in_care = np.zeros(len(rows), dtype=bool)
    in_care[m.loc[open_.fillna(False).to_numpy(), "_row"].unique()] = True

    changes = _placement_changes(eps)
    m2 = r.merge(changes, on=["la_code", "CHILD"])
    hit = (m2["DECOM"] >= m2["term_start"] - pd.Timedelta(days=365)) & (m2["DECOM"] < m2["term_start"])
    moves = m2[hit.fillna(False).to_numpy()].groupby("_row").size()
    n_moves = np.zeros(len(rows), dtype="int64")
    n_moves[moves.index.to_numpy()] = moves.to_numpy()

    attended = (rows["sessions_possible"] - rows["sessions_authorised_absence"].fillna(0)
                - rows["sessions_unauthorised_absence"].fillna(0))
    out = rows[["la_code", "CHILD", "UPN", "term_start", "sessions_possible"]].copy()
    out["attendance"] = (attended / rows["sessions_possible"]).astype(float)
    out["moves"] = n_moves
    return out[in_care].reset_index(drop=True)


def _placement_changes(eps: pd.DataFrame) -> pd.DataFrame:
    """Episodes that change placement (catalogue rules), as ``la_code, CHILD, DECOM``.

    A change is a new placement, by the measures' own rule
    (:func:`csc_outcomes.measures.placements.placement_flags`), other than the child's
    first placement and the start of a period of care (``RNE = S``): moves within care.
    """
    e = eps.sort_values(["la_code", "CHILD", "DECOM"], kind="stable").reset_index(drop=True)
    child_key = e.groupby(["la_code", "CHILD"], sort=False, dropna=False).ngroup().to_numpy()
    _absence, new_placement, _carer = placement_flags(
        child_key, e["RNE"], e["PLACE"], e["URN"], e["PL_POST"])
    ck = child_key[~_absence]
    first = np.ones(len(e), dtype=bool)
    first[~_absence] = np.r_[True, ck[1:] != ck[:-1]] if len(ck) else np.zeros(0, bool)
    change = new_placement & ~first & (e["RNE"] != "S").to_numpy()
    return e.loc[change, ["la_code", "CHILD", "DECOM"]].reset_index(drop=True)
