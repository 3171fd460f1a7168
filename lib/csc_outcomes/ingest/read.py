"""Reading one file into units: which reader a file needs, and the checks of its place.

Where a file sits says what it is: ``<la>/ssda903/<year>/`` (CSV or XML),
``<la>/cin/<year>/`` (XML), ``<la>/school_census/`` and ``<la>/contacts/`` (CSV).
:func:`read_file` hands the file to its reader (:mod:`csc_outcomes.ingest.sources`)
and returns one :class:`~csc_outcomes.ingest.units.Unit` per table read; a file no
reader takes gives none (it is listed as ignored); a file that cannot be used gives one
rejected unit, never an exception.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from csc_outcomes.ingest.contracts import FIRST_YEAR, LAST_YEAR, load_contract
from csc_outcomes.ingest.discover import relative
from csc_outcomes.ingest.parse import parse_dates
from csc_outcomes.ingest.sources import (
    FileRejected,
    RawTable,
    cin_census,
    contacts,
    school_census,
    ssda903,
)
from csc_outcomes.ingest.units import Unit

#: Set (to anything) to let an unexpected reader error through as a traceback.
DEBUG_ENV = "CSC_OUTCOMES_DEBUG"


def year_of(folder_name: str, label: str) -> int:
    """The collection year a year folder names; :class:`FileRejected` when it names none."""
    try:
        year = int(folder_name)
    except ValueError:
        raise FileRejected(f"{label}: the folder '{folder_name}' is not a collection year; put the file "
                           f"in a folder named by the year the return ends ({FIRST_YEAR}-{LAST_YEAR})",
                           rule="collection_year") from None
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise FileRejected(f"{label}: collection year {year} is outside the years the contracts cover "
                           f"({FIRST_YEAR}-{LAST_YEAR}); check the folder name",
                           rule="collection_year")
    return year


def _year_folder(parts: tuple[str, ...], label: str, what: str, folder: str) -> int:
    """The year of a file that belongs in ``<folder>/<year>/``."""
    if len(parts) != 3:
        raise FileRejected(f"{label}: {what} files belong in {folder}/<year>/; move the file",
                           rule="unexpected_location")
    return year_of(parts[1], label)


def _not_collected_note(raw: RawTable, label: str, year: int) -> None:
    """Warn when an SSDA903 table sits in a year before it was collected."""
    first = load_contract(raw.table).first_year
    if year < first:
        raw.notes.append({"line": None, "column": None, "value": str(year), "rule": "table_not_collected",
                          "message": f"{label}: {raw.table} is collected from {first}; "
                                     f"check the year folder ({year})", "severity": "warning"})


def _reference_date_note(raw: RawTable, label: str, year: int, stated: str) -> None:
    """Warn when a CIN census states a ReferenceDate of another year than its folder."""
    ref = parse_dates(pd.Series([stated.strip()]))[0]
    if pd.isna(ref):
        return
    ref_year = ref.year + (1 if ref.month >= 4 else 0)
    if ref_year != year:
        raw.notes.append({"line": None, "column": "ReferenceDate", "value": stated, "rule": "collection_year",
                          "message": f"{label}: the census ReferenceDate {stated} is in collection "
                                     f"year {ref_year}, but the file is in folder {year}; check the folder",
                          "severity": "warning"})


def _units(raws: list[RawTable], la_code: str, source: str, label: str, year: int | None) -> list[Unit]:
    """One unit per raw table of a file."""
    return [Unit(la_code, source, raw.table, label, year, raw=raw) for raw in raws]


def _read_ssda903(path: Path, label: str, parts: tuple[str, ...], la_code: str) -> list[Unit]:
    """An SSDA903 CSV (one table, named by the file) or XML file (every table) of a year folder."""
    year = _year_folder(parts, label, "SSDA903", "ssda903")
    suffix = path.suffix.lower()
    if suffix == ".xml":
        raws = ssda903.read_xml(path, label)
    elif suffix == ".csv":
        raws = [ssda903.read_csv(path, label)]
    else:
        return []
    for raw in raws:
        _not_collected_note(raw, label, year)
    return _units(raws, la_code, "ssda903", label, year)


def _read_cin(path: Path, label: str, parts: tuple[str, ...], la_code: str) -> list[Unit]:
    """A CIN census XML file of a year folder (its stated ReferenceDate checked against it)."""
    if path.suffix.lower() != ".xml":
        return []
    year = _year_folder(parts, label, "CIN census", "cin")
    raws, stated = cin_census.read(path, label)
    for raw in raws:
        if stated and raw.table == "cin_children":
            _reference_date_note(raw, label, year, stated)
    return _units(raws, la_code, "cin", label, year)


def _feed_reader(read: Callable[[Path, str], RawTable], source: str) -> Callable[..., list[Unit]]:
    """The reader of a feed's CSV files (no year folder: rows carry their dates)."""

    def read_feed(path: Path, label: str, parts: tuple[str, ...], la_code: str) -> list[Unit]:
        """A feed's CSV file (other files in the folder are not the feed's)."""
        if path.suffix.lower() != ".csv":
            return []
        return _units([read(path, label)], la_code, source, label, None)

    return read_feed


#: The reader of each source folder: (path, label, parts under the LA, LA code) -> units.
READERS: dict[str, Callable[[Path, str, tuple[str, ...], str], list[Unit]]] = {
    "ssda903": _read_ssda903,
    "cin": _read_cin,
    "school_census": _feed_reader(school_census.read, "school_census"),
    "contacts": _feed_reader(contacts.read, "contacts"),
}


def read_file(path: Path, input_dir: Path, la_code: str, la_dir: Path) -> list[Unit]:
    """Read one file into units (one per table) holding their RawTables; [] when the file
    is not one ingest reads. A file-level problem gives one rejected unit."""
    label = relative(path, input_dir)
    parts = path.relative_to(la_dir).parts
    source = parts[0].lower() if len(parts) > 1 else ""
    reader = READERS.get(source)
    if reader is None:
        return []
    try:
        return reader(path, label, parts, la_code)
    except FileRejected as exc:
        rejected = exc
    except Exception as exc:
        if os.environ.get(DEBUG_ENV):
            raise
        rejected = FileRejected(f"{label}: could not be read ({type(exc).__name__}: {exc}); check the "
                                "file is a valid export, and report this message if it is",
                                rule="file_unreadable")
    unit = Unit(la_code, source or "unknown", None, label, None)
    unit.reject(rejected)
    return [unit]
