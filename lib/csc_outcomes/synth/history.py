"""One LA's underlying life history: every child, referral, period of care, episode,
review, missing incident and social-worker episode, from ``HISTORY_YEARS`` before
``first_year`` to the end of ``last_year``. The yearly returns are slices of it
(``returns.py``); the truth is computed from it (``truth.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import care_records, cin, cla, config, people, placements
from .dates import birthday, day, holidays, year_bounds


@dataclass
class History:
    """One LA's simulated history: the children, their referrals and care, as tables."""

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


def _entry_ls(rng: np.random.Generator, route: np.ndarray, age: np.ndarray, uasc: np.ndarray) -> np.ndarray:
    """Legal status on entering care: court orders for routes through court, else mostly s20."""
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
    """Simulate one LA's history (its own random streams, so the same seed and profile
    give the same LA whatever the number of LAs)."""
    rng = config.la_rng(seed, prof.index, 1)
    sim_start = day(f"{first_year - 1 - config.HISTORY_YEARS}-04-01")
    sim_end = year_bounds(last_year)[1]
    hols = holidays(first_year - 2 - config.HISTORY_YEARS, last_year + 8)
    kids, refs = cin.simulate(rng, prof, sim_start, sim_end, hols)
    periods = _care_periods(rng, refs, kids)
    postcodes = placements.Postcodes(rng)
    sb_kids, sb_ep = _short_break_children(rng, prof, year_bounds(first_year)[0] - 400, sim_end)
    n_main = len(kids)
    kids = people.concat([kids, sb_kids])
    home_post = postcodes.draw(len(kids), 0.93)
    episodes, adoption = cla.build_episodes(rng, periods, kids.dob, prof, postcodes, home_post)
    episodes = _with_short_breaks(episodes, sb_ep, n_main, len(periods), home_post)
    episodes["new_placement"] = cla.new_placement_flags(episodes)
    reviews = care_records.reviews(rng, periods)
    missing = care_records.missing_episodes(rng, periods, kids.dob, prof)
    sw = care_records.social_workers(rng, periods, prof)
    cp_reviews = _cp_reviews(rng, refs)
    # identifiers: children known to the LA, plus children only ever seen as contacts
    n_extra = int(len(refs) * 0.35)
    ids = people.make_child_ids(rng, len(kids) + n_extra, prof.child_id_style)
    upn_blank = rng.random(len(kids)) < prof.upn_blank_share
    child_draws = _child_draws(rng, kids)
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


def _care_periods(rng: np.random.Generator, refs: pd.DataFrame, kids: people.Children) -> pd.DataFrame:
    """One row per period of care (referrals reaching level 3), with its legal status
    at entry."""
    l3 = refs[refs["level"] == 3]
    child = l3["child"].to_numpy()
    start = l3["care_start"].to_numpy().astype("datetime64[D]")
    age = ((start - kids.dob[child]).astype(np.int64) / 365.25)
    return pd.DataFrame({
        "pid": np.arange(len(l3)), "child": child, "start": start,
        "end": l3["care_end"].to_numpy().astype("datetime64[D]"),
        "route": l3["route"].to_numpy(), "rec": l3["care_rec"].to_numpy(),
        "need": l3["need_cin"].to_numpy(),
        "entry_ls": _entry_ls(rng, l3["route"].to_numpy(), age, kids.uasc[child]),
        "ref_id": l3["ref_id"].to_numpy(),
    })


def _short_break_children(rng: np.random.Generator, prof: config.LAProfile, first_day: np.datetime64,
                          sim_end: np.datetime64) -> tuple[people.Children, pd.DataFrame]:
    """Disabled children on short breaks (about 2% of the children looked after in a
    year), aged 5-15 at their first break, and their episodes."""
    n_sb = int(rng.poisson(max(0.0, 0.03 * config.AVERAGE_CLA * prof.volume)))

    def sb_dob(n: int, first: np.ndarray) -> np.ndarray:
        return first - (rng.integers(5, 16, n) * 365.25 + rng.integers(0, 365, n)).astype(np.int64)

    sb_dob_arr, sb_ep = cla.short_breaks(rng, first_day, sim_end, sb_dob, n_sb)
    sb_kids = people.new_children(rng, sb_dob_arr)
    sb_kids.disability[:] = np.array(config.DISABILITIES, dtype=object)[rng.integers(0, len(config.DISABILITIES), n_sb)]
    return sb_kids, sb_ep


def _with_short_breaks(episodes: pd.DataFrame, sb_ep: pd.DataFrame, n_main: int, n_periods: int,
                       home_post: np.ndarray) -> pd.DataFrame:
    """All episodes, short breaks (flagged ``short``) numbered after the other children
    and periods, sorted by child and start."""
    episodes["short"] = False
    if len(sb_ep):
        sb_ep = sb_ep.assign(child=sb_ep["child"].to_numpy() + n_main,
                             pid=np.arange(len(sb_ep)) + n_periods, carer=-1.0, short=True)
        sb_ep["HOME_POST"] = home_post[sb_ep["child"].to_numpy()]
        episodes = pd.concat([episodes, sb_ep[episodes.columns]], ignore_index=True)
    return episodes.sort_values(["child", "DECOM"], kind="stable").reset_index(drop=True)


def _child_draws(rng: np.random.Generator, kids: people.Children) -> pd.DataFrame:
    """Per-child facts drawn once: mother (and her child's date of birth), previous
    permanence (and its date)."""
    female = ~kids.male
    mother = female & (rng.random(len(kids)) < 0.04)
    mc_dob = np.where(mother, birthday(kids.dob, 15) + rng.integers(0, 900, len(kids)),
                      np.datetime64("NaT")).astype("datetime64[D]")
    u = rng.random(len(kids))
    prev_perm = np.where(u < 0.88, "Z1", np.where(u < 0.91, "P1", np.where(u < 0.96, "P2", "P3"))).astype(object)
    perm_date = kids.dob + (rng.random(len(kids)) * 1500).astype(np.int64) + 60
    return pd.DataFrame({"mother": mother, "mc_dob": mc_dob, "prev_perm": prev_perm,
                         "perm_date": perm_date.astype("datetime64[D]")})


def _cp_reviews(rng: np.random.Generator, refs: pd.DataFrame) -> pd.DataFrame:
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
