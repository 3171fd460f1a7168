"""Children looked after at a period end, starts, social workers, missing; the OC2 cohort.

Catalogue: an episode is open on day d when ``DECOM <= d`` and (``DEC`` is empty or
``DEC > d``). A child's continuous period of care at a date is the chain of episodes
ending with the one open on that date, walked back while each earlier episode's
``DEC`` equals the next one's ``DECOM``; its start is the first ``DECOM`` in the chain
(computed once for every episode in ``placements.prepared_episodes``).
"""

from __future__ import annotations

import pandas as pd

from csc_outcomes import calendar
from csc_outcomes.measures.base import (
    SHORT_BREAKS,
    Context,
    Tables,
    as_context,
    count_children,
    count_frame,
    per_period,
    periods_key,
)
from csc_outcomes.measures.placements import prepared_episodes


def cla_cohort(ctx: Context, periods: pd.DataFrame, short_breaks: bool = False) -> pd.DataFrame:
    """Children with an episode open on each period end.

    Columns ``la_code, child_key, period_end, LS, poc_id, poc_start,
    short_break``. Where a child has more than one open episode (overlapping episodes,
    a data error), the latest-starting one is the open episode. Short breaks (the open
    episode's ``LS`` is ``V3``/``V4``) are dropped unless ``short_breaks=True``.
    Memoised on the context per set of period ends.
    """

    def build() -> pd.DataFrame:
        eps = prepared_episodes(ctx)
        cols = ["la_code", "child_key", "LS", "poc_id", "poc_start"]

        def one(p: pd.Series) -> pd.DataFrame:
            pe = p["period_end"]
            open_ = eps[(eps["DECOM"] <= pe) & (eps["DEC"].isna() | (eps["DEC"] > pe))]
            return open_.drop_duplicates("child_key", keep="last")[cols]

        frame = per_period(periods, one)  # typed columns even when no episode is open
        frame["short_break"] = frame["LS"].isin(SHORT_BREAKS).to_numpy(dtype=bool)
        return frame.reset_index(drop=True)

    full = ctx.memo(("cla_cohort", periods_key(periods)), build)
    return full if short_breaks else full[~full["short_break"]]


def with_dob(ctx: Context, cohort: pd.DataFrame) -> pd.DataFrame:
    """Add the header's ``DOB`` and ``UPN`` to a cohort frame (by LA and child)."""
    header = ctx["header"][["child_key", "DOB", "UPN"]]
    header = header.drop_duplicates("child_key", keep="last")
    return cohort.merge(header, on="child_key", how="left")


def cla_at_period_end(tables: Tables, periods: pd.DataFrame) -> pd.DataFrame:
    """Children looked after on the period end, short breaks excluded.

    Catalogue: "Children with an episode open on `period_end`, excluding short breaks
    (that open episode has `LS` `V3`/`V4`)."
    """
    ctx = as_context(tables)
    return count_frame(count_children(cla_cohort(ctx, periods)))


def cla_started(tables: Tables, periods: pd.DataFrame) -> pd.DataFrame:
    """Children who started to be looked after in the window.

    Catalogue: "Children (each counted once) with an episode starting with `RNE = S`
    in the window whose `LS` is not `V3`/`V4`."
    """
    ctx = as_context(tables)
    eps = prepared_episodes(ctx)
    starts = eps[(eps["RNE"] == "S") & ~eps["LS"].isin(SHORT_BREAKS)]

    def one(p: pd.Series) -> pd.DataFrame:
        m = (starts["DECOM"] >= p["window_start"]) & (starts["DECOM"] <= p["period_end"])
        return starts.loc[m, ["la_code", "child_key"]]

    return count_frame(count_children(per_period(periods, one)))


def cla_3plus_social_workers(tables: Tables, periods: pd.DataFrame) -> pd.DataFrame:
    """Children looked after with three or more social workers in the window.

    Catalogue: "Where `sw_episodes` is supplied: of `cla_at_period_end`, those with 3
    or more distinct `SW_ID` among social-worker episodes overlapping the window
    (`SW_DECOM <= period_end` and `SW_DEC` empty or `> window_start`); a return to an
    earlier social worker adds nothing."
    """
    ctx = as_context(tables)
    cohort = cla_cohort(ctx, periods)
    sw = ctx["sw_episodes"]
    sw = sw[sw["SW_DECOM"].notna() & sw["SW_ID"].notna()][
        ["child_key", "SW_ID", "SW_DECOM", "SW_DEC"]
    ].copy()
    sw["SW_ID"] = pd.factorize(sw["SW_ID"])[0]

    def one(p: pd.Series) -> pd.DataFrame:
        c = cohort[cohort["period_end"] == p["period_end"]]
        m = (sw["SW_DECOM"] <= p["period_end"]) & (
            sw["SW_DEC"].isna() | (sw["SW_DEC"] > p["window_start"])
        )
        n = (
            sw[m].groupby("child_key", sort=False)["SW_ID"].nunique()
            .rename("workers").reset_index()
        )
        c = c.merge(n, on="child_key", how="left")
        c["flag"] = c["workers"].fillna(0) >= 3
        return c[["la_code", "child_key", "flag"]]

    return count_children(per_period(periods, one), "flag")


