"""What the leak scan looks for: every identifier and quasi-identifier the warehouse holds.

The scan (:mod:`csc_outcomes.reporting.leak_scan`) looks each word of a published file
up in an :class:`IdentifierSet`, so the set is built once per run and each value is
kept in the one form the scan compares: ids upper-cased, postcodes upper-cased without
spaces, dates as ``datetime.date``. What counts:

* ids (``IDENTIFIER_COLUMNS``): a child's ``CHILD``, ``LAchildID``, ``UPN`` and
  ``FormerUPN``, a contact's ``contact_id``, a social worker's ``SW_ID``;
* postcodes (``POSTCODE_COLUMNS``): ``HOME_POST``, ``PL_POST`` (full or partial, as held);
* dates (``DATE_COLUMNS``): dates of birth (the child's, the mother's child's) and of death.

``URN`` is not among them: it is Ofsted's number for a school, children's home or
provider, published by Ofsted itself, not a fact about a child.

Short ids would match ordinary numbers: an id shorter than ``MIN_IDENTIFIER_LENGTH``
characters, or all digits and shorter than ``MIN_NUMERIC_IDENTIFIER_LENGTH``, is not
looked for (the run's years and counts are numbers of that size); ``skipped`` counts them.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import pandas as pd

from csc_outcomes import calendar
from csc_outcomes import warehouse as wh
from csc_outcomes.keys import TABLE_SOURCE

__all__ = [
    "DATE_COLUMNS",
    "IDENTIFIER_COLUMNS",
    "MIN_IDENTIFIER_LENGTH",
    "MIN_NUMERIC_IDENTIFIER_LENGTH",
    "POSTCODE_COLUMNS",
    "REPORT_YEARS",
    "IdentifierSet",
    "identifiers_from_warehouse",
    "report_dates",
]

#: Columns whose values identify a child, a record about one, or a social worker.
IDENTIFIER_COLUMNS = ("CHILD", "LAchildID", "UPN", "FormerUPN", "contact_id", "SW_ID")
#: Columns holding a postcode (the child's home, the placement).
POSTCODE_COLUMNS = ("HOME_POST", "PL_POST")
#: Columns holding a date of birth or death: a child's, or that of a mother's child.
DATE_COLUMNS = ("DOB", "MC_DOB", "PersonBirthDate", "ExpectedPersonBirthDate", "PersonDeathDate")
#: Shorter ids are not looked for (they would match ordinary words and numbers).
MIN_IDENTIFIER_LENGTH = 4
#: All-digit ids shorter than this are not looked for (they are years and counts too).
MIN_NUMERIC_IDENTIFIER_LENGTH = 6
#: How many years of period ends and window starts before the period a report may show.
REPORT_YEARS = 10

K = TypeVar("K")
V = TypeVar("V")

_ALNUM = re.compile(r"[A-Za-z0-9]+")
_EDGES = re.compile(r"^[^A-Za-z0-9]+|[^A-Za-z0-9]+$")


def id_form(value: object) -> str:
    """The form an id is compared in: stripped of edge punctuation, upper-cased."""
    return _EDGES.sub("", str(value).strip()).upper()


def postcode_form(value: object) -> str:
    """The form a postcode is compared in: upper-cased, no spaces (``sw1a 1aa`` -> ``SW1A1AA``)."""
    return re.sub(r"\s+", "", str(value)).upper()


def _by_form(pairs: Iterable[tuple[K, str]], form: Callable[[K], V | None]) -> dict[V, str]:
    """value form -> the columns it was seen in, joined (``"CHILD, LAchildID"``).

    The joined names are shared between values (one string per combination), so a
    million ids cost a million keys, not a million labels too.
    """
    seen: dict[V, list[str]] = {}
    for value, column in pairs:
        key = form(value)
        if key is None or key == "":
            continue
        cols = seen.setdefault(key, [])
        if column not in cols:
            cols.append(column)
    labels: dict[str, str] = {}
    return {k: labels.setdefault(", ".join(v), ", ".join(v)) for k, v in seen.items()}


@dataclass(frozen=True)
class IdentifierSet:
    """Identifier forms to look up: ``ids`` and ``postcodes`` (form -> columns), ``dates``.

    ``max_parts`` is the most alphanumeric runs in one id (``AB-12`` has 2) and
    ``max_length`` the longest id: the scan joins at most that many neighbouring words,
    so it stays linear in the text. ``skipped`` counts ids too short to look for.
    """

    ids: Mapping[str, str] = field(default_factory=dict)
    postcodes: Mapping[str, str] = field(default_factory=dict)
    dates: Mapping[dt.date, str] = field(default_factory=dict)
    max_parts: int = 1
    max_length: int = 0
    skipped: int = 0

    @classmethod
    def build(cls, ids: Iterable[tuple[object, str]] = (),
              postcodes: Iterable[tuple[object, str]] = (),
              dates: Iterable[tuple[object, str]] = ()) -> IdentifierSet:
        """A set from ``(value, column)`` pairs of each kind; blanks and short ids dropped."""
        all_ids = _by_form(ids, id_form)
        kept = {k: v for k, v in all_ids.items() if long_enough(k)}
        parts = [len(_ALNUM.findall(k)) for k in kept]
        return cls(ids=kept, postcodes=_by_form(postcodes, postcode_form),
                   dates=_by_form(dates, as_date),
                   max_parts=max(parts, default=1), max_length=max(map(len, kept), default=0),
                   skipped=len(all_ids) - len(kept))

    @classmethod
    def of(cls, identifiers: IdentifierSet | Iterable[str] | None) -> IdentifierSet:
        """``identifiers`` as a set: plain strings are ids (kind ``identifier``)."""
        if isinstance(identifiers, IdentifierSet):
            return identifiers
        return cls.build(ids=((i, "identifier") for i in identifiers or ()))

    def __len__(self) -> int:
        return len(self.ids) + len(self.postcodes) + len(self.dates)


def long_enough(form: str) -> bool:
    """Whether an id is specific enough to look for (see the module's note on short ids)."""
    if form.isdigit():
        return len(form) >= MIN_NUMERIC_IDENTIFIER_LENGTH
    return len(form) >= MIN_IDENTIFIER_LENGTH


def as_date(value: object) -> dt.date | None:
    """A date from a warehouse value (``date``, ``Timestamp``, ISO text); None when blank."""
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    stamp = pd.to_datetime(str(value), errors="coerce")
    return None if pd.isna(stamp) else stamp.date()


def identifiers_from_warehouse(path: str | Path,
                               la_codes: Sequence[str] | None = None) -> IdentifierSet:
    """Every id, postcode and date of birth or death of ``la_codes`` (all LAs when None).

    Read column by column with ``SELECT DISTINCT`` (never whole tables), from every
    canonical table holding one of the columns, and from ``rejects`` where the rejected
    cell was an id or a postcode (a malformed UPN is still a child's UPN).
    """
    wanted = {**dict.fromkeys(IDENTIFIER_COLUMNS, "id"), **dict.fromkeys(POSTCODE_COLUMNS, "post"),
              **dict.fromkeys(DATE_COLUMNS, "date")}
    found: dict[str, list[tuple[object, str]]] = {"id": [], "post": [], "date": []}
    las = [c.strip().upper() for c in la_codes] if la_codes else None
    where = f" AND la_code IN ({', '.join('?' for _ in las)})" if las else ""
    with wh.connect(Path(path)) as con:
        columns = con.execute("SELECT table_name, column_name FROM information_schema.columns"
                              ).fetchall()
        for table, column in columns:
            if table in TABLE_SOURCE and column in wanted:
                rows = con.execute(f'SELECT DISTINCT "{column}" FROM "{table}" '
                                   f'WHERE "{column}" IS NOT NULL{where}', las or []).fetchall()
                found[wanted[column]] += [(r[0], column) for r in rows]
        marks = ", ".join("?" for _ in (*IDENTIFIER_COLUMNS, *POSTCODE_COLUMNS))
        rejected = con.execute(f'SELECT DISTINCT value, "column" FROM rejects WHERE "column" '
                               f"IN ({marks}) AND value IS NOT NULL{where}",
                               [*IDENTIFIER_COLUMNS, *POSTCODE_COLUMNS, *(las or [])]).fetchall()
    for value, column in rejected:
        found[wanted[column]].append((value, column))
    return IdentifierSet.build(ids=found["id"], postcodes=found["post"], dates=found["date"])


def report_dates(period_end: str | dt.date, started: str | dt.datetime | None = None,
                 *, years: int = REPORT_YEARS, today: dt.date | None = None) -> frozenset[dt.date]:
    """Dates a report legitimately shows, never flagged alone as a date of birth.

    Every month end in the ``years`` years up to ``period_end`` (period ends, the
    year-earlier column, monthly schedules), the day after each (window starts), the
    period end and its window start, and each day from the run's start to ``today``
    (run dates). A child born on one of them is still caught next to an identifier.
    """
    end = pd.Timestamp(period_end).normalize()
    ends = calendar.month_ends(calendar.add_years(end, -years), end)
    days = {d.date() for e in ends for d in (e, e + pd.Timedelta(days=1))}
    days |= {end.date(), calendar.window_start(end).date()}
    now = [today] if today else [dt.date.today(), dt.datetime.now(dt.UTC).date()]
    first = min([pd.Timestamp(started).date(), *now] if started else now)
    days |= {d.date() for d in pd.date_range(first, max(now), freq="D")}
    return frozenset(days)
