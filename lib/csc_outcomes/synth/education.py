"""School census feed for looked-after children: attendance per term and suspensions.

Rows exist for each term whose start date falls while the child is looked after (not
on a short break), the child is of school age (4 to 15 on the 31 August before the term)
and has a UPN. Attendance follows the truth's model:

    proportion attended = base_i - delta * moves_365 + noise,
    base_i ~ N(ATT_LOW_MEAN, ATT_LOW_SD) for the LA's share of low attenders, else
    N(the LA's high mean, ATT_BASE_SD),
    noise ~ N(0, noise_sd), clipped to [0.2, 1], and turned into whole sessions;

``moves_365`` counts the child's placement changes (episodes that start a new
placement under the catalogue's rules, other than the start of a period of care,
``RNE S``) with ``term_start - 365 days <= DECOM < term_start``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import config
from .dates import day, fmt, from_ymd, years
from .history import History


def term_starts(first_year: int, last_year: int) -> np.ndarray:
    """Term start dates (early September, early January, mid April) in the collection
    years ``first_year``..``last_year``, each moved to a weekday."""
    out = []
    for y in range(first_year - 1, last_year + 1):
        out += [f"{y}-04-15", f"{y}-09-03", f"{y + 1}-01-04"]
    d = np.array(out, dtype="datetime64[D]")
    d = np.busday_offset(d, 0, roll="forward")
    lo, hi = day(f"{first_year - 1}-04-01"), day(f"{last_year}-03-31")
    return np.sort(d[(d >= lo) & (d <= hi)])


def school_census(h: History, rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(attendance, suspensions, model frame) for the LA."""
    ct = _child_terms(h)
    ep = h.episodes[~h.episodes["short"] & ~h.episodes["PLACE"].isin(["T0", "T1", "T2", "T3", "T4"])]
    moves = _moves_before(ct, ep[ep["new_placement"] & (ep["RNE"] != "S")][["child", "DECOM"]])
    ct["moves_365"] = moves
    n = len(ct)
    kids_u = np.unique(ct["child"].to_numpy())
    base = pd.Series(_bases(rng, h.prof, len(kids_u)), index=kids_u)
    b = base.reindex(ct["child"]).to_numpy()
    prop = b - config.ATT_DELTA * moves + rng.normal(0, config.ATT_NOISE_SD, n)
    prop = np.clip(prop, 0.2, 1.0)
    month = ct["term_start"].to_numpy().astype("datetime64[M]").astype(int) % 12 + 1
    possible = np.where(month == 9, rng.integers(132, 147, n),
                        np.where(month == 1, rng.integers(112, 125, n), rng.integers(120, 135, n)))
    absent = np.round((1 - prop) * possible).astype(int)
    auth = np.round(absent * rng.uniform(0.45, 0.9, n)).astype(int)
    ct["base"] = b
    ct["proportion"] = prop
    upn = h.kids.upn[ct["child"].to_numpy()]
    att = pd.DataFrame({"UPN": upn, "term_start": fmt(ct["term_start"].to_numpy().astype("datetime64[D]")),
                        "sessions_possible": possible, "sessions_authorised_absence": auth,
                        "sessions_unauthorised_absence": absent - auth})
    order = np.lexsort((ct["term_start"].to_numpy(), upn.astype(str)))
    att = att.iloc[order].reset_index(drop=True)
    sus = _suspensions(rng, ct["term_start"].to_numpy().astype("datetime64[D]"), upn)
    return att, sus, ct.assign(UPN=upn)


def _bases(rng: np.random.Generator, prof: config.LAProfile, n: int) -> np.ndarray:
    """Each child's base attendance: the LA's share of low attenders around
    ``ATT_LOW_MEAN``, the others around the LA's high mean."""
    low = rng.random(n) < prof.att_low_share
    return np.where(low, rng.normal(config.ATT_LOW_MEAN, config.ATT_LOW_SD, n),
                    rng.normal(prof.att_high_mean, config.ATT_BASE_SD, n))


