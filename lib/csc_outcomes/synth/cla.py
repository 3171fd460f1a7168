"""Periods of care and their SSDA903 episodes, vectorised over all periods of an LA.

A *period of care* starts when an assessment leads to a child being looked after
(``cin.py`` decides when) and ends with a route out of care (home, adoption, special
guardianship, child arrangements order, or reaching 18 / moving to independence). Within
a period, events change the placement (moves, adoption placements, temporary absences)
or the legal status; episodes are the spans between events, as the SSDA903 records them:

- first episode ``RNE S``; legal-status-only change ``L``; placement and carer change
  ``P``; placement change with the same carer ``T``; with a legal change too, ``B`` / ``U``;
- temporary absences ``T0``-``T4`` (a few days), after which the child returns to the
  same placement (same ``PLACE``, ``URN`` and ``PL_POST``);
- adoption by the current foster carer: ``A3``/``A5`` after ``U1``-``U6`` (``RNE T``/``U``);
- every episode but the last ends ``REC X1`` (a new episode starts the same day).

Short breaks (``LS V3``/``V4``) are a separate small group of disabled children with
brief, repeated episodes. What each placement is (code, provider, home, postcode) is
drawn by ``placements.py``; reviews, missing incidents and social workers by
``care_records.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import config
from .dates import birthday, years
from .placements import (
    ABSENCES,
    FOSTER,
    NO_URN,
    Postcodes,
    band_of,
    draw_places,
    homes_pool,
    is_home,
    provider,
    resolve_place,
)

#: Placement moves: per-child rate ~ Gamma(shape, mean = LA move rate), multiplied in
#: the first six months of a period, lower after six months and lower still after two years;
#: in LAs of low long-term stability, an even hazard from six months on as well.
MOVE_SHAPE = 0.5
EARLY_MULT = 4.5
MID_MULT = 0.4
LATE_MULT = 0.35
MOVE_CAP = 2.5
#: Day of a period from which the settled phase's moves fall (``_settled_extra_moves``).
SETTLED_FROM = 182

ROUTES = ["home", "adopt", "sgo", "cao", "long"]
_ROUTE_P = np.array([
    [0.30, 0.38, 0.17, 0.02, 0.13],   # under 1
    [0.37, 0.24, 0.17, 0.02, 0.20],   # 1-4
    [0.52, 0.02, 0.09, 0.03, 0.34],   # 5-9
    [0.60, 0.00, 0.03, 0.02, 0.35],   # 10-15
    [0.35, 0.00, 0.00, 0.00, 0.65],   # 16-17
])
_REC = {
    "home": (["E4A", "E13", "E4B", "E8"], [0.55, 0.25, 0.12, 0.08]),
    "adopt": (["E11", "E12"], [0.92, 0.08]),
    "sgo": (["E45", "E46"], [0.5, 0.5]),
    "cao": (["E41"], [1.0]),
    "at18": (["E17", "E5", "E6", "E8", "E7"], [0.22, 0.38, 0.12, 0.23, 0.05]),
    "early": (["E5", "E6", "E13", "E9", "E8"], [0.45, 0.2, 0.2, 0.07, 0.08]),
}


def _pick(rng: np.random.Generator, codes_p: tuple[list[str], list[float]], n: int) -> np.ndarray:
    codes, p = codes_p
    return np.array(codes, dtype=object)[rng.choice(len(codes), size=n, p=np.array(p) / sum(p))]


def _band(age_years: np.ndarray) -> np.ndarray:
    return np.digitize(age_years, [1, 5, 10, 16])


def draw_care_periods(rng: np.random.Generator, start: np.ndarray, dob: np.ndarray) -> dict:
    """End, route and reason ceased of periods of care starting on ``start``."""
    n = len(start)
    age = years(dob, start)
    band = _band(age)
    u = rng.random(n)
    route = (u[:, None] > np.cumsum(_ROUTE_P[band], axis=1)).sum(axis=1)
    route = np.minimum(route, 4)
    dur = np.where(route == 0, rng.lognormal(np.log(150), 1.0, n),
          np.where(route == 1, rng.lognormal(np.log(720), 0.3, n),
          np.where(route == 2, rng.lognormal(np.log(600), 0.4, n),
          np.where(route == 3, rng.lognormal(np.log(420), 0.5, n), 1e6))))
    dur = np.maximum(np.round(dur), 1).astype(np.int64)
    b18 = birthday(dob, 18)
    # some long stayers move to independence at 16-17
    early = (route == 4) & (rng.random(n) < 0.35) & (age < 16)
    early_end = birthday(dob, 16) + (rng.random(n) * 700).astype(np.int64)
    end = start + dur
    end = np.where(early, np.maximum(early_end, start + 30), end)
    at18 = end >= b18
    end = np.where(at18, b18, end)
    end = np.maximum(end, start + 1)
    route_s = np.array(ROUTES, dtype=object)[route]
    route_s = np.where(at18, "long", route_s)
    rec = np.empty(n, dtype=object)
    for r in ("home", "adopt", "sgo", "cao"):
        m = (route_s == r) & ~at18
        rec[m] = _pick(rng, _REC[r], int(m.sum()))
    m = at18
    rec[m] = _pick(rng, _REC["at18"], int(m.sum()))
    m = (route_s == "long") & ~at18
    rec[m] = _pick(rng, _REC["early"], int(m.sum()))
    return {"end": end.astype("datetime64[D]"), "route": route_s, "rec": rec, "age": age}


# ---------------------------------------------------------------- episodes
# Kinds of event within a period of care, in the order they sort on the same day.
_START, _LEGAL, _ADOPTION, _MOVE, _ABSENCE, _RETURN = range(6)


@dataclass
class _Periods:
    """The arrays of all periods of care that the episode steps share (one per period)."""

    n: int
    pid: np.ndarray
    start: np.ndarray
    dur: np.ndarray          # days from start to end
    route: np.ndarray
    adopt: np.ndarray        # bool: the period ends in adoption
    entry_ls: np.ndarray

    @classmethod
    def of(cls, periods: pd.DataFrame) -> _Periods:
        start = periods["start"].to_numpy().astype("datetime64[D]")
        end = periods["end"].to_numpy().astype("datetime64[D]")
        route = periods["route"].to_numpy()
        return cls(n=len(periods), pid=periods["pid"].to_numpy(), start=start,
                   dur=(end - start).astype(np.int64), route=route, adopt=route == "adopt",
                   entry_ls=periods["entry_ls"].to_numpy())


@dataclass
class _Placement:
    """Per episode: the placement's code, URN, provider, postcode and carer (a number
    shared by the episodes of one carer)."""

    place: np.ndarray
    urn: np.ndarray
    prov: np.ndarray
    post: np.ndarray
    carer: np.ndarray


def build_episodes(rng: np.random.Generator, periods: pd.DataFrame, dob: np.ndarray,
                   prof: config.LAProfile, postcodes: Postcodes,
                   home_post: np.ndarray) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Episodes of all periods of care.

    ``periods`` has columns ``pid, child, start, end, route, rec, need, entry_ls``.
    Returns (episodes, adoption details per period). The steps: events in each period
    (legal changes, adoption, moves, absences), one episode per day with events, the
    placement of each episode, the reason for each new episode, then the end of each.
    """
    p = _Periods.of(periods)
    events = _legal_events(rng, p)
    adoption_events, t_e1, t_a = _adoption_events(rng, p)
    events += adoption_events
    events.append(_move_events(rng, p, prof, t_a))
    pmap = periods.set_index("pid")
    ep = _episode_days(_with_absences(rng, p, events), pmap)
    pl = _placements(rng, ep, dob, prof, postcodes)
    is_ad = _adoption_placements(rng, ep, pl, postcodes)
    _temporary_absences(rng, ep, pl)
    rne = _reasons_new_episode(ep, pl, is_ad)
    keep = pd.notna(rne)
    ep = ep.assign(RNE=rne, PLACE=pl.place, URN=pl.urn, PLACE_PROVIDER=pl.prov, PL_POST=pl.post,
                   carer=pl.carer)[keep].reset_index(drop=True)
    out = _episode_table(rng, ep, pmap, home_post)
    return out, _adoption_details(periods, p, t_e1, t_a, out)


