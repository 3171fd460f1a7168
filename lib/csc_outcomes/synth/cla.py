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
brief, repeated episodes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import config
from .dates import birthday, years

#: Placement moves: per-child rate ~ Gamma(shape, mean = LA move rate), multiplied in
#: the first six months of a period, lower after six months and lower still after two years.
MOVE_SHAPE = 0.5
EARLY_MULT = 4.5
MID_MULT = 0.4
LATE_MULT = 0.35
MOVE_CAP = 2.5

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


def _pick(rng, codes_p, n):
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


# ---------------------------------------------------------------- placements
_SUPPORTED = "SUPP"   # placeholder: H5 before 2024-25, K3 from 2024-25
_INDEP = "INDEP"      # placeholder: P2 before 2025-26, K3 from 2025-26
_OTHER = "OTHER"      # placeholder: Z1, Z11-Z14 from 2026-27
_PLACE_BY_BAND = [
    # under 5
    (["U4", "U5", "U6", "U1", "U2", "U3", "P1", "R3", _OTHER], [0.40, 0.12, 0.10, 0.15, 0.05, 0.05, 0.08, 0.02, 0.03]),
    # 5-11
    (["U4", "U5", "U6", "U1", "U2", "U3", "P1", "K2", "R1", "S1", _OTHER],
     [0.40, 0.12, 0.10, 0.12, 0.04, 0.04, 0.07, 0.07, 0.01, 0.01, 0.02]),
    # 12-15
    (["U4", "U5", "U6", "U1", "U2", "U3", "P1", "K2", "K1", "R1", "S1", _OTHER],
     [0.33, 0.10, 0.09, 0.10, 0.03, 0.02, 0.05, 0.21, 0.01, 0.02, 0.02, 0.02]),
    # 16-17
    (["U4", "U5", "U6", "U1", "U2", "U3", "P1", "K2", _SUPPORTED, _INDEP, "R1", "R5", _OTHER],
     [0.22, 0.06, 0.05, 0.07, 0.02, 0.02, 0.03, 0.17, 0.24, 0.05, 0.02, 0.01, 0.04]),
]
_HOMES = {"K1", "K2", "K3", "H5", "R1", "S1", _SUPPORTED}


