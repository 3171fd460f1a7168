"""Yearly SSDA903 returns cut from an LA's history.

Each collection year's return holds the children looked after at any time in the year
(header), the episodes open at any time in the year (an episode open on 31 March has no
``DEC`` yet and appears again, closed, in the next return), and the year's reviews,
missing incidents, OC2/OC3 cohorts, adoptions, decisions to place for adoption,
previous permanence for children starting care, UASC status and (from 2024)
social-worker episodes. Codes follow the year: ``SEX`` 1/2 to 2025 then M/F; ``H5``
and ``P2`` are recoded ``K3`` in returns from 2026 (an LA's correction of an open
placement). About 3% of episodes carried into the next return are corrected there
(``PLACE_PROVIDER`` or ``HOME_POST``), so "the later return wins" matters.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import config
from .dates import birthday, fmt, year_bounds, years
from .history import History


def _dates(df: pd.DataFrame, cols: list[str]) -> pd.DataFrame:
    out = df.copy()
    for c in cols:
        out[c] = fmt(out[c].to_numpy().astype("datetime64[D]"))
    return out


def _open_end(d: np.ndarray, ye: np.datetime64) -> np.ndarray:
    """Dates after the year's end, not yet known when the return is made, as NaT."""
    return np.where(d > ye, np.datetime64("NaT"), d)


def ssda903_year(h: History, year: int, rng: np.random.Generator) -> dict[str, pd.DataFrame]:
    """All SSDA903 tables of collection ``year`` as frames of strings, in file order."""
    ys, ye = year_bounds(year)
    out: dict[str, pd.DataFrame] = {"episodes": _episodes(h, year, rng)}
    # children looked after in the year
    c = np.unique(h.episodes["child"].to_numpy()[_open_in(h.episodes, "DECOM", "DEC", ys, ye)])
    out["uasc"] = _uasc(h, year, c[h.kids.uasc[c]])
    out["reviews"] = _reviews(h, ys, ye)
    # OC2: looked after continuously for 12 months at 31 March (not short breaks)
    pr = h.periods
    oc2p = pr[(pr["start"] <= year_bounds(year - 1)[1]) & (pr["end"] > ye)]
    out["oc2"] = _oc2(rng, h, np.unique(oc2p["child"].to_numpy()), ye)
    out["oc3"] = _oc3(rng, h, year)
    ad = h.adoption[(h.adoption["end"] >= ys) & (h.adoption["end"] <= ye)]
    out["ad1"] = _ad1(rng, h, ad)
    out["placed_for_adoption"] = _placed_for_adoption(h, ys, ye)
    out["previous_permanence"] = _previous_permanence(h, ys, ye)
    out["missing"] = _missing(h, ys, ye)
    if year >= config.SSDA903_FIRST_YEAR["sw_episodes"]:
        out["sw_episodes"] = _sw_episodes(h, ys, ye)
    # the header is written last: it lists every child of every table of the return,
    # care leavers with only an OC3 row included
    out["header"] = _header(h, year, out)
    return {t: out[t][config.SSDA903_COLUMNS[t]].reset_index(drop=True) for t in config.SSDA903_COLUMNS if t in out}


def _open_in(df: pd.DataFrame, start: str, end: str, ys: np.datetime64, ye: np.datetime64) -> np.ndarray:
    """Rows open at any time in the year: starting by its end, ending from its start."""
    return ((df[start] <= ye) & (df[end] >= ys)).to_numpy()


def _episodes(h: History, year: int, rng: np.random.Generator) -> pd.DataFrame:
    """Episodes open at any time in the year; an episode open on 31 March has no end
    yet. From 2026, H5 and P2 are recoded K3; an open episode's version may carry a
    mistake (its provider) that the next return corrects."""
    ys, ye = year_bounds(year)
    ep = h.episodes[_open_in(h.episodes, "DECOM", "DEC", ys, ye)].copy()
    still_open = ep["DEC"] > ye
    ep.loc[still_open, "DEC"] = np.datetime64("NaT")
    ep.loc[still_open, "REC"] = ""
    ep.loc[still_open, "REASON_PLACE_CHANGE"] = ""
    if year >= 2026:
        ep.loc[ep["PLACE"].isin(["H5", "P2"]), "PLACE"] = "K3"
    if year < h.last_year:
        wrong = still_open.to_numpy() & (rng.random(len(ep)) < 0.03)
        prov = ep["PLACE_PROVIDER"].to_numpy().astype(object, copy=True)
        swap = {"PR1": "PR4", "PR4": "PR1", "PR5": "PR4", "PR0": "PR0", "PR2": "PR1", "PR3": "PR1"}
        prov[wrong] = [swap.get(p, p) if p else p for p in prov[wrong]]
        ep["PLACE_PROVIDER"] = prov
    ep["CHILD"] = h.child_id[ep["child"].to_numpy()]
    ep = ep.sort_values(["CHILD", "DECOM"], kind="stable")
    return _dates(ep, ["DECOM", "DEC"])[config.SSDA903_COLUMNS["episodes"]]