def _legal_events(rng: np.random.Generator, p: _Periods) -> list[pd.DataFrame]:
    """The start of each period and its changes of legal status: emergency protection
    (L1/L2) resolved within days, an interim care order made full (now and then with a
    move the same day), some s20 accommodations turned into interim care orders."""
    n, pid, dur, adopt = p.n, p.pid, p.dur, p.adopt
    ev = [pd.DataFrame({"pid": pid, "t": 0, "kind": _START, "ls": p.entry_ls})]
    emerg = np.isin(p.entry_ls, ["L1", "L2"])
    t_e = rng.integers(1, 9, n)
    next_ls = np.where(rng.random(n) < 0.65, "C2", "V2").astype(object)
    next_ls = np.where(adopt | (p.route == "sgo"), "C2", next_ls)
    m = emerg & (t_e < dur)
    ev.append(pd.DataFrame({"pid": pid[m], "t": t_e[m], "kind": _LEGAL, "ls": next_ls[m]}))
    ls_after = np.where(m, next_ls, p.entry_ls)
    t_c1 = rng.integers(120, 420, n)
    m = (ls_after == "C2") & ~adopt & (t_c1 < dur)
    ev.append(pd.DataFrame({"pid": pid[m], "t": t_c1[m], "kind": _LEGAL, "ls": "C1"}))
    m2 = m & (rng.random(n) < 0.08)
    ev.append(pd.DataFrame({"pid": pid[m2], "t": t_c1[m2], "kind": _MOVE, "ls": None,
                            "same_carer": rng.random(int(m2.sum())) < 0.3}))
    t_v = rng.integers(30, 300, n)
    m = (ls_after == "V2") & (rng.random(n) < 0.15) & (t_v < dur)
    ev.append(pd.DataFrame({"pid": pid[m], "t": t_v[m], "kind": _LEGAL, "ls": "C2"}))
    return ev


