"""One LA's underlying life history: every child, referral, period of care, episode,
review, missing incident and social-worker episode, from ``HISTORY_YEARS`` before
``first_year`` to the end of ``last_year``. The yearly returns are slices of it
(``returns.py``); the truth is computed from it (``truth.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import cin, cla, config, people
from .dates import birthday, day, holidays, year_bounds


@dataclass
class History:
    prof: config.LAProfile
    first_year: int
    last_year: int
    sim_start: np.datetime64
    sim_end: np.datetime64
    kids: people.Children
    child_id: np.ndarray          # LA identifier per child (object)
    home_post: np.ndarray         # partial postcode per child
    upn_blank: np.ndarray         # bool per child: UPN left blank in returns
    refs: pd.DataFrame            # one row per referral (CIN episode)
    periods: pd.DataFrame         # periods of care (not short breaks)
    episodes: pd.DataFrame        # all episodes (short breaks flagged ``short``)
    adoption: pd.DataFrame        # adopted periods: decision, placement dates
    reviews: pd.DataFrame
    missing: pd.DataFrame
    sw: pd.DataFrame
    cp_reviews: pd.DataFrame
    extra_contact_children: np.ndarray  # child ids of children only known as contacts
    child_draws: pd.DataFrame     # per-child fixed draws (mother, previous permanence)


def _entry_ls(rng, route: np.ndarray, age: np.ndarray, uasc: np.ndarray) -> np.ndarray:
    n = len(route)
    u = rng.random(n)
    court = np.isin(route, ["adopt", "sgo", "cao"])
    ls = np.where(court, np.where(u < 0.75, "C2", np.where(u < 0.9, "L1", "V2")),
                  np.where(u < 0.5, "V2", np.where(u < 0.84, "C2", np.where(u < 0.94, "L2", "C1"))))
    ls = ls.astype(object)
    remand = (age >= 12) & ~court & (rng.random(n) < 0.04)
    ls[remand] = np.array(["J1", "J2", "J3"], dtype=object)[rng.integers(0, 3, int(remand.sum()))]
    ls[uasc] = "V2"
    return ls


def build(prof: config.LAProfile, seed: int, first_year: int, last_year: int) -> History:
    rng = config.la_rng(seed, prof.index, 1)
    sim_start = day(f"{first_year - 1 - config.HISTORY_YEARS}-04-01")
    sim_end = year_bounds(last_year)[1]
    hols = holidays(first_year - 2 - config.HISTORY_YEARS, last_year + 8)
    kids, refs = cin.simulate(rng, prof, sim_start, sim_end, hols)

    # periods of care
    l3 = refs[refs["level"] == 3]
    child = l3["child"].to_numpy()
    start = l3["care_start"].to_numpy().astype("datetime64[D]")
    age = ((start - kids.dob[child]).astype(np.int64) / 365.25)
    need = l3["need_cin"].to_numpy()
    periods = pd.DataFrame({
        "pid": np.arange(len(l3)), "child": child, "start": start,
        "end": l3["care_end"].to_numpy().astype("datetime64[D]"),
        "route": l3["route"].to_numpy(), "rec": l3["care_rec"].to_numpy(),
        "need": need, "entry_ls": _entry_ls(rng, l3["route"].to_numpy(), age, kids.uasc[child]),
        "ref_id": l3["ref_id"].to_numpy(),
    })
    postcodes = cla.Postcodes(rng, prof.index)

    # short breaks: about 2% of the children looked after in a year
    n_sb = int(rng.poisson(max(0.0, 0.03 * config.AVERAGE_CLA * prof.volume)))
    sb_first = year_bounds(first_year)[0] - 400

    def sb_dob(n, first):
        return first - (rng.integers(5, 16, n) * 365.25 + rng.integers(0, 365, n)).astype(np.int64)

    sb_dob_arr, sb_ep = cla.short_breaks(rng, prof, sb_first, sim_end, sb_dob, n_sb)
    sb_kids = people.new_children(rng, sb_dob_arr)
    sb_kids.disability[:] = np.array(config.DISABILITIES, dtype=object)[rng.integers(0, len(config.DISABILITIES), n_sb)]
    n_main = len(kids)
    kids = people.concat([kids, sb_kids])
    home_post = postcodes.draw(len(kids), 0.93)

    episodes, adoption = cla.build_episodes(rng, periods, kids.dob, prof, postcodes, home_post)
    episodes["short"] = False
    if len(sb_ep):
        sb_ep = sb_ep.assign(child=sb_ep["child"].to_numpy() + n_main,
                             pid=np.arange(len(sb_ep)) + len(periods), carer=-1.0, short=True)
        sb_ep["HOME_POST"] = home_post[sb_ep["child"].to_numpy()]
        episodes = pd.concat([episodes, sb_ep[episodes.columns]], ignore_index=True)
    episodes = episodes.sort_values(["child", "DECOM"], kind="stable").reset_index(drop=True)
    episodes["new_placement"] = cla.new_placement_flags(episodes)

    reviews = cla.reviews(rng, periods)
    missing = cla.missing_episodes(rng, periods, kids.dob)
    sw = cla.social_workers(rng, periods, prof)
    cp_reviews = _cp_reviews(rng, refs)

    # identifiers: children known to the LA, plus children only ever seen as contacts
    n_extra = int(len(refs) * 0.35)
    ids = people.make_child_ids(rng, len(kids) + n_extra, prof.child_id_style)
    upn_blank = rng.random(len(kids)) < prof.upn_blank_share
    female = ~kids.male
    mother = female & (rng.random(len(kids)) < 0.04)
    mc_dob = np.where(mother, birthday(kids.dob, 15) + rng.integers(0, 900, len(kids)),
                      np.datetime64("NaT")).astype("datetime64[D]")
    u = rng.random(len(kids))
    prev_perm = np.where(u < 0.88, "Z1", np.where(u < 0.91, "P1", np.where(u < 0.96, "P2", "P3"))).astype(object)
    perm_date = kids.dob + (rng.random(len(kids)) * 1500).astype(np.int64) + 60
    child_draws = pd.DataFrame({"mother": mother, "mc_dob": mc_dob, "prev_perm": prev_perm,
                                "perm_date": perm_date.astype("datetime64[D]")})
    # short-break children are children in need: one CIN episode each (own random stream,
    # so that everything else is as without them)
    sb_refs = cin.short_break_referrals(config.la_rng(seed, prof.index, 6),
                                        episodes[episodes["short"]], kids.dob, refs, len(refs))
    if len(sb_refs):
        refs = pd.concat([refs, sb_refs], ignore_index=True)
    return History(prof=prof, first_year=first_year, last_year=last_year, sim_start=sim_start,
                   sim_end=sim_end, kids=kids, child_id=ids[:len(kids)], home_post=home_post,
                   upn_blank=upn_blank, refs=refs, periods=periods, episodes=episodes,
                   adoption=adoption, reviews=reviews, missing=missing, sw=sw,
                   cp_reviews=cp_reviews, extra_contact_children=ids[len(kids):],
                   child_draws=child_draws)


def _cp_reviews(rng, refs: pd.DataFrame) -> pd.DataFrame:
    """Child protection review conferences: 3 months after the plan starts, then every 6."""
    cp = refs[refs["cp_start"].notna()]
    s = cp["cp_start"].to_numpy().astype("datetime64[D]")
    e = cp["cp_end"].to_numpy().astype("datetime64[D]")
    k = 14
    off = np.r_[91, 91 + 182 * np.arange(1, k)]
    d = s[:, None] + off[None, :] + rng.integers(-7, 5, (len(s), k))
    ok = d < e[:, None]
    r, c = np.nonzero(ok)
    return pd.DataFrame({"ref_id": cp["ref_id"].to_numpy()[r], "date": d[r, c]})