def _uasc(h: History, year: int, u: np.ndarray) -> pd.DataFrame:
    """Unaccompanied asylum-seeking children looked after in the year (``u``)."""
    kids = h.kids
    male_code, female_code = config.sex_codes(year)
    sex = np.where(kids.male[u], male_code, female_code).astype(object)
    return pd.DataFrame({"CHILD": h.child_id[u], "SEX": sex, "DOB": fmt(kids.dob[u]),
                         "DUC": fmt(birthday(kids.dob[u], 18))}).sort_values("CHILD", kind="stable")


def _reviews(h: History, ys: np.datetime64, ye: np.datetime64) -> pd.DataFrame:
    """Reviews in the year (participation PN0 for children under 4)."""
    rv = h.reviews[(h.reviews["REVIEW"] >= ys) & (h.reviews["REVIEW"] <= ye)]
    rc = rv["child"].to_numpy()
    dates = rv["REVIEW"].to_numpy().astype("datetime64[D]")
    rev_age = years(h.kids.dob[rc], dates)
    return pd.DataFrame({
        "CHILD": h.child_id[rc], "DOB": fmt(h.kids.dob[rc]), "REVIEW": fmt(dates),
        "REVIEW_CODE": np.where(rev_age < 4, "PN0", rv["code"].to_numpy())}).sort_values(["CHILD"], kind="stable")


def _previous_permanence(h: History, ys: np.datetime64, ye: np.datetime64) -> pd.DataFrame:
    """Previous permanence of children starting to be looked after in the year."""
    e = h.episodes
    st = e[(e["RNE"] == "S") & (e["DECOM"] >= ys) & (e["DECOM"] <= ye) & ~e["short"]]
    sc = np.unique(st["child"].to_numpy())
    d = h.child_draws.iloc[sc]
    pp = d["prev_perm"].to_numpy()
    return pd.DataFrame({
        "CHILD": h.child_id[sc], "DOB": fmt(h.kids.dob[sc]), "PREV_PERM": pp,
        "LA_PERM": np.where(pp == "Z1", "", "SYN"),
        "DATE_PERM": np.where(pp == "Z1", "", fmt(d["perm_date"].to_numpy().astype("datetime64[D]")))})


def _missing(h: History, ys: np.datetime64, ye: np.datetime64) -> pd.DataFrame:
    """Missing incidents starting in the year."""
    ms = h.missing[(h.missing["MIS_START"] >= ys) & (h.missing["MIS_START"] <= ye)]
    c = ms["child"].to_numpy()
    end = ms["MIS_END"].to_numpy().astype("datetime64[D]")
    return pd.DataFrame({
        "CHILD": h.child_id[c], "DOB": fmt(h.kids.dob[c]), "MISSING": ms["MISSING"].to_numpy(),
        "MIS_START": fmt(ms["MIS_START"].to_numpy().astype("datetime64[D]")),
        "MIS_END": fmt(_open_end(end, ye))}).sort_values("CHILD", kind="stable")


def _sw_episodes(h: History, ys: np.datetime64, ye: np.datetime64) -> pd.DataFrame:
    """Social-worker episodes open at any time in the year."""
    sw = h.sw[_open_in(h.sw, "SW_DECOM", "SW_DEC", ys, ye)]
    c = sw["child"].to_numpy()
    dec = sw["SW_DEC"].to_numpy().astype("datetime64[D]")
    return pd.DataFrame({
        "CHILD": h.child_id[c], "DOB": fmt(h.kids.dob[c]), "SW_ID": sw["SW_ID"].to_numpy(),
        "SW_DECOM": fmt(sw["SW_DECOM"].to_numpy().astype("datetime64[D]")),
        "SW_DEC": fmt(_open_end(dec, ye)),
        "SW_REASON": np.where(dec > ye, "", sw["SW_REASON"].to_numpy())}).sort_values("CHILD", kind="stable")


