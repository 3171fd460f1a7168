"""Records of a period of care besides its episodes: reviews, missing incidents and
social-worker episodes, each drawn for all periods of an LA at once.

Each is a process in time from the period's start to its end (reviews on the statutory
schedule, missing incidents and social-worker changes at a per-child rate), drawn as a
fixed number of candidate times per period and cut at the period's end, so the work is
vectorised over periods rather than looped.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import config
from .dates import years


def reviews(rng: np.random.Generator, periods: pd.DataFrame) -> pd.DataFrame:
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


def missing_episodes(rng: np.random.Generator, periods: pd.DataFrame, dob: np.ndarray,
                     prof: config.LAProfile) -> pd.DataFrame:
    """Missing (M) and away without authorisation (A) incidents, mostly teenagers (the
    share of children prone to them scaled by the LA's ``missing_mult``)."""
    n = len(periods)
    start = periods["start"].to_numpy().astype("datetime64[D]")
    end = periods["end"].to_numpy().astype("datetime64[D]")
    child = periods["child"].to_numpy()
    age = years(dob[child], start)
    p = np.minimum(np.where(age >= 11, 0.45, 0.03) * prof.missing_mult, 0.95)
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


def social_workers(rng: np.random.Generator, periods: pd.DataFrame, prof: config.LAProfile) -> pd.DataFrame:
    """Social-worker episodes covering each period of care (changes at a per-child rate;
    some changes go back to the worker before)."""
    n = len(periods)
    start = periods["start"].to_numpy().astype("datetime64[D]")
    end = periods["end"].to_numpy().astype("datetime64[D]")
    child = periods["child"].to_numpy()
    rate = rng.gamma(2.0, prof.sw_change_rate / 2.0, n) / 365.25
    k = 30
    cum = np.cumsum(rng.exponential(1.0, (n, k)), axis=1) / np.maximum(rate, 1e-9)[:, None]
    t = np.floor(cum).astype(np.int64) + 1
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
