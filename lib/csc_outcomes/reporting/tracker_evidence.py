"""The RAG tracker's evidence: one row per child looked after at the period end, and
one per care leaver of the period's collection year, per LA.

Read from the warehouse as the measures read it (only the columns the measures use,
``fields.read_columns``, one LA's rows) and built with the
measures' own rules (``measures.cohorts``, ``placements``, ``education``), so the
tracker's children are the children counted in ``cla_at_period_end`` and a child's
"2 moves" is what ``cla_3plus_placements`` counts. The school census is joined by UPN
within the LA, as the education measures match it.

Each domain gives three columns: the number rated (``<domain>``), its state
(``tracker_rating.RATED``, ``NO_DATA`` or ``NOT_APPLICABLE``) and the evidence in
words (``<domain>_evidence``). A domain whose table was not in the return of the
period's collection year (social workers before 2024, say) is "No data" for every
child: an empty table would otherwise read as "no changes".

OC3 (activity and accommodation) is returned for care leavers, after they leave care,
so a child still in care at the period end rarely has a row: without one, the
care-leaver domain is "Not applicable (still in care)", not "No data". Care leavers
(an OC3 row of the collection year the period end falls in, and not in care on the
period end) are rows of their own (``status`` :data:`CARE_LEAVER`): the care-leaver
domain rated, the in-care domains "Not applicable".
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from csc_outcomes import calendar
from csc_outcomes.measures.base import Context, ages_on
from csc_outcomes.measures.care_leavers import EET
from csc_outcomes.measures.cohorts import cla_cohort, with_dob, year_rows
from csc_outcomes.measures.education import matched_children
from csc_outcomes.measures.fields import read_columns
from csc_outcomes.measures.inputs import MeasureInputs
from csc_outcomes.measures.periods import make_periods
from csc_outcomes.measures.placements import placements_in_window, prepared_episodes
from csc_outcomes.measures.prepare import Codebook, prepare_table
from csc_outcomes.reporting.tracker_rating import (
    DOMAIN_KEYS,
    NO_DATA,
    NOT_APPLICABLE,
    RATED,
    figure,
)
from csc_outcomes.warehouse import connect

#: A domain's columns for the cohort: value, state, evidence (aligned with the cohort).
Columns = tuple[pd.Series, pd.Series, pd.Series]
#: The canonical tables the tracker reads.
TABLES = ("header", "episodes", "missing", "sw_episodes", "oc2", "oc3", "attendance", "suspensions")
#: Age bands as DfE publishes children looked after: (first age, label).
AGE_BANDS = ((0, "Under 1"), (1, "1 to 4"), (5, "5 to 9"), (10, "10 to 15"), (16, "16 and over"))
#: Compulsory school age, in whole years on the period end (the school census's children).
SCHOOL_AGES = (5, 16)
#: The OC2 flags of the health domain, as the evidence names them.
HEALTH_FLAGS = {"HEALTH_CHECK": "health check", "TEETH_CHECK": "dental check",
                "IMMUNISATIONS": "immunisations"}
#: A row's ``status``: looked after on the period end, or a care leaver of the year.
LOOKED_AFTER, CARE_LEAVER = "Looked after", "Care leaver"
#: The care-leaver domain's evidence for a child in care without an OC3 row.
STILL_IN_CARE = "still in care: OC3 is returned after leaving care"


def read_inputs(warehouse: str | Path, la_code: str) -> MeasureInputs:
    """One LA's rows of the tables the tracker reads, only the columns the measures
    read (``fields.read_columns``), over one connection: a run reads this once per LA."""
    with connect(Path(warehouse)) as con:
        present: dict[str, list[str]] = {}
        for table, column in con.execute("SELECT table_name, column_name FROM "
                                         "information_schema.columns").fetchall():
            present.setdefault(table, []).append(column)
        select = {t: ", ".join(f'"{c}"' for c in read_columns(t, present[t])) for t in TABLES}
        tables = {t: con.execute(f'SELECT {select[t]} FROM "{t}" WHERE la_code = ?',
                                 [la_code]).df() for t in TABLES}
        if "contacts" in present:  # the contacts feed: only its child and date
            tables["contacts"] = con.execute('SELECT la_code, "CHILD", contact_date FROM contacts '
                                             "WHERE la_code = ?", [la_code]).df()
        supplied = con.execute('SELECT la_code, table_name, collection_year FROM "supplied" '
                               "WHERE la_code = ?", [la_code]).df()
    return MeasureInputs(tables=tables, supplied=supplied)


def child_evidence(inputs: MeasureInputs, la_code: str, period_end: object,
                   care_leaver_age: int = 17) -> pd.DataFrame:
    """One row per child looked after at ``period_end`` in ``la_code``, and per care
    leaver of the year (:func:`leaver_rows`), sorted by ``CHILD``: ``CHILD, status, age,
    age_band, legal_status, placement, time_in_care`` and each domain's columns (see
    the module docstring)."""
    ctx = Context(inputs.tables, inputs.supplied)
    periods = make_periods([period_end])
    p = periods.iloc[0]
    cohort = with_dob(ctx, cla_cohort(ctx, periods))
    cohort = cohort[cohort["la_code"].astype(str) == la_code].reset_index(drop=True)
    cohort["age"] = ages_on(cohort["DOB"], p["period_end"])
    year = calendar.collection_year(p["period_end"])
    has = supplied_in(inputs, la_code, year)
    ids = child_ids(ctx, _with_oc3(inputs), inputs.table("episodes"))
    out = describe(ctx, cohort, p, ids)
    builders: dict[str, Callable[[], Columns]] = {
        "placement_moves": lambda: placement_moves(ctx, cohort, p),
        "stability": lambda: stability(ctx, cohort, p),
        "missing": lambda: missing(ctx, cohort, p, has("missing")),
        "social_workers": lambda: social_workers(ctx, cohort, p, has("sw_episodes")),
        "health": lambda: health(ctx, cohort, periods, has("oc2")),
        "sdq": lambda: sdq(ctx, cohort, periods, has("oc2")),
        "absence": lambda: absence(ctx, cohort, periods, has("attendance")),
        "suspensions": lambda: suspensions(ctx, cohort, p, has("attendance") and has("suspensions")),
        "contacts": lambda: contacts(inputs, cohort, p, ids, has("contacts")),
        "care_leaver": lambda: care_leaver(ctx, cohort, periods, has("oc3"), care_leaver_age),
    }
    for key, build in builders.items():
        out[key], out[f"{key}_state"], out[f"{key}_evidence"] = build()
    if has("oc3"):
        leavers = leaver_rows(ctx, periods, ids, care_leaver_age)
        out = pd.concat([out, leavers], ignore_index=True) if len(leavers) else out
    return out.sort_values("CHILD", kind="stable").reset_index(drop=True)


def supplied_in(inputs: MeasureInputs, la_code: str, year: int) -> Callable[[str], bool]:
    """``has(table)``: whether the LA's return for collection ``year`` held ``table``
    (a table supplied only in earlier years says nothing about this one)."""
    s = inputs.supplied
    mine = s[s["la_code"].astype(str) == la_code]
    if "collection_year" in mine.columns:
        mine = mine[pd.to_numeric(mine["collection_year"], errors="coerce").eq(year).fillna(True)]
    names = set(mine["table_name"].astype(str))
    return lambda table: table in names


def _with_oc3(inputs: MeasureInputs) -> pd.DataFrame:
    """The header's ``la_code, CHILD`` pairs and OC3's: a care leaver's id may be only
    in the OC3 table."""
    cols = ["la_code", "CHILD"]
    frames = [t[cols] for t in (inputs.table("header"), inputs.table("oc3"))
              if set(cols) <= set(t.columns)]
    return pd.concat(frames, ignore_index=True) if frames else inputs.table("header")


def leaver_rows(ctx: Context, periods: pd.DataFrame, ids: pd.DataFrame,
                min_age: int) -> pd.DataFrame:
    """One row per care leaver: an OC3 row of the collection year the period end falls
    in (rows without a year count, as ``year_rows`` uses them) and not in care on the
    period end (short breaks included: a child on one is still looked after).

    The in-care domains are "Not applicable" (they describe care the young person has
    left); the care-leaver domain is rated from the OC3 row, as for children in care."""
    p = periods.iloc[0]
    rows = year_rows(ctx, "oc3", periods)
    year = pd.to_numeric(rows["collection_year"], errors="coerce")
    rows = rows[year.eq(calendar.collection_year(p["period_end"])) | year.isna()]
    in_care = cla_cohort(ctx, periods, short_breaks=True)["child_key"]
    keys = rows.loc[~rows["child_key"].isin(in_care), "child_key"].drop_duplicates()
    if keys.empty:
        return pd.DataFrame()
    leavers = with_dob(ctx, pd.DataFrame({"child_key": keys.to_numpy()}))
    if "DOB" in rows.columns:  # OC3 carries the date of birth too
        own = rows.drop_duplicates("child_key", keep="last").set_index("child_key")["DOB"]
        leavers["DOB"] = leavers["DOB"].fillna(leavers["child_key"].map(own))
    leavers["age"] = ages_on(pd.to_datetime(leavers["DOB"]), p["period_end"])
    out = leavers[["child_key"]].merge(ids.drop_duplicates("child_key"), on="child_key", how="left")
    out["status"] = CARE_LEAVER
    out["age"] = leavers["age"].to_numpy()
    out["age_band"] = [age_band(a) for a in leavers["age"]]
    out["legal_status"] = out["placement"] = out["time_in_care"] = ""
    for key in (k for k in DOMAIN_KEYS if k != "care_leaver"):
        out[key], out[f"{key}_state"] = np.nan, NOT_APPLICABLE
        out[f"{key}_evidence"] = "care leaver: not in care on the period end"
    out["care_leaver"], out["care_leaver_state"], out["care_leaver_evidence"] = care_leaver(
        ctx, leavers, periods, True, min_age, in_care=False)
    return out


def child_ids(ctx: Context, header: pd.DataFrame, episodes: pd.DataFrame) -> pd.DataFrame:
    """``child_key -> CHILD``: the LA's own ids, keyed by the measures' own encoder
    (``prepare.prepare_table`` with the context's codebook), not a copy of it."""
    cols = ["la_code", "CHILD"]
    pairs = pd.concat([header[cols], episodes[cols]], ignore_index=True).dropna()
    pairs = pairs.astype(str).drop_duplicates().reset_index(drop=True)
    keyed = prepare_table(pairs, "header", _codebook(ctx), ctx.la_codes())
    return pd.DataFrame({"child_key": keyed["child_key"].to_numpy(), "CHILD": pairs["CHILD"]})


def _codebook(ctx: Context) -> Codebook:
    """The context's SSDA903 codebook, built when an SSDA903 table is first prepared."""
    ctx["episodes"]  # preparing an SSDA903 table builds the codebook

    def unbuilt() -> Codebook:
        raise RuntimeError("the SSDA903 codebook was not built")

    return ctx.memo(Context.CODEBOOK, unbuilt)


def describe(ctx: Context, cohort: pd.DataFrame, p: pd.Series, ids: pd.DataFrame) -> pd.DataFrame:
    """Who each child is to the board: id, age band, legal status, placement, time in care."""
    eps = prepared_episodes(ctx)
    current = eps[eps["DECOM"] <= p["period_end"]].drop_duplicates("poc_id", keep="last")
    place = cohort[["poc_id"]].merge(current[["poc_id", "PLACE"]], on="poc_id", how="left")
    out = pd.DataFrame({"child_key": cohort["child_key"].to_numpy()})
    out = out.merge(ids.drop_duplicates("child_key"), on="child_key", how="left")
    out["status"] = LOOKED_AFTER
    out["age"] = cohort["age"].to_numpy()
    out["age_band"] = [age_band(a) for a in cohort["age"]]
    out["legal_status"] = cohort["LS"].to_numpy()
    out["placement"] = place["PLACE"].to_numpy()
    out["time_in_care"] = [time_in_care(s, p["period_end"]) for s in cohort["poc_start"]]
    return out


def age_band(age: float) -> str:
    """DfE's age band of a whole-years age ("Unknown" without a date of birth)."""
    if pd.isna(age):
        return "Unknown"
    return [label for first, label in AGE_BANDS if age >= first][-1]


def time_in_care(start: pd.Timestamp, period_end: pd.Timestamp) -> str:
    """Whole years and months from the period of care's start to the period end."""
    months = (period_end.year - start.year) * 12 + period_end.month - start.month
    months -= int(period_end.day < start.day)
    years, months = divmod(max(months, 0), 12)
    return f"{years} y {months} m"


def _states(cohort: pd.DataFrame, rated: np.ndarray, why_not: np.ndarray,
            value: np.ndarray, evidence: list[str]) -> Columns:
    """A domain's columns: ``why_not`` (a state, "" where rated) overrides the value."""
    idx = cohort.index
    state = np.where(rated, RATED, why_not)
    return (pd.Series(np.where(rated, value, np.nan), index=idx, dtype=float),
            pd.Series(state, index=idx, dtype=object), pd.Series(evidence, index=idx, dtype=object))


def _per_child(counts: pd.Series, cohort: pd.DataFrame) -> np.ndarray:
    """A per-``child_key`` count for each cohort row (0 when the child has none)."""
    return cohort["child_key"].map(counts).fillna(0).to_numpy(dtype=float)


def placement_moves(ctx: Context, cohort: pd.DataFrame, p: pd.Series) -> Columns:
    """Moves in the last 12 months: placements in the window (``cla_3plus_placements``'s
    count) less the first."""
    counts = placements_in_window(prepared_episodes(ctx), p["window_start"], p["period_end"])
    moves = _per_child(counts.set_index("child_key")["placements"], cohort) - 1
    moves = np.maximum(moves, 0)
    text = [f"{m:g} moves ({m + 1:g} placements) in the last 12 months" for m in moves]
    return _states(cohort, np.ones(len(cohort), bool), np.full(len(cohort), ""), moves, text)


def stability(ctx: Context, cohort: pd.DataFrame, p: pd.Series) -> Columns:
    """Carer changes in the last two years of the current period of care, for the
    children ``cla_long_term_stability`` follows (under 16, in care 2½ years or more)."""
    pe = p["period_end"]
    eps = prepared_episodes(ctx)
    recent = eps[eps["carer_change"] & (eps["DECOM"] > calendar.add_years(pe, -2))
                 & (eps["DECOM"] <= pe)]
    changes = cohort["poc_id"].map(recent.groupby("poc_id").size()).fillna(0).to_numpy(dtype=float)
    no_dob = cohort["DOB"].isna().to_numpy()
    old = (cohort["age"] >= 16).fillna(False).to_numpy(dtype=bool)
    short = (cohort["poc_start"] > calendar.months_before(pe, 30)).to_numpy(dtype=bool)
    why_not = np.select([no_dob, old, short], [NO_DATA, NOT_APPLICABLE, NOT_APPLICABLE], "")
    text = np.select([no_dob, old, short], ["no date of birth in the header", "aged 16 or over",
                                            "in care under 2 years 6 months"],
                     [f"{c:g} carer changes in the last 2 years" for c in changes])
    return _states(cohort, why_not == "", why_not, changes, list(text))


def _unsupplied(cohort: pd.DataFrame, table: str) -> Columns:
    """Every child "No data": the period's return did not hold ``table``."""
    n = len(cohort)
    return _states(cohort, np.zeros(n, bool), np.full(n, NO_DATA, dtype=object),
                   np.zeros(n), [f"no {table} table in this year's return"] * n)


def missing(ctx: Context, cohort: pd.DataFrame, p: pd.Series, supplied: bool) -> Columns:
    """Missing episodes (``MISSING = M``) that started in the last 12 months."""
    if not supplied:
        return _unsupplied(cohort, "missing")
    m = ctx["missing"]
    m = m[(m["MISSING"] == "M") & (m["MIS_START"] >= p["window_start"])
          & (m["MIS_START"] <= p["period_end"])]
    n = _per_child(m.groupby("child_key").size(), cohort)
    text = [f"{x:g} missing episodes started in the last 12 months" for x in n]
    return _states(cohort, np.ones(len(cohort), bool), np.full(len(cohort), ""), n, text)


def social_workers(ctx: Context, cohort: pd.DataFrame, p: pd.Series, supplied: bool) -> Columns:
    """Distinct social workers with an episode overlapping the last 12 months (the rule
    of ``cla_3plus_social_workers``); "No data" when the year's return has none."""
    if not supplied:
        return _unsupplied(cohort, "sw_episodes")
    sw = ctx["sw_episodes"]
    sw = sw[sw["SW_ID"].notna() & (sw["SW_DECOM"] <= p["period_end"])
            & (sw["SW_DEC"].isna() | (sw["SW_DEC"] > p["window_start"]))]
    n = _per_child(sw.groupby("child_key")["SW_ID"].nunique(), cohort)
    text = [f"{x:g} social workers in the last 12 months" for x in n]
    return _states(cohort, np.ones(len(cohort), bool), np.full(len(cohort), ""), n, text)


def _oc2(ctx: Context, cohort: pd.DataFrame, periods: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """Each cohort child's OC2 row of the period's year (``cohorts.year_rows``), and
    whether the child is in the OC2 cohort (in care since the window's start)."""
    rows = ctx.memo("tracker_oc2", lambda: year_rows(ctx, "oc2", periods))  # health and SDQ
    rows = rows.drop_duplicates("child_key", keep="last")
    cols = ["child_key", "SDQ_SCORE", *HEALTH_FLAGS]
    merged = cohort[["child_key"]].merge(rows[cols].assign(_row=True), on="child_key", how="left")
    due = (cohort["poc_start"] <= periods["window_start"].iloc[0]).to_numpy(dtype=bool)
    return merged.set_axis(cohort.index), due


def health(ctx: Context, cohort: pd.DataFrame, periods: pd.DataFrame, supplied: bool) -> Columns:
    """Of the annual health check, the dental check and immunisations, how many the
    OC2 return records as not done (``0``), for children in care for 12 months or more."""
    if not supplied:
        return _unsupplied(cohort, "oc2")
    rows, due = _oc2(ctx, cohort, periods)
    flags = rows[list(HEALTH_FLAGS)].apply(pd.to_numeric, errors="coerce").astype(float)
    not_done = (flags == 0).sum(axis=1).to_numpy(dtype=float)
    blank = flags.isna().all(axis=1).to_numpy()
    why_not = np.select([~due, blank], [NOT_APPLICABLE, NO_DATA], "")
    words = [("; ".join(f"{name} {'done' if f == 1 else 'not done' if f == 0 else 'not recorded'}"
                        for name, f in zip(HEALTH_FLAGS.values(), r, strict=True)))
             for r in flags.itertuples(index=False)]
    text = np.select([~due, blank], ["in care under 12 months: not yet due",
                                     "no OC2 health record for the year"], words)
    return _states(cohort, why_not == "", why_not, not_done, list(text))


def sdq(ctx: Context, cohort: pd.DataFrame, periods: pd.DataFrame, supplied: bool) -> Columns:
    """The SDQ total difficulties score of children aged 4 to 16 in the OC2 cohort."""
    if not supplied:
        return _unsupplied(cohort, "oc2")
    rows, due = _oc2(ctx, cohort, periods)
    score = pd.to_numeric(rows["SDQ_SCORE"], errors="coerce").to_numpy(dtype=float)
    ages = cohort["age"].between(4, 16).fillna(False).to_numpy(dtype=bool)
    out_of_scope = ~due | ~ages
    none = np.isnan(score)
    why_not = np.select([out_of_scope, none], [NOT_APPLICABLE, NO_DATA], "")
    text = np.select([~ages, ~due, none],
                     ["not aged 4 to 16", "in care under 12 months: not yet due",
                      "no SDQ score recorded"], [f"SDQ score {s:g}" for s in score])
    return _states(cohort, why_not == "", why_not, score, list(text))


def _school(cohort: pd.DataFrame) -> np.ndarray:
    """Children of compulsory school age on the period end."""
    lo, hi = SCHOOL_AGES
    return cohort["age"].between(lo, hi).fillna(False).to_numpy(dtype=bool)


def absence(ctx: Context, cohort: pd.DataFrame, periods: pd.DataFrame, supplied: bool) -> Columns:
    """Sessions missed this year (authorised or not) as a percentage of sessions
    possible, over the terms ``cla_attendance_rate`` sums for the child."""
    if not supplied:
        return _unsupplied(cohort, "attendance")
    m = matched_children(ctx, periods).drop_duplicates("child_key").set_index("child_key")
    possible = cohort["child_key"].map(m["possible"]).to_numpy(dtype=float)
    attended = cohort["child_key"].map(m["attended"]).to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        pct = 100 * (possible - attended) / possible
    school = _school(cohort)
    unmatched = np.isnan(possible) | (possible <= 0)
    why_not = np.select([~school, unmatched], [NOT_APPLICABLE, NO_DATA], "")
    text = np.select([~school, unmatched],
                     ["not of compulsory school age", "not matched to the school census this year"],
                     [f"{a:g} of {s:g} sessions missed ({figure(x)}%)"
                      for a, s, x in zip(possible - attended, possible, pct, strict=True)])
    return _states(cohort, why_not == "", why_not, pct, list(text))


def suspensions(ctx: Context, cohort: pd.DataFrame, p: pd.Series, supplied: bool) -> Columns:
    """Suspensions (``FIXD``) starting in the last 12 months, for children matched to
    the school census by UPN (the children ``cla_suspended`` counts)."""
    if not supplied:
        return _unsupplied(cohort, "suspensions")
    periods = make_periods([p["period_end"]])
    matched = cohort["child_key"].isin(matched_children(ctx, periods)["child_key"]).to_numpy()
    s = ctx["suspensions"]
    s = s[(s["category"] == "FIXD") & (s["start_date"] >= p["window_start"])
          & (s["start_date"] <= p["period_end"])]
    n = cohort["UPN"].map(s.groupby("UPN").size()).fillna(0).to_numpy(dtype=float)
    school = _school(cohort)
    why_not = np.select([~school, ~matched], [NOT_APPLICABLE, NO_DATA], "")
    text = np.select([~school, ~matched],
                     ["not of compulsory school age", "not matched to the school census this year"],
                     [f"{x:g} suspensions in the last 12 months" for x in n])
    return _states(cohort, why_not == "", why_not, n, list(text))


def contacts(inputs: MeasureInputs, cohort: pd.DataFrame, p: pd.Series, ids: pd.DataFrame,
             supplied: bool) -> Columns:
    """Front-door contacts about the child dated in the last 12 months: another agency
    (police, health, a school) raising a concern about a child in care. The contacts
    feed names children by the LA's ``CHILD`` id, as ingest matched it to the returns."""
    if not supplied or "contacts" not in inputs.tables:
        return _unsupplied(cohort, "contacts")
    feed = inputs.table("contacts")
    dates = pd.to_datetime(feed["contact_date"], errors="coerce")
    feed = feed[(dates >= p["window_start"]) & (dates <= p["period_end"])]
    per_child = feed.groupby(feed["CHILD"].astype(str)).size()
    child = cohort["child_key"].map(ids.drop_duplicates("child_key").set_index("child_key")["CHILD"])
    n = child.map(per_child).fillna(0).to_numpy(dtype=float)
    text = [f"{x:g} front-door contacts in the last 12 months" for x in n]
    return _states(cohort, np.ones(len(cohort), bool), np.full(len(cohort), ""), n, text)


def care_leaver(ctx: Context, cohort: pd.DataFrame, periods: pd.DataFrame, supplied: bool,
                min_age: int, in_care: bool = True) -> Columns:
    """For young people aged ``min_age`` or more: of activity (education, employment or
    training, ``care_leavers.EET``) and accommodation (suitable: ``ACCOM`` ending in 1),
    how many the year's OC3 row records as not met.

    ``cohort`` is children in care (``in_care``), for whom no OC3 row is expected (it
    is returned after leaving care): "Not applicable"; or care leavers, for whom a row
    recording neither activity nor accommodation is "No data"."""
    if not supplied:
        return _unsupplied(cohort, "oc3")
    rows = year_rows(ctx, "oc3", periods).drop_duplicates("child_key", keep="last")
    r = cohort[["child_key"]].merge(rows[["child_key", "ACTIV", "ACCOM"]], on="child_key",
                                    how="left").set_axis(cohort.index)
    activ, accom = r["ACTIV"].astype(object), r["ACCOM"].astype(object)
    poor = (activ.notna() & ~activ.isin(EET)).astype(int) + (
        accom.notna() & ~accom.fillna("").astype(str).str.endswith("1")).astype(int)
    older = (cohort["age"] >= min_age).fillna(False).to_numpy(dtype=bool)
    blank = (activ.isna() & accom.isna()).to_numpy()
    why_not = np.select([~older, blank], [NOT_APPLICABLE, NOT_APPLICABLE if in_care else NO_DATA],
                        "")
    words = [f"activity {a} ({'EET' if a in EET else 'not EET'}); accommodation {c} "
             f"({'suitable' if str(c).endswith('1') else 'not suitable'})"
             for a, c in zip(activ.fillna("not recorded"), accom.fillna("not recorded"), strict=True)]
    text = np.select([~older, blank], [f"under {min_age}", STILL_IN_CARE if in_care else
                                       "OC3 row records neither activity nor accommodation"],
                     words)
    return _states(cohort, why_not == "", why_not, poor.to_numpy(dtype=float), list(text))


__all__ = ["AGE_BANDS", "CARE_LEAVER", "LOOKED_AFTER", "STILL_IN_CARE", "child_evidence", "child_ids",
           "leaver_rows", "read_inputs"]