def _adoption_events(rng: np.random.Generator,
                     p: _Periods) -> tuple[list[pd.DataFrame], np.ndarray, np.ndarray]:
    """Placement order (E1), then placed for adoption, in adopted periods; returns the
    events and the days (from the period's start) of the order and of the placement."""
    t_a = p.dur - rng.integers(120, 330, p.n)
    t_e1 = t_a - rng.integers(20, 160, p.n)
    t_a = np.maximum(t_a, 12)
    t_e1 = np.clip(t_e1, 10, t_a - 1)
    pid, adopt = p.pid, p.adopt
    return ([pd.DataFrame({"pid": pid[adopt], "t": t_e1[adopt], "kind": _LEGAL, "ls": "E1"}),
             pd.DataFrame({"pid": pid[adopt], "t": t_a[adopt], "kind": _ADOPTION, "ls": None})],
            t_e1, t_a)


def _move_events(rng: np.random.Generator, p: _Periods, prof: config.LAProfile,
                 t_a: np.ndarray) -> pd.DataFrame:
    """Placement moves: a per-child rate, EARLY_MULT times higher in the first six
    months, MID_MULT times to two years, LATE_MULT times after (a piecewise hazard; the
    LA's ``settled_move_mult`` scales the last two, which set its long-term stability),
    and the LA's even settled hazard (``_settled_extra_moves``)."""
    n = p.n
    mid, late = MID_MULT * prof.settled_move_mult, LATE_MULT * prof.settled_move_mult
    lam = np.minimum(rng.gamma(MOVE_SHAPE, prof.move_rate / MOVE_SHAPE, n), MOVE_CAP) / 365.25
    lam = np.where(p.adopt, lam * 0.5, lam)
    k = 16
    cum = np.cumsum(rng.exponential(1.0, (n, k)), axis=1) / np.maximum(lam, 1e-9)[:, None]
    h1 = EARLY_MULT * 182
    h2 = h1 + mid * (730 - 182)
    t_mv = np.where(cum <= h1, cum / EARLY_MULT,
                    np.where(cum <= h2, 182 + (cum - h1) / mid, 730 + (cum - h2) / late))
    t_mv = np.floor(t_mv).astype(np.int64) + 1
    limit = np.where(p.adopt, t_a, p.dur)
    rows, cols = np.nonzero(t_mv < limit[:, None])
    x_rows, x_t = _settled_extra_moves(rng, limit, prof.settled_extra)
    rows, t = np.r_[rows, x_rows], np.r_[t_mv[rows, cols], x_t]
    same = rng.random(len(rows)) < 0.05
    return pd.DataFrame({"pid": p.pid[rows], "t": t, "kind": _MOVE, "ls": None, "same_carer": same})


