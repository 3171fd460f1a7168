"""Period ends: the one parser of their spellings, and the periods frame measures take.

The command line, schedules, parameter files and ``compute_measures`` accept the same
spellings (a date, ``YYYY-MM-DD`` or ``last_month_end``) because they all go through
:func:`parse_period_end`. ``measures.table`` offers these under its own name, as the
measures table's period-end parser; they live here, below ``compute``, so that
``compute`` can parse period ends without importing the table module that calls it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from csc_outcomes import calendar

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
#: The spellings of "the end of last month" (a schedule's rolling period end).
LAST_MONTH_END = ("last_month_end", "last-month-end")


def last_month_end(today: dt.date | None = None) -> dt.date:
    """The last day of the month before ``today``."""
    today = today or dt.date.today()
    return today.replace(day=1) - dt.timedelta(days=1)


def parse_period_end(value: Any, *, today: dt.date | None = None) -> dt.date:
    """A period end from a date, a ``YYYY-MM-DD`` string or ``last_month_end``.

    The one parser of period ends, so every entry point accepts the same spellings.
    Raises ``ValueError`` naming the value otherwise.
    """
    if isinstance(value, np.datetime64) and not np.isnat(value):
        value = pd.Timestamp(value)
    if isinstance(value, dt.datetime):  # also pandas.Timestamp
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    if text in LAST_MONTH_END:
        return last_month_end(today)
    message = f"period end {value!r} is not a date YYYY-MM-DD (or 'last_month_end')"
    if not _ISO_DATE.fullmatch(text):
        raise ValueError(message)
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:  # well formed but impossible, e.g. 2024-02-30
        raise ValueError(message) from exc


def period_text(value: Any) -> str:
    """``YYYY-MM-DD`` for a period end given in any form :func:`parse_period_end` takes."""
    return parse_period_end(value).isoformat()


def make_periods(period_ends: Iterable[Any]) -> pd.DataFrame:
    """Parse period ends into a sorted, de-duplicated frame: what measure functions take.

    Columns: ``period_end``, ``window_start`` (``calendar.window_start``), ``prev_end``
    (``period_end`` minus one year) and ``prev_start`` (the window ending on
    ``prev_end``), all ``datetime64[ns]``.
    """
    ends = sorted({pd.Timestamp(parse_period_end(p)) for p in period_ends})
    if not ends:
        raise ValueError("at least one period end is needed")
    frame = pd.DataFrame({"period_end": pd.to_datetime(pd.Series(ends)).astype("datetime64[ns]")})
    frame["window_start"] = [calendar.window_start(p) for p in ends]
    prev = [calendar.add_years(p, -1) for p in ends]
    frame["prev_end"] = prev
    frame["prev_start"] = [calendar.window_start(p) for p in prev]
    for col in ("window_start", "prev_end", "prev_start"):
        frame[col] = pd.to_datetime(frame[col]).astype("datetime64[ns]")
    return frame


__all__ = ["LAST_MONTH_END", "last_month_end", "make_periods", "parse_period_end", "period_text"]
