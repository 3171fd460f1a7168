"""Which period ends the loaded statutory returns support: the one rule, for every step.

A measure for the period ending P counts what happened in the 12 months to P, so it is
only as complete as the returns behind those months. The SSDA903 and CIN census
returns each cover one collection year (1 April to 31 March, named by its end). A
period end is **covered** for an LA when every collection year its 12-month window
touches was supplied in each statutory return the LA supplies (SSDA903 and CIN; a
source the LA never supplied does not count, and the school census and contacts feeds
are not returns). The period ending 31 March 2026 needs the 2026 returns; the period
ending 31 October 2026 needs the 2026 and 2027 ones.

A period end an LA's returns do not cover is one of:

- **before** its first return (a window reaching back before the first year supplied,
  or an LA with no return at all): there is nothing to report, only the children still
  open when the first return was made; refused as a usage error (exit 2);
- **after** its latest return, or over a **gap** (a year missing between two): the
  months not yet returned are simply missing, so counts and rates understate; refused
  (exit 1) unless the user accepts it knowingly (``allow_incomplete``), when every page
  published for the period carries a banner saying so.

:func:`Coverage.latest_covered` is the latest period end every LA of a run can support:
the latest 31 March all their returns reach (the ``monthly`` schedule's default,
spelled ``latest_covered``). :func:`Coverage.supported_mask` keeps a measures table to
the (LA, period) rows the returns cover, so an earlier period shown for comparison or
in a trend is never a partial one either.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from csc_outcomes import calendar
from csc_outcomes.keys import TABLE_SOURCE
from csc_outcomes.measures.periods import parse_period_end

#: The statutory returns whose years decide which periods are covered.
STATUTORY_SOURCES = ("ssda903", "cin")
#: The spellings of "the latest period end the loaded returns cover".
LATEST_COVERED = ("latest_covered", "latest-covered")


class PeriodNotCovered(ValueError):
    """A period end the returns do not cover; ``exit_code`` 2 (before) or 1 (after, gap)."""

    def __init__(self, message: str, exit_code: int):
        super().__init__(message)
        self.exit_code = exit_code


def long_year_end(year: int) -> str:
    """``year ending 31 March 2026`` for collection year 2026."""
    return f"year ending 31 March {year}"


def years_touched(period_end: Any) -> list[int]:
    """The collection years the 12-month window ending on ``period_end`` falls in."""
    end = pd.Timestamp(parse_period_end(period_end))
    first = calendar.collection_year(calendar.window_start(end))
    return list(range(first, calendar.collection_year(end) + 1))


def is_latest_covered(value: Any) -> bool:
    """Whether ``value`` spells "the latest period the returns cover"."""
    return isinstance(value, str) and value.strip() in LATEST_COVERED


def period_spelling(value: Any) -> str:
    """``YYYY-MM-DD`` for a period end, or ``latest_covered`` as given; ``ValueError`` else."""
    if is_latest_covered(value):
        return LATEST_COVERED[0]
    return parse_period_end(value).isoformat()


@dataclass(frozen=True)
class PeriodCheck:
    """How a period end stands against the returns of some LAs (empty dicts: covered)."""

    period_end: dt.date
    before: Mapping[str, int | None] = field(default_factory=dict)  # LA -> first year
    behind: Mapping[str, int] = field(default_factory=dict)  # LA -> latest year
    gaps: Mapping[str, tuple[int, ...]] = field(default_factory=dict)  # LA -> years missing

    @property
    def covered(self) -> bool:
        return not (self.before or self.behind or self.gaps)

    def incomplete_text(self) -> str:
        """What is missing, in words (for the error, the warning and the banner)."""
        parts = [f"{la} (latest return: {long_year_end(y)})" for la, y in sorted(self.behind.items())]
        parts += [f"{la} (no return for the {', '.join(long_year_end(y) for y in ys)})"
                  for la, ys in sorted(self.gaps.items())]
        return (f"the period ending {self.period_end} runs past the statutory returns loaded "
                f"for {'; '.join(parts)}")

    def banner(self) -> str | None:
        """The notice every page published for an incomplete period carries (None: complete)."""
        if not (self.behind or self.gaps):
            return None
        return (f"Incomplete data: {self.incomplete_text()}. Figures for the months those "
                "returns do not cover are missing, so counts and rates here understate them; "
                "do not compare them with complete periods.")


@dataclass(frozen=True)
class Coverage:
    """Each LA's collection years supplied in every statutory return it supplies."""

    years: Mapping[str, frozenset[int]]

    @classmethod
    def from_supplied(cls, supplied: pd.DataFrame, la_codes: Iterable[str] = ()) -> Coverage:
        """From a ``supplied`` frame (la_code, table_name, collection_year), as ingest and
        the warehouse record it; ``la_codes`` adds LAs (with no years unless supplied)."""
        s = supplied.dropna(subset=["collection_year"])
        by_source: dict[str, dict[str, set[int]]] = {}
        for la, name, year in zip(s["la_code"].astype(str), s["table_name"], s["collection_year"],
                                  strict=True):
            source = TABLE_SOURCE.get(str(name))
            if source in STATUTORY_SOURCES:
                by_source.setdefault(la, {}).setdefault(source, set()).add(int(year))
        years = {str(la): frozenset[int]() for la in la_codes}
        years |= {str(la): frozenset[int]() for la in supplied["la_code"].dropna().astype(str)}
        years |= {la: frozenset(set.intersection(*sets.values())) for la, sets in by_source.items()}
        return cls(years)

    @property
    def la_codes(self) -> list[str]:
        return sorted(self.years)

    def la_years(self, la_code: str) -> frozenset[int]:
        return self.years.get(la_code, frozenset())

    def covers(self, la_code: str, period_end: Any) -> bool:
        """Whether the LA's returns cover the 12 months ending on ``period_end``."""
        return set(years_touched(period_end)) <= self.la_years(la_code)

    def latest_covered(self, la_codes: Sequence[str] = ()) -> dt.date:
        """The latest 31 March every one of ``la_codes`` (default all) reaches."""
        las = list(la_codes) or self.la_codes
        latest = [max(self.la_years(la), default=None) for la in las]
        if not las or None in latest:
            none = [la for la, y in zip(las, latest, strict=True) if y is None] or ["any LA"]
            raise PeriodNotCovered(f"no SSDA903 or CIN return was loaded for {', '.join(none)}, "
                                   "so no period end is covered; run 'csc-outcomes ingest'", 2)
        return dt.date(min(y for y in latest if y is not None), 3, 31)

    def resolve(self, value: Any, la_codes: Sequence[str] = ()) -> dt.date:
        """A period end: ``latest_covered`` for ``la_codes``, else as parsed."""
        if is_latest_covered(value):
            return self.latest_covered(la_codes)
        return parse_period_end(value)

    def check(self, period_end: Any, la_codes: Sequence[str] = ()) -> PeriodCheck:
        """Where ``period_end`` falls against each LA's returns (default every LA)."""
        end = parse_period_end(period_end)
        touched = years_touched(end)
        before: dict[str, int | None] = {}
        behind: dict[str, int] = {}
        gaps: dict[str, tuple[int, ...]] = {}
        for la in list(la_codes) or self.la_codes:
            have = self.la_years(la)
            missing = [y for y in touched if y not in have]
            if not missing:
                continue
            if not have or min(missing) < min(have):
                before[la] = min(have, default=None)
            elif min(missing) > max(have):
                behind[la] = max(have)
            else:
                gaps[la] = tuple(y for y in missing if y < max(have))
                if max(missing) > max(have):
                    behind[la] = max(have)
        return PeriodCheck(end, before, behind, gaps)

    def require(self, period_end: Any, la_codes: Sequence[str] = (), *,
                allow_incomplete: bool = False) -> PeriodCheck:
        """The check of ``period_end``; raises :class:`PeriodNotCovered` when it is not
        covered (before a first return always; after or over a gap unless allowed)."""
        result = self.check(period_end, la_codes)
        if result.before:
            raise PeriodNotCovered(self.before_message(result), 2)
        if (result.behind or result.gaps) and not allow_incomplete:
            raise PeriodNotCovered(self.after_message(result, la_codes), 1)
        return result

    def first_supported(self, la_code: str) -> dt.date | None:
        """The earliest period end the LA's returns cover (31 March of its first year)."""
        have = self.la_years(la_code)
        return dt.date(min(have), 3, 31) if have else None

    def before_message(self, result: PeriodCheck) -> str:
        """Why a period before the first return is refused, and what to choose."""
        parts = [f"{la} (first return: {long_year_end(y)}; earliest period end covered "
                 f"{self.first_supported(la)})" if y is not None
                 else f"{la} (no SSDA903 or CIN return loaded)"
                 for la, y in sorted(result.before.items())]
        return (f"the period ending {result.period_end} is before the first statutory return "
                f"of {'; '.join(parts)}: there are no data to report for it. Choose a period "
                "end the returns cover")

    def after_message(self, result: PeriodCheck, la_codes: Sequence[str]) -> str:
        """Why a period after the latest return is refused, and the ways on."""
        try:
            latest = f"--period-end {self.latest_covered(la_codes)} (the latest every LA's "
            latest += "returns cover), "
        except PeriodNotCovered:
            latest = ""
        return (f"{result.incomplete_text()}: its figures would rest on incomplete data. Use "
                f"{latest}ingest the missing returns, or pass --allow-incomplete to publish "
                "it with an 'incomplete data' banner on every page")

    def supported_mask(self, frame: pd.DataFrame, keep: Iterable[tuple[str, Any]] = ()) -> pd.Series:
        """True for the rows (``la_code``, ``period_end``) of ``frame`` the returns cover,
        and for the (LA, period end) pairs in ``keep`` (accepted as incomplete)."""
        ends = pd.to_datetime(frame["period_end"]).dt.normalize()
        pairs = pd.DataFrame({"la": frame["la_code"].astype(str), "end": ends})
        kept = {(str(la), pd.Timestamp(parse_period_end(p))) for la, p in keep}
        ok = {(la, end): (la, end) in kept or self.covers(la, end)
              for la, end in pairs.drop_duplicates().itertuples(index=False)}
        return pd.Series([ok[(la, end)] for la, end in pairs.itertuples(index=False)],
                         index=frame.index, dtype=bool)


def read_coverage(warehouse: str | Path) -> Coverage:
    """The coverage of a warehouse's ``supplied`` table (``FileNotFoundError`` without one)."""
    # DuckDB is loaded only when a warehouse is read, as in ``inputs.from_warehouse``
    from csc_outcomes import warehouse as wh  # noqa: PLC0415

    return Coverage.from_supplied(wh.read_table(Path(warehouse), "supplied"))


__all__ = [
    "LATEST_COVERED",
    "STATUTORY_SOURCES",
    "Coverage",
    "PeriodCheck",
    "PeriodNotCovered",
    "is_latest_covered",
    "period_spelling",
    "read_coverage",
    "years_touched",
]