def _settled_extra_moves(rng: np.random.Generator, limit: np.ndarray,
                         per_year: float) -> tuple[np.ndarray, np.ndarray]:
    """(period index, day) of the moves of a hazard ``per_year`` that every child has
    from six months into a period to ``limit``: unlike the per-child rates it falls on
    children evenly, so it takes long-term stability down much more than it adds
    children with 3+ placements in a year (``levers.placement_moves``). None when 0,
    so LAs that do not need it draw as before."""
    if per_year <= 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    span = np.maximum(limit - SETTLED_FROM, 0)
    rows = np.repeat(np.arange(len(limit)), rng.poisson(per_year * span / 365.25))
    t = SETTLED_FROM + np.floor(rng.random(len(rows)) * span[rows]).astype(np.int64) + 1
    before_end = t < limit[rows]     # as the per-child moves: none on the period's last day
    return rows[before_end], t[before_end]


def _with_absences(rng: np.random.Generator, p: _Periods,
                   events: list[pd.DataFrame]) -> pd.DataFrame:
    """All events, with a temporary absence (and the return from it) in a few periods;
    events falling inside an absence are dropped."""
    n, pid, dur = p.n, p.pid, p.dur
    ab = (~p.adopt) & (dur > 60) & (rng.random(n) < 0.05)
    a0 = np.where(ab, 10 + (rng.random(n) * np.maximum(dur - 40, 1)).astype(np.int64), 0)
    a1 = a0 + rng.integers(1, 15, n)
    ab &= a1 < dur - 5
    evs = pd.concat(events, ignore_index=True)
    evs["same_carer"] = evs["same_carer"].eq(True).to_numpy()    # missing (not a move) -> False
    at = evs["t"].to_numpy()
    inside = (pd.Series(ab, index=pid).reindex(evs["pid"]).to_numpy()
              & (at >= pd.Series(a0, index=pid).reindex(evs["pid"]).to_numpy())
              & (at <= pd.Series(a1, index=pid).reindex(evs["pid"]).to_numpy()))
    evs = evs[~inside]
    absence = pd.DataFrame({"pid": pid[ab], "t": a0[ab], "kind": _ABSENCE, "ls": None, "same_carer": False})
    back = pd.DataFrame({"pid": pid[ab], "t": a1[ab], "kind": _RETURN, "ls": None, "same_carer": False})
    return pd.concat([evs, absence, back], ignore_index=True)


def _episode_days(evs: pd.DataFrame, pmap: pd.DataFrame) -> pd.DataFrame:
    """One row per (period, day) with events (a legal change and a move on the same day
    make one episode): what happened that day, the child, ``DECOM``, the legal status
    (carried forward within the period) and whether it changed."""
    evs = evs.sort_values(["pid", "t", "kind"], kind="stable")
    ep = evs.groupby(["pid", "t"], sort=True)["ls"].last().rename("ls_new").to_frame()
    kind = evs["kind"]
    kinds = evs.assign(is_move=kind.isin([_START, _MOVE]), is_adopt=kind == _ADOPTION,
                       is_abs=kind == _ABSENCE, is_back=kind == _RETURN,
                       is_start=kind == _START,
                       same_mv=(kind == _MOVE) & evs["same_carer"],
                       diff_mv=(kind == _MOVE) & ~evs["same_carer"])
    agg = kinds.groupby(["pid", "t"], sort=True)[
        ["is_move", "is_adopt", "is_abs", "is_back", "is_start", "same_mv", "diff_mv"]].any()
    ep = ep.join(agg).reset_index()
    ep["same_mv"] = ep["same_mv"] & ~ep["diff_mv"]
    ep["child"] = pmap["child"].reindex(ep["pid"]).to_numpy()
    ep_start = pmap["start"].reindex(ep["pid"]).to_numpy().astype("datetime64[D]")
    ep["DECOM"] = ep_start + ep["t"].to_numpy()
    ep["LS"] = ep["ls_new"].groupby(ep["pid"]).ffill()
    prev_ls = ep.groupby("pid")["LS"].shift(1)
    ep["legal_change"] = (ep["LS"] != prev_ls) & prev_ls.notna()
    return ep