def cla_missing(tables: Tables, periods: pd.DataFrame) -> pd.DataFrame:
    """Children looked after in the window who went missing in it.

    Catalogue: "Of children with an episode overlapping the window (short breaks
    excluded), those with a `missing` row of `MISSING = M` whose `MIS_START` is in the
    window (wherever the child was living then)." Short breaks: "a child counts only
    through an overlapping episode that is not `V3`/`V4`".
    """
    ctx = as_context(tables)
    eps = prepared_episodes(ctx)
    eps = eps[~eps["LS"].isin(SHORT_BREAKS)]
    miss = ctx["missing"]
    miss = miss[(miss["MISSING"] == "M") & miss["MIS_START"].notna()][
        ["child_key", "MIS_START"]
    ]

    def one(p: pd.Series) -> pd.DataFrame:
        ws, pe = p["window_start"], p["period_end"]
        m = (eps["DECOM"] <= pe) & (eps["DEC"].isna() | (eps["DEC"] > ws))
        kids = eps.loc[m, ["la_code", "child_key"]].drop_duplicates("child_key")
        went = miss.loc[(miss["MIS_START"] >= ws) & (miss["MIS_START"] <= pe), "child_key"]
        flag = kids["child_key"].isin(went.unique()).to_numpy(dtype=bool)
        return kids.assign(flag=flag)[["la_code", "child_key", "flag"]]

    return count_children(per_period(periods, one), "flag")


# --------------------------------------------------------------------------- OC2 / OC3


def year_rows(
    ctx: Context, table: str, periods: pd.DataFrame
) -> pd.DataFrame:
    """Rows of a one-year table (OC2, OC3) to use for each period end.

    Catalogue: "use the rows of the collection year holding it (1 April to 31 March,
    named by the year it ends), or, if that year was not supplied, of the latest
    earlier year; never a later year's rows." The years supplied for an LA are those
    in ``supplied`` (when it carries ``collection_year``) and those of its rows.
    Rows without a ``collection_year`` (hand-built fixtures) are used for every
    period. Returns the rows with a ``period_end`` column (one copy per period).
    """
    rows = ctx[table].copy()
    if "collection_year" not in rows.columns:
        rows["collection_year"] = pd.NA
    rows["collection_year"] = pd.to_numeric(rows["collection_year"], errors="coerce")
    undated = rows[rows["collection_year"].isna()]
    dated = rows[rows["collection_year"].notna()]
    years = dated[["la_code", "collection_year"]]
    sup = getattr(ctx, "supplied", None)
    if sup is not None and "collection_year" in sup.columns:
        s = sup[sup["table_name"] == table][["la_code", "collection_year"]]
        years = pd.concat([years, s], ignore_index=True)
    years = years.dropna().astype({"collection_year": "int64"}).drop_duplicates()
    per = pd.DataFrame(
        {
            "period_end": periods["period_end"],
            "target": [calendar.collection_year(p) for p in periods["period_end"]],
        }
    )
    choice = years.merge(per, how="cross")
    choice = choice[choice["collection_year"] <= choice["target"]]
    choice = (
        choice.groupby(["la_code", "period_end"], observed=True)["collection_year"]
        .max()
        .reset_index()
    )
    out = dated.astype({"collection_year": "int64"}).merge(
        choice, on=["la_code", "collection_year"], how="inner"
    )
    if not undated.empty:
        out = pd.concat(
            [out, undated.merge(periods[["period_end"]], how="cross")], ignore_index=True
        )
    return out.drop_duplicates(["child_key", "period_end"], keep="last")


def oc2_cohort(ctx: Context, periods: pd.DataFrame) -> pd.DataFrame:
    """The OC2 cohort with its OC2 row: ``cla_at_period_end`` children whose continuous
    period of care started on or before ``window_start`` and who have an OC2 row in the
    year chosen for the period (inner join; header ``DOB`` added)."""

    def build() -> pd.DataFrame:
        cohort = cla_cohort(ctx, periods).merge(
            periods[["period_end", "window_start"]], on="period_end"
        )
        cohort = cohort[cohort["poc_start"] <= cohort["window_start"]]
        oc2 = year_rows(ctx, "oc2", periods).drop(columns=["DOB", "la_code", "CHILD"], errors="ignore")
        merged = cohort.merge(oc2, on=["child_key", "period_end"], how="inner")
        return with_dob(ctx, merged)

    return ctx.memo(("oc2_cohort", periods_key(periods)), build)


__all__ = [
    "cla_3plus_social_workers",
    "cla_at_period_end",
    "cla_cohort",
    "cla_missing",
    "cla_started",
    "oc2_cohort",
    "with_dob",
    "year_rows",
]
