"""Whether each LA's latest return is whole: tables supplied before but not in it.

An LA that sent ``episodes`` every year up to 2025 and no episodes file in its 2026
return has not stopped having children looked after: the file is missing, and reading
the return without it would count the children of the 2025 file as if nothing had
changed since. So a table an LA supplied in an earlier collection year but not in its
latest is refused by name (the ingest exits 1), unless the user accepts its absence
knowingly with ``--allow-missing TABLE``, which the QA report records.

Only the returns filed in year folders (SSDA903 and the CIN census) are checked: the
school census and contacts feeds carry their own dates, with no yearly return to be
whole. An SSDA903 XML file holds the whole return, so every SSDA903 table counts as
supplied in its year (a table without rows in it is an empty table, not a missing one).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass

from csc_outcomes.ingest.discover import UsageError
from csc_outcomes.ingest.sources import FileRejected
from csc_outcomes.ingest.units import Unit
from csc_outcomes.keys import TABLE_SOURCE

#: The sources whose returns sit in year folders (``<la>/<source>/<year>/``).
YEAR_SOURCES = ("ssda903", "cin")

#: The rule a refused missing table is reported under.
RULE = "table_missing"


@dataclass(frozen=True)
class MissingTable:
    """A table ``la_code`` supplied up to ``last_year`` (in ``last_file``) but not in
    ``latest_year``, its latest return; ``path`` is where its file belongs (a folder,
    ending in ``/``, when it came in a file holding several tables)."""

    la_code: str
    source: str
    table: str
    path: str
    last_year: int
    last_file: str
    latest_year: int

    def record(self, allowed: bool) -> dict:
        """The QA report's entry for it."""
        return {**asdict(self), "allowed": allowed}


def check_allowed(names: Iterable[str]) -> set[str]:
    """The table names given to ``--allow-missing``; :class:`UsageError` for an unknown one."""
    wanted = {n.strip() for n in names}
    unknown = sorted(wanted - set(TABLE_SOURCE))
    if unknown:
        raise UsageError(f"--allow-missing {', '.join(unknown)}: not a table name; "
                         f"the tables are {', '.join(TABLE_SOURCE)}")
    return wanted


def _expected_path(label: str, latest: int) -> str:
    """Where the latest year's copy of the file ``label`` (``<la>/<source>/<year>/<file>``)
    belongs: the same name for a one-table CSV, else the year folder."""
    parts = label.split("/")
    folder = "/".join([*parts[:2], str(latest)])
    return f"{folder}/{parts[-1]}" if parts[-1].lower().endswith(".csv") else folder + "/"


def _tables_of(u: Unit) -> set[str]:
    """The tables a read unit stands for in its year (a whole SSDA903 XML return: all)."""
    if u.source == "ssda903" and u.label.lower().endswith(".xml"):
        return {t for t, s in TABLE_SOURCE.items() if s == "ssda903"}
    return {u.table} if u.table else set()


def missing_tables(units: list[Unit]) -> list[MissingTable]:
    """Every table an LA supplied in an earlier year of a year-folder source but not in its
    latest year (the latest of any of its year-folder returns), sorted by path and table.

    A file refused on its own (its unit rejected) is already named; it is not reported again.
    """
    read = [u for u in units if u.supplied and u.year is not None and u.source in YEAR_SOURCES]
    rejected = {u.label for u in units if u.file_rejected}
    latest: dict[str, int] = {}
    present: dict[tuple[str, int], set[str]] = defaultdict(set)
    last: dict[tuple[str, str], Unit] = {}
    for u in read:
        year = int(u.year or 0)
        latest[u.la_code] = max(latest.get(u.la_code, year), year)
        present[(u.la_code, year)] |= _tables_of(u)
    for u in sorted(read, key=lambda u: int(u.year or 0)):  # the last earlier year wins
        if u.table and int(u.year or 0) < latest[u.la_code]:
            last[(u.la_code, u.table)] = u
    out = []
    for (la, table), u in last.items():
        if table in present[(la, latest[la])]:
            continue
        path = _expected_path(u.label, latest[la])
        if path not in rejected:
            out.append(MissingTable(la, u.source, table, path, int(u.year or 0), u.label, latest[la]))
    return sorted(out, key=lambda m: (m.path, m.table))


def refused_units(missing: list[MissingTable]) -> list[Unit]:
    """One rejected unit per path missing, naming its tables and the way to accept it."""
    by_path: dict[str, list[MissingTable]] = defaultdict(list)
    for m in missing:
        by_path[m.path].append(m)
    units = []
    for path, ms in by_path.items():
        m = ms[0]
        tables = ", ".join(x.table for x in ms)
        before = ", ".join(sorted({f"{x.table} in {x.last_file}" for x in ms}))
        unit = Unit(m.la_code, m.source, None, path, m.latest_year)
        unit.reject(FileRejected(
            f"{path}: missing. {m.la_code} supplied {tables} up to {m.last_year} ({before}) but not in "
            f"{m.latest_year}, its latest return; put the file in place and ingest again, or accept its "
            f"absence knowingly with --allow-missing {' --allow-missing '.join(x.table for x in ms)} "
            "(recorded in the QA report)", rule=RULE))
        units.append(unit)
    return units
