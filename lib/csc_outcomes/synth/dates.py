"""Day arithmetic on ``numpy.datetime64[D]`` arrays and fast date formatting.

Dates inside the generator are ``datetime64[D]`` arrays (``NaT`` when absent); they
are turned into text only when a file is written, through a lookup table (one string
per day), which is far faster than ``strftime`` on hundreds of thousands of values.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from csc_outcomes import calendar

NaT = np.datetime64("NaT", "D")
_BASE = np.datetime64("1975-01-01", "D")
_END = np.datetime64("2045-12-31", "D")


def day(text: str) -> np.datetime64:
    """A day from ISO text (``2026-03-31``)."""
    return np.datetime64(text, "D")


def year_bounds(year: int) -> tuple[np.datetime64, np.datetime64]:
    """First and last day of collection year ``year`` (1 April to 31 March)."""
    a, b = calendar.collection_year_bounds(year)
    return np.datetime64(a.date(), "D"), np.datetime64(b.date(), "D")


@lru_cache(maxsize=4)
def holidays(first_year: int, last_year: int) -> np.ndarray:
    """England and Wales bank holidays (from ``csc_outcomes.calendar``)."""
    return np.array([d.date() for d in calendar.bank_holidays(first_year, last_year)],
                    dtype="datetime64[D]")


def add_working_days(start: np.ndarray, n: np.ndarray, hols: np.ndarray) -> np.ndarray:
    """The date ``n`` working days after ``start``, so that
    ``calendar.working_days(start, result) == n`` (for ``n >= 1``)."""
    # roll='forward' from start+1 gives the first working day after start as offset 0
    first = np.busday_offset(start + 1, 0, roll="forward", holidays=hols)
    return np.busday_offset(first, np.maximum(n, 1) - 1, roll="forward", holidays=hols)


def years(dob: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Whole years completed on ``d`` (the catalogue's age rule, vectorised)."""
    yb, mb, db = split(dob)
    yd, md, dd = split(d)
    return yd - yb - ((md * 100 + dd) < (mb * 100 + db)).astype(np.int64)


def split(d: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(year, month, day) integer arrays of a ``datetime64[D]`` array."""
    d = np.asarray(d, dtype="datetime64[D]")
    y = d.astype("datetime64[Y]")
    m = d.astype("datetime64[M]")
    return (y.astype(np.int64) + 1970, (m - y).astype(np.int64) + 1, (d - m).astype(np.int64) + 1)


def birthday(dob: np.ndarray, age: int) -> np.ndarray:
    """Date a child reaches ``age`` (29 February -> 1 March), as ``calendar.birthday``."""
    y, m, d = split(dob)
    y2 = y + age
    leap = ((y2 % 4 == 0) & (y2 % 100 != 0)) | (y2 % 400 == 0)
    feb29 = (m == 2) & (d == 29) & ~leap
    m2 = np.where(feb29, 3, m)
    d2 = np.where(feb29, 1, d)
    return from_ymd(y2, m2, d2)


def from_ymd(y: np.ndarray, m: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Dates from year, month and day arrays."""
    months = ((np.asarray(y) - 1970) * 12 + np.asarray(m) - 1).astype("datetime64[M]")
    return months.astype("datetime64[D]") + (np.asarray(d) - 1)


@lru_cache(maxsize=4)
def _table(style: str) -> np.ndarray:
    """The text of every day from ``_BASE`` to ``_END`` in ``style``, then '' (for NaT)."""
    days = np.arange(_BASE, _END + 1, dtype="datetime64[D]")
    y, m, d = split(days)
    if style == "dmy":
        out = [f"{dd:02d}/{mm:02d}/{yy:04d}" for yy, mm, dd in zip(y, m, d, strict=True)]
    else:
        out = [f"{yy:04d}-{mm:02d}-{dd:02d}" for yy, mm, dd in zip(y, m, d, strict=True)]
    return np.array([*out, ""], dtype=object)


def fmt(d: np.ndarray, style: str = "dmy") -> np.ndarray:
    """Format dates as ``dd/mm/yyyy`` (``style='dmy'``) or ISO (``'iso'``); NaT -> ''."""
    d = np.asarray(d, dtype="datetime64[D]")
    table = _table(style)
    idx = (d - _BASE).astype(np.int64)
    bad = np.isnat(d) | (idx < 0) | (idx >= len(table) - 1)
    idx = np.where(bad, len(table) - 1, idx)
    return table[idx]
