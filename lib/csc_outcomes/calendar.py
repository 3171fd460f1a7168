"""Periods, windows, whole-year arithmetic, ages and working days.

Every measure in the catalogue is computed for a ``period_end`` over a 12-month
window; the date rules here are the catalogue's "Common rules", written once so that
no measure re-derives them. Working days come from the ``holidays`` package (England
and Wales bank holidays, one-off ones included), never from a hand-typed list.
"""

from __future__ import annotations

from functools import cache
from typing import overload

import holidays
import numpy as np
import pandas as pd

__all__ = [
    "add_years",
    "age_at",
    "bank_holidays",
    "birthday",
    "collection_year",
    "collection_year_bounds",
    "month_ends",
    "months_before",
    "window_start",
    "working_days",
]

DateLike = pd.Timestamp | str


def _ts(value: DateLike) -> pd.Timestamp:
    return pd.Timestamp(value).normalize()


@overload
def add_years(dates: pd.Series, years: int) -> pd.Series: ...
@overload
def add_years(dates: DateLike, years: int) -> pd.Timestamp: ...
def add_years(dates, years):
    """Add (or subtract) whole years, mapping 29 February to 28 February.

    The catalogue's rule for windows and durations ("29 February minus one year is
    28 February"). ``pd.DateOffset`` clips to the month's last day, which is exactly
    that rule.
    """
    offset = pd.DateOffset(years=years)
    if isinstance(dates, pd.Series):
        return dates + offset
    return _ts(dates) + offset


def months_before(date: DateLike, months: int) -> pd.Timestamp:
    """The date ``months`` calendar months before ``date``, clipped to month end.

    "2 years 6 months before a date is 30 calendar months before it, clipped to the
    month's last day" (catalogue, date arithmetic).
    """
    return _ts(date) - pd.DateOffset(months=months)


def window_start(period_end: DateLike) -> pd.Timestamp:
    """First day of the 12-month window ending on ``period_end`` (inclusive)."""
    return add_years(_ts(period_end), -1) + pd.Timedelta(days=1)


def _series_pair(a: pd.Series | DateLike, b: pd.Series | DateLike) -> tuple[pd.Series, pd.Series]:
    """Two Series on one index, at least one of ``a`` and ``b`` being a Series: a
    scalar date becomes a Series on the other's index."""
    if isinstance(a, pd.Series):
        return a, b if isinstance(b, pd.Series) else pd.Series(_ts(b), index=a.index)
    if isinstance(b, pd.Series):
        return pd.Series(_ts(a), index=b.index), b
    raise TypeError("at least one of the two dates must be a Series")


@overload
def age_at(dob: pd.Series, date: pd.Series | DateLike) -> pd.Series: ...
@overload
def age_at(dob: DateLike, date: pd.Series) -> pd.Series: ...
@overload
def age_at(dob: DateLike, date: DateLike) -> int: ...
def age_at(dob, date):
    """Whole years completed on ``date``.

    Comparing (month, day) pairs means a child born on 29 February becomes a year
    older on 1 March in a non-leap year, as the catalogue's age rule says.
    """
    if not isinstance(dob, pd.Series) and not isinstance(date, pd.Series):
        b, d = _ts(dob), _ts(date)
        return d.year - b.year - int((d.month, d.day) < (b.month, b.day))
    dob_s, date_s = _series_pair(dob, date)
    d_md = date_s.dt.month * 100 + date_s.dt.day
    b_md = dob_s.dt.month * 100 + dob_s.dt.day
    return date_s.dt.year - dob_s.dt.year - (d_md < b_md).astype("int64")


def birthday(dob: pd.Series, age: int) -> pd.Series:
    """The date on which a child reaches ``age``: 29 February falls on 1 March.

    This differs from :func:`add_years` on purpose: the catalogue says a child born on
    29 February has birthdays on 1 March in non-leap years (consistent with
    :func:`age_at`), while window arithmetic maps 29 February to 28 February.
    """
    shifted = dob + pd.DateOffset(years=age)
    leap_born = (dob.dt.month == 2) & (dob.dt.day == 29)
    clipped = leap_born & (shifted.dt.day == 28)
    return shifted.where(~clipped, shifted + pd.Timedelta(days=1))


@cache
def _holiday_array(first_year: int, last_year: int) -> np.ndarray:
    cal = holidays.country_holidays("GB", subdiv="ENG", years=range(first_year, last_year + 1))
    return np.array(sorted(cal.keys()), dtype="datetime64[D]")


def bank_holidays(first_year: int, last_year: int) -> list[pd.Timestamp]:
    """England and Wales bank holidays in the years given (inclusive)."""
    return [pd.Timestamp(d) for d in _holiday_array(first_year, last_year)]


@overload
def working_days(start: pd.Series, end: pd.Series | DateLike) -> pd.Series: ...
@overload
def working_days(start: DateLike, end: pd.Series) -> pd.Series: ...
@overload
def working_days(start: DateLike, end: DateLike) -> int | None: ...
def working_days(start, end):
    """Working days d with ``start < d <= end`` (Monday-Friday, not a bank holiday).

    The same day gives 0 and Friday to the next Monday gives 1, as the catalogue
    defines. Rows with a missing date give a missing result; an ``end`` before
    ``start`` gives a negative count (the number of working days between them, negated).
    """
    scalar = not isinstance(start, pd.Series) and not isinstance(end, pd.Series)
    s, e = (pd.Series([start]), pd.Series([end])) if scalar else _series_pair(start, end)
    s = pd.to_datetime(s)
    e = pd.to_datetime(e)
    valid = s.notna() & e.notna()
    result = pd.Series(pd.NA, index=s.index, dtype="Int64")
    if valid.any():
        sv = np.asarray(s[valid].values).astype("datetime64[D]")
        ev = np.asarray(e[valid].values).astype("datetime64[D]")
        years = pd.DatetimeIndex(np.concatenate([sv, ev])).year
        hols = _holiday_array(int(years.min()) - 1, int(years.max()) + 1)
        one = np.timedelta64(1, "D")
        counts = np.busday_count(sv + one, ev + one, holidays=hols)
        result[valid] = counts
    if scalar:
        value = result.iloc[0]
        return None if pd.isna(value) else int(value)
    return result


def month_ends(first: DateLike, last: DateLike) -> list[pd.Timestamp]:
    """Every month end from the month of ``first`` to the month of ``last``."""
    start = _ts(first) + pd.offsets.MonthEnd(0)
    return list(pd.date_range(start, _ts(last), freq="ME"))


def collection_year(date: DateLike) -> int:
    """The collection year (1 April to 31 March) holding ``date``, named by its end."""
    d = _ts(date)
    return d.year + 1 if d.month >= 4 else d.year


def collection_year_bounds(year: int) -> tuple[pd.Timestamp, pd.Timestamp]:
    """First and last day of collection year ``year`` (e.g. 2026: 2025-04-01..2026-03-31)."""
    return pd.Timestamp(year - 1, 4, 1), pd.Timestamp(year, 3, 31)