def _child_terms(h: History) -> pd.DataFrame:
    """(child, term_start) for each term starting while the child is looked after (a
    temporary absence does not end care; short breaks do not count), aged 4 to 15 on
    the 31 August before, with a UPN."""
    terms = term_starts(h.first_year, h.last_year)
    full = h.episodes[~h.episodes["short"]]
    rows = []
    for ts in terms:
        m = (full["DECOM"].to_numpy() <= ts) & (full["DEC"].to_numpy() > ts)
        rows.append(pd.DataFrame({"child": np.unique(full["child"].to_numpy()[m]), "term_start": ts}))
    ct = pd.concat(rows, ignore_index=True)
    c = ct["child"].to_numpy()
    ts = ct["term_start"].to_numpy().astype("datetime64[D]")
    y = ts.astype("datetime64[Y]").astype(np.int64) + 1970
    ay_year = np.where(ts >= from_ymd(y, np.full(len(y), 9), np.ones(len(y), int)), y, y - 1)
    aug31 = from_ymd(ay_year, np.full(len(y), 8), np.full(len(y), 31))
    age = years(h.kids.dob[c], aug31)
    ok = (age >= 4) & (age <= 15) & ~h.upn_blank[c]
    return ct[ok].reset_index(drop=True)


def _moves_before(ct: pd.DataFrame, mv: pd.DataFrame) -> np.ndarray:
    """For each child-term, the placement changes ``mv`` (child, DECOM) in the 365 days
    before the term starts."""
    j = ct.reset_index().merge(mv, on="child", how="inner")
    tsj = j["term_start"].to_numpy().astype("datetime64[D]")
    dj = j["DECOM"].to_numpy().astype("datetime64[D]")
    inwin = (dj >= tsj - 365) & (dj < tsj)
    return np.bincount(j["index"].to_numpy()[inwin], minlength=len(ct))


def _suspensions(rng: np.random.Generator, term_start: np.ndarray, upn: np.ndarray) -> pd.DataFrame:
    """Suspensions in about 4% of child-terms, nearly all fixed-period."""
    n = len(term_start)
    s = rng.random(n) < 0.04
    k = int(s.sum())
    start = np.busday_offset(term_start[s] + rng.integers(0, 70, k), 0, roll="forward")
    perm = rng.random(k) < 0.01
    sus = pd.DataFrame({"UPN": upn[s], "start_date": fmt(start),
                        "category": np.where(perm, "PERM", "FIXD"),
                        "sessions": np.where(perm, 0, rng.integers(1, 11, k))})
    return sus.iloc[np.lexsort((start, upn[s].astype(str)))].reset_index(drop=True)


def contacts(h: History, rng: np.random.Generator) -> pd.DataFrame:
    """Front-door contacts: one before each referral (outcome ``REFERRAL``) and 0.5-1.0
    more per referral that led to no referral, for referred children and children known
    only as contacts (about 1.5-2 contacts per referral in all)."""
    lo, hi = day(f"{h.first_year - 1}-04-01"), h.sim_end
    r = h.refs
    r = r[(r["ref_date"] >= lo) & (r["ref_date"] <= hi)]
    nref = len(r)
    d_ref = r["ref_date"].to_numpy().astype("datetime64[D]") - rng.integers(0, 4, nref)
    c_ref = h.child_id[r["child"].to_numpy()]
    ratio = rng.uniform(0.5, 1.0)
    n_more = round(nref * ratio)
    known = rng.random(n_more) < 0.5
    extra = h.extra_contact_children
    if len(extra) == 0:      # a tiny LA: no children known only as contacts
        known[:] = True
    pick = rng.integers(0, max(nref, 1), n_more)
    span = int((hi - lo).astype(np.int64))
    d_more = np.where(known,
                      np.clip(r["ref_date"].to_numpy().astype("datetime64[D]")[pick] + rng.integers(-300, 300, n_more), lo, hi),
                      lo + rng.integers(0, span + 1, n_more)).astype("datetime64[D]")
    if len(extra) == 0:
        extra = np.array([""], dtype=object)   # never drawn: every extra contact is known
    c_more = np.where(known, c_ref[pick], extra[rng.integers(0, len(extra), n_more)])
    out_more = np.array(["NFA", "EARLY_HELP", "ADVICE", "SIGNPOSTED", "ALREADY_OPEN"], dtype=object)[
        rng.choice(5, n_more, p=[0.35, 0.25, 0.2, 0.15, 0.05])]
    # a child known only as a contact has no case to be open
    out_more = np.where(~known & (out_more == "ALREADY_OPEN"), "NFA", out_more).astype(object)
    dates = np.concatenate([d_ref, d_more])
    child = np.concatenate([c_ref, c_more]).astype(object)
    outcome = np.concatenate([np.full(nref, "REFERRAL", dtype=object), out_more])
    keep = dates >= lo
    dates, child, outcome = dates[keep], child[keep], outcome[keep]
    order = np.lexsort((rng.random(len(dates)), dates))
    ids = np.array([f"CT{i:08d}" for i in range(1, len(order) + 1)], dtype=object)
    return pd.DataFrame({"contact_id": ids, "CHILD": child[order], "contact_date": fmt(dates[order]),
                         "outcome": outcome[order]})