def _header(h: History, year: int, tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per child of any table of the year's return: children looked after in the
    year and care leavers with only an OC3 row (the SSDA903 header covers both)."""
    ye = year_bounds(year)[1]
    kids = h.kids
    cid = h.child_id
    ids = np.concatenate([np.asarray(t["CHILD"], dtype=object) for t in tables.values()] or
                         [np.array([], dtype=object)])
    c = np.unique(pd.Index(cid).get_indexer(pd.unique(ids)))
    if len(c) and c[0] < 0:
        raise ValueError("a CHILD of the return is not a child of the LA")
    male_code, female_code = config.sex_codes(year)
    dob = kids.dob[c]
    age = years(dob, np.full(len(c), ye))
    upn = np.where(h.upn_blank[c] | (age < 4), "", kids.upn[c]).astype(object)
    draws = h.child_draws.iloc[c]
    mc = draws["mc_dob"].to_numpy().astype("datetime64[D]")
    is_mother = draws["mother"].to_numpy() & (mc <= ye)
    mother = np.where(kids.male[c], "", np.where(is_mother, "1", "0")).astype(object)
    mother = np.where(~kids.male[c] & (age < 12), "", mother)
    header = pd.DataFrame({"CHILD": cid[c], "SEX": np.where(kids.male[c], male_code, female_code).astype(object),
                           "DOB": fmt(dob), "ETHNIC": kids.ethnic[c], "UPN": upn, "MOTHER": mother,
                           "MC_DOB": fmt(np.where(is_mother, mc, np.datetime64("NaT")))})
    return header.sort_values("CHILD", kind="stable")


def _flag(rng, p, n) -> np.ndarray:
    return np.where(rng.random(n) < p, "1", "0").astype(object)


def _oc2(rng, h: History, c: np.ndarray, ye) -> pd.DataFrame:
    n = len(c)
    kids = h.kids
    age = years(kids.dob[c], np.full(n, ye))
    sdq_age = (age >= 4) & (age <= 16)
    recorded = sdq_age & (rng.random(n) < h.prof.sdq_recorded)
    score = np.clip(np.round(rng.normal(14, 7, n)), 0, 40).astype(int).astype(str).astype(object)
    reason = np.array(["SDQ1", "SDQ2", "SDQ3", "SDQ4", "SDQ5"], dtype=object)[rng.integers(0, 5, n)]
    sm = _flag(rng, np.where(age >= 11, 0.05, 0.0), n)
    p = h.prof
    return pd.DataFrame({
        "CHILD": h.child_id[c], "DOB": fmt(kids.dob[c]),
        "SDQ_SCORE": np.where(recorded, score, ""),
        "SDQ_REASON": np.where(sdq_age & ~recorded, reason, ""),
        "CONVICTED": np.where(age >= 10, _flag(rng, 0.025, n), ""),
        "HEALTH_CHECK": _flag(rng, p.health_check, n),
        "IMMUNISATIONS": _flag(rng, p.immunisations, n),
        "TEETH_CHECK": _flag(rng, p.teeth_check, n),
        "HEALTH_ASSESSMENT": _flag(rng, min(0.99, p.health_check + 0.02), n),
        "SUBSTANCE_MISUSE": sm,
        "INTERVENTION_RECEIVED": np.where(sm == "1", _flag(rng, 0.6, n), ""),
        "INTERVENTION_OFFERED": np.where(sm == "1", _flag(rng, 0.85, n), ""),
    }).sort_values("CHILD", kind="stable")


_ACCOM_OK = np.array(list("BCDEHKRU"), dtype=object)
_ACCOM_BAD = np.array(list("BSTVXUW"), dtype=object)
_EET = np.array(["F1", "P1", "F2", "P2", "F4", "P4", "F5", "P5"], dtype=object)
_EET_P = np.array([0.07, 0.01, 0.22, 0.04, 0.05, 0.01, 0.38, 0.22])
_NEET = np.array(["G4", "G5", "G6"], dtype=object)


def care_leavers(h: History) -> pd.DataFrame:
    """Children eligible for OC3 (13 weeks looked after since 14, some of it after 16),
    with the date they last left care."""
    pr = h.periods
    c = pr["child"].to_numpy()
    dob = h.kids.dob[c]
    s = pr["start"].to_numpy().astype("datetime64[D]")
    e = np.minimum(pr["end"].to_numpy().astype("datetime64[D]"), h.sim_end)
    b14, b16 = birthday(dob, 14), birthday(dob, 16)
    days14 = np.maximum((e - np.maximum(s, b14)).astype(np.int64), 0)
    after16 = e > b16
    df = pd.DataFrame({"child": c, "d14": days14, "a16": after16, "left": e,
                       "open": pr["end"].to_numpy().astype("datetime64[D]") > h.sim_end})
    g = df.groupby("child").agg(d14=("d14", "sum"), a16=("a16", "any"), left=("left", "max"), open=("open", "any"))
    g = g[(g["d14"] >= 91) & g["a16"]]
    return g.reset_index()


def _oc3(rng, h: History, year: int) -> pd.DataFrame:
    ys, ye = year_bounds(year)
    cl = care_leavers(h)
    c = cl["child"].to_numpy()
    dob = h.kids.dob[c]
    rows = []
    for age in range(17, 22):
        b = birthday(dob, age)
        m = (b >= ys) & (b <= ye) & (cl["left"].to_numpy() <= b) & ~cl["open"].to_numpy()
        rows.append(pd.DataFrame({"child": c[m], "age": age}))
    df = pd.concat(rows, ignore_index=True).drop_duplicates("child")
    n = len(df)
    p = h.prof
    u = rng.random(n)
    it = np.where(u < p.in_touch, "YES", np.where(u < p.in_touch + 0.04, "NO",
         np.where(u < p.in_touch + 0.06, "REFU", np.where(u < p.in_touch + 0.07, "NREQ",
         np.where(u < 0.997, "RHOM", "DIED"))))).astype(object)
    known = np.isin(it, ["YES", "NREQ"])
    eet_p = np.where(df["age"].to_numpy() <= 18, min(0.9, p.eet_19_21 + 0.12), p.eet_19_21)
    eet = rng.random(n) < eet_p
    activ = np.where(eet, _EET[rng.choice(8, n, p=_EET_P)], _NEET[rng.integers(0, 3, n)])
    ok = rng.random(n) < p.suitable_accom
    letter = np.where(ok, _ACCOM_OK[rng.integers(0, len(_ACCOM_OK), n)], _ACCOM_BAD[rng.integers(0, len(_ACCOM_BAD), n)])
    accom = letter + np.where(ok, "1", "2").astype(object)
    cc = df["child"].to_numpy()
    return pd.DataFrame({"CHILD": h.child_id[cc], "DOB": fmt(h.kids.dob[cc]), "IN_TOUCH": it,
                         "ACTIV": np.where(known, activ, "0"), "ACCOM": np.where(known, accom, "0")}
                        ).sort_values("CHILD", kind="stable")


def _ad1(rng, h: History, ad: pd.DataFrame) -> pd.DataFrame:
    n = len(ad)
    c = ad["child"].to_numpy()
    e1 = ad["date_e1"].to_numpy().astype("datetime64[D]")
    placed = ad["date_placed"].to_numpy().astype("datetime64[D]")
    nb = np.where(rng.random(n) < 0.12, "1", "2").astype(object)
    u = rng.random(n)
    sex2 = np.where(u < 0.78, "MF", np.where(u < 0.9, "FF", "MM"))
    sex1 = np.where(u < 0.8, "F1", "M1")
    v = rng.random(n)
    ls2 = np.where(v < 0.6, "L0", np.where(v < 0.85, "L2", np.where(v < 0.95, "L11", "L12")))
    date_int = e1 - rng.integers(20, 120, n)
    # matched with adopters after the decision to place for adoption, never before
    date_match = np.maximum(placed - rng.integers(5, 40, n), date_int)
    return pd.DataFrame({
        "CHILD": h.child_id[c], "DOB": fmt(h.kids.dob[c]), "DATE_INT": fmt(date_int),
        "DATE_MATCH": fmt(date_match),
        "FOSTER_CARE": np.where(ad["foster_carer"].to_numpy(), "1", "0"),
        "NB_ADOPTR": nb, "SEX_ADOPTR": np.where(nb == "1", sex1, sex2),
        "LS_ADOPTR": np.where(nb == "1", "L3", ls2)}).sort_values("CHILD", kind="stable")


def _placed_for_adoption(h: History, ys, ye) -> pd.DataFrame:
    ad = h.adoption
    dp = ad["date_e1"].to_numpy().astype("datetime64[D]")
    ceased = ad["end"].to_numpy().astype("datetime64[D]")
    rec = h.periods.set_index("pid")["rec"].reindex(ad["pid"]).to_numpy()
    m = (dp <= ye) & (ceased >= ys)
    c = ad["child"].to_numpy()[m]
    ce = ceased[m]
    done = ce <= ye
    return pd.DataFrame({
        "CHILD": h.child_id[c], "DOB": fmt(h.kids.dob[c]), "DATE_PLACED": fmt(dp[m]),
        "DATE_PLACED_CEASED": fmt(np.where(done, ce, np.datetime64("NaT"))),
        "REASON_PLACED_CEASED": np.where(done, rec[m], "")}).sort_values("CHILD", kind="stable")