def _only_where(mask: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``values`` where ``mask``, None elsewhere (an object array)."""
    out = np.full(len(mask), None, dtype=object)
    out[mask] = np.asarray(values, dtype=object)[mask]
    return out


def _placements(rng: np.random.Generator, ep: pd.DataFrame, dob: np.ndarray,
                prof: config.LAProfile, postcodes: Postcodes) -> _Placement:
    """A new placement at each period's start and each move to a new carer, carried
    forward to the episodes after it; a move with the same carer keeps the carer's
    PLACE and URN with a new postcode."""
    ne = len(ep)
    decom = ep["DECOM"].to_numpy()
    band = band_of(years(dob[ep["child"].to_numpy()], decom))
    newp = (ep["is_start"] | (ep["is_move"] & ~ep["same_mv"])).to_numpy()
    place = draw_places(rng, newp, band)
    place[newp] = resolve_place(place[newp], decom[newp], rng)
    n_homes = max(8, int(40 * prof.volume))
    h_urn, h_post = homes_pool(rng, postcodes, n_homes)
    hidx = rng.integers(0, n_homes, ne)
    home = is_home(place)
    urn = _only_where(newp, np.where(home, h_urn[hidx], NO_URN))
    post = _only_where(newp, np.where(home, h_post[hidx], postcodes.draw(ne)))
    prov = _only_where(newp, provider(place, rng))
    carer = np.where(newp, np.arange(ne), -1).astype(np.int64)
    post = np.where(ep["same_mv"].to_numpy() & ~newp, postcodes.draw(ne), post).astype(object)
    frame = pd.DataFrame({"pid": ep["pid"], "PLACE": place, "URN": urn, "PLACE_PROVIDER": prov,
                          "carer": np.where(carer >= 0, carer, np.nan)})
    filled = frame.groupby("pid")[["PLACE", "URN", "PLACE_PROVIDER", "carer"]].ffill()
    post_f = pd.Series(post).groupby(ep["pid"].to_numpy()).ffill().to_numpy()
    return _Placement(place=filled["PLACE"].to_numpy().astype(object, copy=True),
                      urn=filled["URN"].to_numpy().astype(object, copy=True),
                      prov=filled["PLACE_PROVIDER"].to_numpy().astype(object, copy=True),
                      post=np.array(post_f, dtype=object, copy=True),
                      carer=filled["carer"].to_numpy().astype(float, copy=True))


def _adoption_placements(rng: np.random.Generator, ep: pd.DataFrame, pl: _Placement,
                         postcodes: Postcodes) -> np.ndarray:
    """Placed for adoption with the current foster carer (A3/A5) or with new adopters
    (A4/A6, a new carer and postcode); updates ``pl``, returns the episodes placed."""
    ne = len(ep)
    is_ad = ep["is_adopt"].to_numpy()
    prev_place = pd.Series(pl.place).groupby(ep["pid"].to_numpy()).shift(1).to_numpy()
    foster_prev = np.isin(prev_place, FOSTER)
    by_carer = is_ad & foster_prev & (rng.random(ne) < 0.25)
    consent = rng.random(ne) < 0.2
    pl.place[is_ad] = np.where(by_carer[is_ad], np.where(consent[is_ad], "A3", "A5"),
                               np.where(consent[is_ad], "A4", "A6"))
    pl.prov[is_ad] = provider(pl.place[is_ad], rng)
    new_adopt = is_ad & ~by_carer
    pl.urn[new_adopt] = NO_URN
    pl.post[new_adopt] = postcodes.draw(int(new_adopt.sum()), 0.5)
    pl.carer[new_adopt] = np.arange(ne)[new_adopt] + 10**7
    return is_ad


def _temporary_absences(rng: np.random.Generator, ep: pd.DataFrame, pl: _Placement) -> None:
    """Absences are T0-T4 without provider or postcode; the return restores the
    placement of the episode before the absence (updates ``pl``)."""
    is_abs = ep["is_abs"].to_numpy()
    pl.place[is_abs] = np.array(ABSENCES, dtype=object)[
        rng.choice(5, int(is_abs.sum()), p=[0.1, 0.35, 0.25, 0.2, 0.1])]
    pl.prov[is_abs] = ""
    pl.urn[is_abs] = NO_URN
    pl.post[is_abs] = ""
    back = np.flatnonzero(ep["is_back"].to_numpy())
    before = back - 2
    for arr in (pl.place, pl.urn, pl.prov, pl.post, pl.carer):
        arr[back] = arr[before]


def _reasons_new_episode(ep: pd.DataFrame, pl: _Placement, is_ad: np.ndarray) -> np.ndarray:
    """RNE of each episode: S at the start, L for a legal change only, P/T for a change
    of placement with a new/the same carer, B/U with a legal change too; None for a day
    on which nothing recorded changed (the row is dropped)."""
    pid = ep["pid"].to_numpy()
    prev_carer = pd.Series(pl.carer).groupby(pid).shift(1).to_numpy()
    place_change = ep["is_move"].to_numpy() | is_ad
    carer_change = place_change & (pl.carer != prev_carer)
    same_carer = place_change & ~carer_change
    lch = ep["legal_change"].to_numpy()
    rne = np.full(len(ep), None, dtype=object)
    rne[lch] = "L"
    rne[same_carer] = np.where(lch[same_carer], "U", "T")
    rne[carer_change] = np.where(lch[carer_change], "B", "P")
    rne[ep["is_abs"].to_numpy() | ep["is_back"].to_numpy()] = "P"
    rne[ep["is_start"].to_numpy()] = "S"
    return rne


def _episode_table(rng: np.random.Generator, ep: pd.DataFrame, pmap: pd.DataFrame,
                   home_post: np.ndarray) -> pd.DataFrame:
    """The episodes in SSDA903 columns (plus ``pid``, ``child``, ``carer`` and the
    absence flags): each ends when the next starts (``REC X1``) or with its period
    (the period's reason); a reason for the placement change where the next episode
    changes placement."""
    pid = ep["pid"]
    nxt = ep.groupby("pid")["DECOM"].shift(-1)
    last = nxt.isna().to_numpy()
    p_end = pmap["end"].reindex(pid).to_numpy().astype("datetime64[D]")
    dec = np.where(last, p_end, nxt.to_numpy().astype("datetime64[D]"))
    rec = np.where(last, pmap["rec"].reindex(pid).to_numpy(), "X1").astype(object)
    next_rne = ep.groupby("pid")["RNE"].shift(-1).to_numpy()
    next_abs = ep.groupby("pid")["is_abs"].shift(-1).eq(True).to_numpy()
    is_abs_ep = ep["is_abs"].to_numpy()
    rpc_on = np.isin(next_rne, ["P", "B", "T", "U"]) & ~next_abs & ~is_abs_ep
    reasons = config.REASON_PLACE_CHANGE
    rpc = np.array(reasons, dtype=object)[
        rng.choice(len(reasons), len(ep), p=config.REASON_PLACE_CHANGE_P / config.REASON_PLACE_CHANGE_P.sum())]
    rpc = np.where(rpc_on, rpc, "").astype(object)
    child = ep["child"].to_numpy()
    return pd.DataFrame({
        "pid": pid.to_numpy(),
        "child": child,
        "DECOM": ep["DECOM"].to_numpy().astype("datetime64[D]"),
        "RNE": ep["RNE"].to_numpy(),
        "LS": ep["LS"].to_numpy().astype(object),
        "CIN": pmap["need"].reindex(pid).to_numpy(),
        "PLACE": ep["PLACE"].to_numpy(),
        "PLACE_PROVIDER": ep["PLACE_PROVIDER"].to_numpy(),
        "DEC": dec.astype("datetime64[D]"),
        "REC": rec,
        "REASON_PLACE_CHANGE": rpc,
        "HOME_POST": home_post[child],
        "PL_POST": ep["PL_POST"].to_numpy(),
        "URN": ep["URN"].to_numpy(),
        "carer": ep["carer"].to_numpy(),
        "is_abs": is_abs_ep,
        "is_back": ep["is_back"].to_numpy(),
    })


def _adoption_details(periods: pd.DataFrame, p: _Periods, t_e1: np.ndarray, t_a: np.ndarray,
                      episodes: pd.DataFrame) -> pd.DataFrame:
    """Per adopted period: the placement order and placement dates, and whether the
    adopters are the foster carer."""
    adopt = p.adopt
    ad = periods.loc[adopt, ["pid", "child", "start", "end"]].copy()
    ad["date_e1"] = (p.start + t_e1)[adopt]
    ad["date_placed"] = (p.start + t_a)[adopt]
    by_carer_pid = episodes.loc[episodes["PLACE"].isin(["A3", "A5"]), "pid"].unique()
    ad["foster_carer"] = ad["pid"].isin(by_carer_pid)
    return ad


def new_placement_flags(ep: pd.DataFrame) -> np.ndarray:
    """The catalogue's placement rule on episodes sorted by child and DECOM: does each
    episode (other than a temporary absence) start a new placement?"""
    place = ep["PLACE"].to_numpy().astype(str)
    child = ep["child"].to_numpy()
    is_t = np.isin(place, ABSENCES)
    prev_any_t = np.r_[False, is_t[:-1]] & np.r_[False, child[1:] == child[:-1]]
    sub = ep[~is_t]
    after_abs = prev_any_t[~is_t]
    c = sub["child"].to_numpy()
    same_child = np.r_[False, c[1:] == c[:-1]]
    pl = sub["PLACE"].to_numpy().astype(str)
    prev_pl = np.r_[[""], pl[:-1]]
    urn = sub["URN"].to_numpy().astype(str)
    prev_urn = np.r_[[""], urn[:-1]]
    post = sub["PL_POST"].to_numpy().astype(str)
    prev_post = np.r_[[""], post[:-1]]
    rne = sub["RNE"].to_numpy().astype(str)
    new = ~same_child | (rne == "S")
    moving = np.isin(rne, ["P", "B", "T", "U"])
    adopt_fc = np.isin(pl, ["A3", "A5"]) & np.isin(prev_pl, FOSTER)
    back = after_abs & (pl == prev_pl) & (urn == prev_urn) & (post == prev_post)
    new |= same_child & moving & ~adopt_fc & ~back
    flags = np.zeros(len(ep), dtype=bool)
    flags[np.flatnonzero(~is_t)] = new
    return flags


def short_breaks(rng: np.random.Generator, first_day: np.datetime64, last_day: np.datetime64,
                 dob_gen: Callable[[int, np.ndarray], np.ndarray],
                 n_children: int) -> tuple[np.ndarray, pd.DataFrame]:
    """Disabled children on an agreed series of short breaks (LS V3/V4): several short
    episodes a year, each a new period (RNE S). ``dob_gen(n, first_break)`` draws the
    children's dates of birth. Returns (dob array, episodes)."""
    n = n_children
    if n == 0:
        return np.array([], dtype="datetime64[D]"), pd.DataFrame()
    k = 60
    gaps = rng.integers(20, 90, (n, k))
    first = first_day + rng.integers(0, 365, n)
    decom = first[:, None] + np.cumsum(gaps, axis=1) - gaps[:, :1]
    length = rng.integers(1, 5, (n, k))
    dec = decom + length
    dob = dob_gen(n, first)
    b18 = birthday(dob, 18)
    ok = (decom <= last_day) & (dec < b18[:, None])
    r, c = np.nonzero(ok)
    ls = np.where(rng.random(n) < 0.5, "V3", "V4").astype(object)
    place = np.where(rng.random(n) < 0.6, "K2", "U4").astype(object)
    urn = np.array([f"SC{x:06d}" for x in rng.integers(100_000, 999_999, n)], dtype=object)
    urn = np.where(place == "K2", urn, NO_URN)
    post = np.array([f"ZZ{x} {y}" for x, y in zip(rng.integers(1, 99, n), rng.integers(1, 10, n), strict=True)], dtype=object)
    ep = pd.DataFrame({
        "child": r, "DECOM": decom[r, c], "RNE": "S", "LS": ls[r], "CIN": "N1",
        "PLACE": place[r], "PLACE_PROVIDER": "PR1",
        "DEC": dec[r, c], "REC": "E13", "REASON_PLACE_CHANGE": "", "PL_POST": post[r],
        "URN": urn[r], "is_abs": False, "is_back": False})
    return dob, ep