def _resolve_place(place: np.ndarray, decom: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Turn placeholders into the code valid in the collection year the placement starts."""
    from .dates import year_bounds
    place = place.copy()
    k3_from = year_bounds(2025)[0]
    p2_to = year_bounds(2026)[0]
    z_from = year_bounds(2027)[0]
    m = place == _SUPPORTED
    place[m] = np.where(decom[m] >= k3_from, "K3", "H5")
    m = place == _INDEP
    place[m] = np.where(decom[m] >= p2_to, "K3", "P2")
    m = place == _OTHER
    zz = np.array(["Z11", "Z12", "Z13", "Z14"], dtype=object)[rng.integers(0, 4, int(m.sum()))]
    place[m] = np.where(decom[m] >= z_from, zz, "Z1")
    return place


def _provider(place: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    n = len(place)
    u = rng.random(n)
    prov = np.where(u < 0.6, "PR1", np.where(u < 0.93, "PR4", "PR5")).astype(object)
    home = np.isin(place, list(_HOMES | {"K3"}))
    prov = np.where(home, np.where(u < 0.25, "PR1", np.where(u < 0.9, "PR4", "PR5")), prov)
    prov = np.where(np.isin(place, ["U1", "U2", "U3", "P2", "R3"]), "PR1", prov)
    prov = np.where(place == "P1", "PR0", prov)
    prov = np.where(np.isin(place, ["R2", "R5"]), "PR3", prov)
    prov = np.where(np.isin(place, ["A3", "A4", "A5", "A6"]), np.where(u < 0.8, "PR1", "PR5"), prov)
    return prov.astype(object)


class Postcodes:
    """Partial postcodes (outward code and sector) of a synthetic LA: ``ZZ`` areas do
    not exist, so no real place is named."""

    def __init__(self, rng: np.random.Generator, index: int):
        self.rng = rng
        dist = rng.integers(1, 99, 12)
        self.local = np.array([f"ZZ{d} {s}" for d in dist for s in range(1, 10)], dtype=object)
        other = rng.integers(1, 99, 30)
        self.away = np.array([f"ZY{d} {rng.integers(1, 10)}" for d in other], dtype=object)

    def draw(self, n: int, local_share: float = 0.8) -> np.ndarray:
        loc = self.rng.random(n) < local_share
        return np.where(loc, self.local[self.rng.integers(0, len(self.local), n)],
                        self.away[self.rng.integers(0, len(self.away), n)]).astype(object)


def _homes_pool(rng, postcodes: Postcodes, n_homes: int):
    urns = np.array([f"SC{x:06d}" for x in rng.choice(900_000, n_homes, replace=False) + 100_000],
                    dtype=object)
    return urns, postcodes.draw(n_homes, 0.6)


# ---------------------------------------------------------------- episodes
def build_episodes(rng: np.random.Generator, periods: pd.DataFrame, dob: np.ndarray,
                   prof: config.LAProfile, postcodes: Postcodes,
                   home_post: np.ndarray) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Episodes of all periods of care.

    ``periods`` has columns ``pid, child, start, end, route, rec, need, entry_ls``.
    Returns (episodes, adoption details per period).
    """
    n = len(periods)
    pid = periods["pid"].to_numpy()
    start = periods["start"].to_numpy().astype("datetime64[D]")
    end = periods["end"].to_numpy().astype("datetime64[D]")
    route = periods["route"].to_numpy()
    dur = (end - start).astype(np.int64)
    adopt = route == "adopt"

    ev = []  # (pid, t, kind, ls, same_carer)
    # 0 start
    entry_ls = periods["entry_ls"].to_numpy()
    ev.append(pd.DataFrame({"pid": pid, "t": 0, "kind": 0, "ls": entry_ls}))
    # 1 emergency protection (L1/L2) resolved within days
    emerg = np.isin(entry_ls, ["L1", "L2"])
    t_e = rng.integers(1, 9, n)
    next_ls = np.where(rng.random(n) < 0.65, "C2", "V2").astype(object)
    next_ls = np.where(adopt | (route == "sgo"), "C2", next_ls)
    m = emerg & (t_e < dur)
    ev.append(pd.DataFrame({"pid": pid[m], "t": t_e[m], "kind": 1, "ls": next_ls[m]}))
    ls_after = np.where(m, next_ls, entry_ls)
    # interim care order -> full care order; some s20 -> interim care order
    t_c1 = rng.integers(120, 420, n)
    m = (ls_after == "C2") & ~adopt & (t_c1 < dur)
    ev.append(pd.DataFrame({"pid": pid[m], "t": t_c1[m], "kind": 1, "ls": "C1"}))
    # now and then the order and a move come on the same day (RNE B or U)
    m2 = m & (rng.random(n) < 0.08)
    ev.append(pd.DataFrame({"pid": pid[m2], "t": t_c1[m2], "kind": 3, "ls": None,
                            "same_carer": rng.random(int(m2.sum())) < 0.3}))
    t_v = rng.integers(30, 300, n)
    m = (ls_after == "V2") & (rng.random(n) < 0.15) & (t_v < dur)
    ev.append(pd.DataFrame({"pid": pid[m], "t": t_v[m], "kind": 1, "ls": "C2"}))
    # adoption: placement order (E1), then placed for adoption
    t_a = dur - rng.integers(120, 330, n)
    t_e1 = t_a - rng.integers(20, 160, n)
    t_a = np.maximum(t_a, 12)
    t_e1 = np.clip(t_e1, 10, t_a - 1)
    ev.append(pd.DataFrame({"pid": pid[adopt], "t": t_e1[adopt], "kind": 1, "ls": "E1"}))
    ev.append(pd.DataFrame({"pid": pid[adopt], "t": t_a[adopt], "kind": 2, "ls": None}))
    # placement moves: hazard rate lam (per day), three times higher in the first 6 months
    lam = np.minimum(rng.gamma(MOVE_SHAPE, prof.move_rate / MOVE_SHAPE, n), MOVE_CAP) / 365.25
    lam = np.where(adopt, lam * 0.5, lam)
    k = 16
    cum = np.cumsum(rng.exponential(1.0, (n, k)), axis=1) / np.maximum(lam, 1e-9)[:, None]
    # piecewise hazard: EARLY_MULT x in the first 182 days, 1 x to two years, LATE_MULT x after
    h1 = EARLY_MULT * 182
    h2 = h1 + MID_MULT * (730 - 182)
    t_mv = np.where(cum <= h1, cum / EARLY_MULT,
                    np.where(cum <= h2, 182 + (cum - h1) / MID_MULT, 730 + (cum - h2) / LATE_MULT))
    t_mv = np.floor(t_mv).astype(np.int64) + 1
    limit = np.where(adopt, t_a, dur)[:, None]
    ok = t_mv < limit
    rows, cols = np.nonzero(ok)
    same = rng.random(len(rows)) < 0.05
    ev.append(pd.DataFrame({"pid": pid[rows], "t": t_mv[rows, cols], "kind": 3, "ls": None,
                            "same_carer": same}))
    # temporary absences
    ab = (~adopt) & (dur > 60) & (rng.random(n) < 0.05)
    a0 = np.where(ab, 10 + (rng.random(n) * np.maximum(dur - 40, 1)).astype(np.int64), 0)
    a1 = a0 + rng.integers(1, 15, n)
    ab &= a1 < dur - 5
    evs = pd.concat(ev, ignore_index=True)
    evs["same_carer"] = evs["same_carer"].to_numpy(dtype=object) == True  # noqa: E712 (NaN -> False)
    # drop events that fall inside an absence
    a0s = pd.Series(a0, index=pid)
    a1s = pd.Series(a1, index=pid)
    abs_ = pd.Series(ab, index=pid)
    inside = abs_.reindex(evs["pid"]).to_numpy() & (evs["t"].to_numpy() >= a0s.reindex(evs["pid"]).to_numpy()) \
        & (evs["t"].to_numpy() <= a1s.reindex(evs["pid"]).to_numpy())
    evs = evs[~inside]
    absence = pd.DataFrame({"pid": pid[ab], "t": a0[ab], "kind": 4, "ls": None, "same_carer": False})
    back = pd.DataFrame({"pid": pid[ab], "t": a1[ab], "kind": 5, "ls": None, "same_carer": False})
    evs = pd.concat([evs, absence, back], ignore_index=True)

    # one row per (period, day): a legal change and a move on the same day make one episode
    evs = evs.sort_values(["pid", "t", "kind"], kind="stable")
    ep = evs.groupby(["pid", "t"], sort=True)["ls"].last().rename("ls_new").to_frame()
    kinds = evs.assign(is_move=evs["kind"].isin([0, 3]), is_adopt=evs["kind"] == 2,
                       is_abs=evs["kind"] == 4, is_back=evs["kind"] == 5,
                       is_start=evs["kind"] == 0,
                       same_mv=(evs["kind"] == 3) & evs["same_carer"],
                       diff_mv=(evs["kind"] == 3) & ~evs["same_carer"])
    agg = kinds.groupby(["pid", "t"], sort=True)[
        ["is_move", "is_adopt", "is_abs", "is_back", "is_start", "same_mv", "diff_mv"]].any()
    ep = ep.join(agg).reset_index()
    ep["same_mv"] = ep["same_mv"] & ~ep["diff_mv"]

    pmap = periods.set_index("pid")
    ep["child"] = pmap["child"].reindex(ep["pid"]).to_numpy()
    ep_start = pmap["start"].reindex(ep["pid"]).to_numpy().astype("datetime64[D]")
    ep["DECOM"] = ep_start + ep["t"].to_numpy()
    ne = len(ep)

    # legal status: forward fill within the period
    ep["LS"] = ep["ls_new"].groupby(ep["pid"]).ffill()
    prev_ls = ep.groupby("pid")["LS"].shift(1)
    legal_change = (ep["LS"] != prev_ls) & prev_ls.notna()

    # placements: new at start and at moves with a new carer; same-carer moves keep
    # the carer's PLACE and URN with a new postcode; absences are T0-T4
    age = years(dob[ep["child"].to_numpy()], ep["DECOM"].to_numpy())
    band = np.digitize(age, [5, 12, 16])
    newp = (ep["is_start"] | (ep["is_move"] & ~ep["same_mv"])).to_numpy()
    place = np.full(ne, None, dtype=object)
    for b in range(4):
        m = newp & (band == b)
        codes, p = _PLACE_BY_BAND[b]
        place[m] = np.array(codes, dtype=object)[rng.choice(len(codes), int(m.sum()), p=np.array(p) / sum(p))]
    place[newp] = _resolve_place(place[newp], ep["DECOM"].to_numpy()[newp], rng)
    n_homes = max(8, int(40 * prof.volume))
    h_urn, h_post = _homes_pool(rng, postcodes, n_homes)
    hidx = rng.integers(0, n_homes, ne)
    is_home = np.isin(place, list(_HOMES | {"K3"}))
    urn = np.where(newp, np.where(is_home, h_urn[hidx], "XXXXXXX"), None).astype(object)
    post = np.where(newp, np.where(is_home, h_post[hidx], postcodes.draw(ne)), None).astype(object)
    prov = np.where(newp, _provider(place, rng), None).astype(object)
    carer = np.where(newp, np.arange(ne), -1).astype(np.int64)
    # same-carer moves: new postcode only
    post = np.where(ep["same_mv"].to_numpy() & ~newp, postcodes.draw(ne), post).astype(object)
    frame = pd.DataFrame({"pid": ep["pid"], "PLACE": place, "URN": urn, "PLACE_PROVIDER": prov,
                          "carer": np.where(carer >= 0, carer, np.nan)})
    filled = frame.groupby("pid")[["PLACE", "URN", "PLACE_PROVIDER", "carer"]].ffill()
    post_f = pd.Series(post).groupby(ep["pid"].to_numpy()).ffill().to_numpy()
    place = filled["PLACE"].to_numpy().astype(object, copy=True)
    urn = filled["URN"].to_numpy().astype(object, copy=True)
    prov = filled["PLACE_PROVIDER"].to_numpy().astype(object, copy=True)
    carer = filled["carer"].to_numpy().astype(float, copy=True)
    post_f = np.array(post_f, dtype=object, copy=True)
    # adoption placements: with the current foster carer (A3/A5) or new adopters (A4/A6)
    is_ad = ep["is_adopt"].to_numpy()
    prev_place = pd.Series(place).groupby(ep["pid"].to_numpy()).shift(1).to_numpy()
    foster_prev = np.isin(prev_place, ["U1", "U2", "U3", "U4", "U5", "U6"])
    by_carer = is_ad & foster_prev & (rng.random(ne) < 0.25)
    consent = rng.random(ne) < 0.2
    place[is_ad] = np.where(by_carer[is_ad], np.where(consent[is_ad], "A3", "A5"),
                            np.where(consent[is_ad], "A4", "A6"))
    prov[is_ad] = _provider(place[is_ad], rng)
    new_adopt = is_ad & ~by_carer
    urn[new_adopt] = "XXXXXXX"
    post_f[new_adopt] = postcodes.draw(int(new_adopt.sum()), 0.5)
    carer[new_adopt] = np.arange(ne)[new_adopt] + 10**7
    # temporary absences: T0-T4 without provider; return restores the earlier placement
    is_abs = ep["is_abs"].to_numpy()
    place[is_abs] = np.array(["T0", "T1", "T2", "T3", "T4"], dtype=object)[rng.choice(5, int(is_abs.sum()), p=[0.1, 0.35, 0.25, 0.2, 0.1])]
    prov[is_abs] = ""
    urn[is_abs] = "XXXXXXX"
    post_f[is_abs] = ""
    is_back = ep["is_back"].to_numpy()
    # the return: take the values of the episode before the absence
    before = np.flatnonzero(is_back) - 2
    bi = np.flatnonzero(is_back)
    place[bi], urn[bi], prov[bi], post_f[bi], carer[bi] = (
        place[before], urn[before], prov[before], post_f[before], carer[before])
    # also the absence episode keeps legal status; later episodes after a return
    # inherit the restored placement (the forward fill above used pre-absence values
    # because absence rows carried none)

    # RNE
    first = ep["is_start"].to_numpy()
    prev_carer = pd.Series(carer).groupby(ep["pid"].to_numpy()).shift(1).to_numpy()
    place_change = (ep["is_move"].to_numpy() | is_ad)
    carer_change = place_change & (carer != prev_carer)
    lch = legal_change.to_numpy()
    rne = np.full(ne, None, dtype=object)
    rne[lch] = "L"
    rne[place_change & ~carer_change] = np.where(lch[place_change & ~carer_change], "U", "T")
    rne[carer_change] = np.where(lch[carer_change], "B", "P")
    rne[is_abs | is_back] = "P"
    rne[first] = "S"
    keep = rne != None  # noqa: E711 (object array)
    ep = ep.assign(RNE=rne, PLACE=place, URN=urn, PLACE_PROVIDER=prov, PL_POST=post_f,
                   carer=carer)[keep].reset_index(drop=True)

    # DEC, REC and the reason for a placement change
    nxt = ep.groupby("pid")["DECOM"].shift(-1)
    last = nxt.isna().to_numpy()
    p_end = pmap["end"].reindex(ep["pid"]).to_numpy().astype("datetime64[D]")
    dec = np.where(last, p_end, nxt.to_numpy().astype("datetime64[D]"))
    rec = np.where(last, pmap["rec"].reindex(ep["pid"]).to_numpy(), "X1").astype(object)
    next_rne = ep.groupby("pid")["RNE"].shift(-1).to_numpy()
    next_abs = ep.groupby("pid")["is_abs"].shift(-1).to_numpy(dtype=object) == True  # noqa: E712
    is_abs_ep = ep["is_abs"].to_numpy()
    rpc_on = np.isin(next_rne, ["P", "B", "T", "U"]) & ~next_abs & ~is_abs_ep
    rpc = np.array(config.REASON_PLACE_CHANGE, dtype=object)[
        rng.choice(len(config.REASON_PLACE_CHANGE), len(ep), p=config.REASON_PLACE_CHANGE_P / config.REASON_PLACE_CHANGE_P.sum())]
    rpc = np.where(rpc_on, rpc, "").astype(object)

    out = pd.DataFrame({
        "pid": ep["pid"].to_numpy(),
        "child": ep["child"].to_numpy(),
        "DECOM": ep["DECOM"].to_numpy().astype("datetime64[D]"),
        "RNE": ep["RNE"].to_numpy(),
        "LS": ep["LS"].to_numpy().astype(object),
        "CIN": pmap["need"].reindex(ep["pid"]).to_numpy(),
        "PLACE": ep["PLACE"].to_numpy(),
        "PLACE_PROVIDER": ep["PLACE_PROVIDER"].to_numpy(),
        "DEC": dec.astype("datetime64[D]"),
        "REC": rec,
        "REASON_PLACE_CHANGE": rpc,
        "HOME_POST": home_post[ep["child"].to_numpy()],
        "PL_POST": ep["PL_POST"].to_numpy(),
        "URN": ep["URN"].to_numpy(),
        "carer": ep["carer"].to_numpy(),
        "is_abs": is_abs_ep,
        "is_back": ep["is_back"].to_numpy(),
    })
    # adoption details per adopted period
    ad = periods.loc[adopt, ["pid", "child", "start", "end"]].copy()
    ad["date_e1"] = (start + t_e1)[adopt]
    ad["date_placed"] = (start + t_a)[adopt]
    by_carer_pid = out.loc[out["PLACE"].isin(["A3", "A5"]), "pid"].unique()
    ad["foster_carer"] = ad["pid"].isin(by_carer_pid)
    return out, ad


def new_placement_flags(ep: pd.DataFrame) -> np.ndarray:
    """The catalogue's placement rule on episodes sorted by child and DECOM: does each
    episode (other than a temporary absence) start a new placement?"""
    place = ep["PLACE"].to_numpy().astype(str)
    child = ep["child"].to_numpy()
    is_t = np.isin(place, ["T0", "T1", "T2", "T3", "T4"])
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
    adopt_fc = np.isin(pl, ["A3", "A5"]) & np.isin(prev_pl, ["U1", "U2", "U3", "U4", "U5", "U6"])
    back = after_abs & (pl == prev_pl) & (urn == prev_urn) & (post == prev_post)
    new |= same_child & moving & ~adopt_fc & ~back
    flags = np.zeros(len(ep), dtype=bool)
    flags[np.flatnonzero(~is_t)] = new
    return flags


# ---------------------------------------------------------------- per-period extras
def reviews(rng, periods: pd.DataFrame) -> pd.DataFrame:
    """CLA reviews: within 20 working days (about 28 days), 3 months later, then every 6."""
    start = periods["start"].to_numpy().astype("datetime64[D]")
    end = periods["end"].to_numpy().astype("datetime64[D]")
    k = 40
    off = np.r_[28, 28 + 91, 28 + 91 + 182 * np.arange(1, k - 1)]
    jitter = rng.integers(-10, 8, (len(start), k))
    jitter[:, 0] = rng.integers(-14, 3, len(start))
    d = start[:, None] + (off[None, :] + jitter)
    ok = d < end[:, None]
    r, c = np.nonzero(ok)
    code = np.array(config.PN_CODES, dtype=object)[rng.choice(7, len(r), p=[0.3, 0.25, 0.15, 0.1, 0.08, 0.07, 0.05])]
    return pd.DataFrame({"child": periods["child"].to_numpy()[r], "REVIEW": d[r, c], "code": code})


def missing_episodes(rng, periods: pd.DataFrame, dob: np.ndarray) -> pd.DataFrame:
    """Missing (M) and away without authorisation (A) incidents, mostly teenagers."""
    n = len(periods)
    start = periods["start"].to_numpy().astype("datetime64[D]")
    end = periods["end"].to_numpy().astype("datetime64[D]")
    child = periods["child"].to_numpy()
    age = years(dob[child], start)
    p = np.where(age >= 11, 0.45, 0.03)
    prone = rng.random(n) < p
    rate = np.where(age >= 11, rng.gamma(0.8, 6 / 0.8, n), rng.gamma(1, 2, n)) / 365.25
    k = 40
    t = np.cumsum(rng.exponential(1.0, (n, k)), axis=1) / np.maximum(rate, 1e-9)[:, None]
    d = start[:, None] + np.floor(t).astype(np.int64)
    ok = prone[:, None] & (d < end[:, None])
    r, c = np.nonzero(ok)
    ms = d[r, c]
    length = rng.integers(0, 5, len(r))
    me = np.minimum(ms + length, end[r] - 0)
    kind = np.where(rng.random(len(r)) < 0.8, "M", "A").astype(object)
    # one incident at a time: drop an incident starting on or before the end of an earlier
    # one of the same period (rows are in period, then time, order)
    prev_end = pd.Series(me).groupby(r).cummax().groupby(r).shift(1).to_numpy()
    keep = ~(ms <= prev_end.astype("datetime64[D]"))
    return pd.DataFrame({"child": child[r][keep], "MIS_START": ms[keep], "MIS_END": me[keep],
                         "MISSING": kind[keep]})


def social_workers(rng, periods: pd.DataFrame, prof: config.LAProfile) -> pd.DataFrame:
    """Social-worker episodes covering each period of care (changes at a per-child rate;
    some changes go back to the worker before)."""
    n = len(periods)
    start = periods["start"].to_numpy().astype("datetime64[D]")
    end = periods["end"].to_numpy().astype("datetime64[D]")
    child = periods["child"].to_numpy()
    rate = rng.gamma(2.0, prof.sw_change_rate / 2.0, n) / 365.25
    k = 30
    t = np.cumsum(rng.exponential(1.0, (n, k)), axis=1) / np.maximum(rate, 1e-9)[:, None]
    t = np.floor(t).astype(np.int64) + 1
    # at most one change a day (two changes on one day would give two episodes with one SW_DECOM)
    step = np.arange(k)[None, :]
    t = np.maximum.accumulate(t - step, axis=1) + step
    chg = start[:, None] + t
    ok = chg < end[:, None]
    pool = max(10, int(45 * prof.volume))
    ids = np.array([f"SW{x:06d}" for x in rng.choice(900_000, pool, replace=False) + 100_000], dtype=object)
    nrow = ok.sum(axis=1) + 1
    # starts of each SW episode: period start then each change
    starts = np.concatenate([start[:, None], chg], axis=1)
    valid = np.concatenate([np.ones((n, 1), bool), ok], axis=1)
    r, c = np.nonzero(valid)
    decom = starts[r, c]
    who = rng.integers(0, pool, len(r))
    # a return to the previous-but-one worker now and then
    back = (c >= 2) & (rng.random(len(r)) < 0.08)
    idx = np.flatnonzero(back)
    who[idx] = who[idx - 2]
    # never the same worker twice in a row
    same = np.r_[False, (who[1:] == who[:-1]) & (r[1:] == r[:-1])][:len(r)]
    who[same] = (who[same] + 1) % pool
    last = c == (nrow[r] - 1)
    dec = np.where(last, end[r], np.r_[decom[1:], decom[:1]]).astype("datetime64[D]")
    reason = np.array(config.SW_REASONS, dtype=object)[rng.choice(5, len(r), p=[0.35, 0.1, 0.3, 0.1, 0.15])]
    reason = np.where(last, "", reason).astype(object)
    return pd.DataFrame({"child": child[r], "SW_ID": ids[who], "SW_DECOM": decom,
                         "SW_DEC": dec.astype("datetime64[D]"), "SW_REASON": reason})


def short_breaks(rng, prof: config.LAProfile, first_day, last_day, dob_gen, n_children: int):
    """Disabled children on an agreed series of short breaks (LS V3/V4): several short
    episodes a year, each a new period (RNE S). Returns (dob array, episodes)."""
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
    urn = np.where(place == "K2", urn, "XXXXXXX")
    post = np.array([f"ZZ{x} {y}" for x, y in zip(rng.integers(1, 99, n), rng.integers(1, 10, n))], dtype=object)
    ep = pd.DataFrame({
        "child": r, "DECOM": decom[r, c], "RNE": "S", "LS": ls[r], "CIN": "N1",
        "PLACE": place[r], "PLACE_PROVIDER": np.where(place[r] == "K2", "PR1", "PR1"),
        "DEC": dec[r, c], "REC": "E13", "REASON_PLACE_CHANGE": "", "PL_POST": post[r],
        "URN": urn[r], "is_abs": False, "is_back": False})
    return dob, ep
