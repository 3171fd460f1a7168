"""Dates as whole-day integers: the vectorised date arithmetic measures share.

A date column becomes an int64 day number (days since 1800-01-01), so that windows,
"next event after" look-ups and working-day counts are sorts, ``searchsorted`` and
cumulative sums over integers instead of per-row date objects.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from csc_outcomes import calendar

#: Day 0 of the day numbers.
DAY0 = np.datetime64("1800-01-01", "D")
#: Days per block in a composite (key, day) integer: ``key * SPAN + day`` sorts by
#: key, then day (about 2,870 years per key).
SPAN = np.int64(1 << 20)
#: The day number of a missing date: below every real one.
MISSING_DAY = np.iinfo(np.int64).min // 4


def days(values: pd.Series | pd.Index | np.ndarray) -> np.ndarray:
    """Whole days since 1800-01-01 as int64 (NaT becomes ``MISSING_DAY``)."""
    arr = np.asarray(values, dtype="datetime64[ns]").astype("datetime64[D]")
    out = (arr - DAY0).astype("int64")
    out[np.isnat(arr)] = MISSING_DAY
    return out


def working_days_between(start: pd.Series, end: pd.Series) -> np.ndarray:
    """``calendar.working_days(start, end)`` for date columns without missing values.

    As int64: one cumulative count of working days over the dates' range, so each
    row is two look-ups (``count(end) - count(start)``; negative when ``end`` is
    before ``start``, as ``calendar.working_days``). Bank holidays come from
    ``calendar.bank_holidays`` (the ``holidays`` package).
    """
    s, e = days(start), days(end)
    if not len(s):
        return np.zeros(0, dtype="int64")
    lo = int(min(s.min(), e.min()))
    hi = int(max(s.max(), e.max()))
    span = DAY0 + np.arange(lo, hi + 1).astype("timedelta64[D]")
    y0, y1 = int(str(span[0])[:4]), int(str(span[-1])[:4])
    hols = np.array(
        [np.datetime64(d.date(), "D") for d in calendar.bank_holidays(y0 - 1, y1 + 1)],
        dtype="datetime64[D]",
    )
    count = np.cumsum(np.is_busday(span, holidays=hols)).astype("int64")
    out = count[e - lo] - count[s - lo]
    back = e < s  # end before start: numpy's own reversed count, as calendar's
    if back.any():
        one = np.timedelta64(1, "D")
        sd = (DAY0 + s[back].astype("timedelta64[D]")) + one
        ed = (DAY0 + e[back].astype("timedelta64[D]")) + one
        out[back] = np.busday_count(sd, ed, holidays=hols)
    return out


def next_date_after(
    key_a: np.ndarray, date_a: pd.Series, key_b: np.ndarray, date_b: pd.Series
) -> np.ndarray:
    """For each row of A, the day number of B's first date strictly after A's date
    for the same key, or -1 when there is none. Keys are small non-negative ints."""
    db = days(date_b)
    ok = ~pd.isna(date_b).to_numpy()
    kb = key_b[ok].astype("int64") * SPAN + db[ok]
    kb.sort()
    da = days(date_a)
    ka = key_a.astype("int64") * SPAN + da
    # Look the queries up in sorted order (sequential access into ``kb``: much faster
    # than random-order binary searches over millions of rows), then put them back.
    order = np.argsort(ka, kind="stable")
    pos = np.empty(len(ka), dtype=np.intp)
    pos[order] = np.searchsorted(kb, ka[order], side="right")
    del order
    out = np.full(len(ka), -1, dtype="int64")
    inside = pos < len(kb)
    cand = kb[np.minimum(pos, len(kb) - 1)] if len(kb) else np.zeros(len(ka), dtype="int64")
    same = inside & (cand // SPAN == key_a.astype("int64")) & ~pd.isna(date_a).to_numpy()
    out[same] = cand[same] % SPAN
    return out


__all__ = ["DAY0", "MISSING_DAY", "SPAN", "days", "next_date_after", "working_days_between"]
