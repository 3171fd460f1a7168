"""The leak scan: suspected disclosures in files about to be published.

Suppression (:mod:`csc_outcomes.reporting.disclosure`) makes tables safe; this scan is
the last check that nothing unsafe slipped into a published file by another route (a
notebook printing a frame, a chart label, a stray CSV, a payload in a page).
:func:`scan` reads every published file (:mod:`leak_files`: HTML, SVG, CSV, JSON,
notebooks, PDF, Office files) and looks in its text (:mod:`leak_text`: words looked up
in a set, payloads decoded) for every identifier and quasi-identifier the warehouse
holds (:mod:`identifiers`: ids, ``SW_ID``, postcodes, dates of birth), UPN-shaped
strings, dates next to an identifier; in CSVs also date-of-birth columns and small
counts. The matched text is masked in every report, so the scan's own output
discloses nothing. What the scan cannot see is in ``docs/leak-scan.md``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import multiprocessing
import re
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from csc_outcomes.reporting import leak_tables
from csc_outcomes.reporting.disclosure import DEFAULT_THRESHOLD
from csc_outcomes.reporting.identifiers import IdentifierSet
from csc_outcomes.reporting.leak_files import file_texts, shown_html
from csc_outcomes.reporting.leak_text import Hit, text_hits

__all__ = [
    "DOB_COLUMN_PATTERN",
    "SMALL_COUNT_COLUMNS",
    "Leak",
    "mask_text",
    "scan",
    "scan_for_leaks",
]

DOB_COLUMN_PATTERN = re.compile(
    r"^(?:dob|mc_dob|personbirthdate|expectedpersonbirthdate|date_?of_?birth|birth_?date)$",
    re.IGNORECASE,
)
SMALL_COUNT_COLUMNS = frozenset({"numerator", "denominator", "count"})

#: What each rule means, for the report (``{kind}``: the warehouse columns matched).
DETAILS = {
    "known_identifier": "a {kind} held in the warehouse",
    "postcode": "a postcode ({kind}) held in the warehouse",
    "date_of_birth": "a date of birth or death ({kind}) held in the warehouse, "
                     "not a date the report shows",
    "upn_shape": "a UPN-shaped string (a letter and 12 digits)",
    "dob_near_identifier": "a date next to an identifier",
    "unscannable": "cannot be scanned, so it must not be published unread",
}
#: Rules whose matched text is itself sensitive, so it is masked.
MASKED = frozenset({"known_identifier", "postcode", "date_of_birth", "upn_shape",
                    "dob_near_identifier"})


@dataclass(frozen=True)
class Leak:
    """One suspected disclosure in a published file.

    ``file`` the path; ``line`` 1-based line of the text it was found in (see
    ``location``: a notebook cell, a PDF page, a decoded payload); ``offset`` 0-based
    character offset within the line; ``matched`` the matched text, masked (first
    character kept); ``rule`` one of ``known_identifier``, ``postcode``,
    ``date_of_birth``, ``upn_shape``, ``dob_near_identifier``, ``dob_column``,
    ``small_count``, ``unscannable``; ``kind`` the warehouse columns the value is held
    in (``UPN``, ``SW_ID``, ``DOB``); ``detail`` a human sentence.
    """

    file: str
    line: int | None
    offset: int | None
    matched: str
    rule: str
    detail: str = ""
    location: str = ""
    kind: str = ""

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        if self.location:
            where += f" ({self.location})"
        return f"{where}: {self.rule}: {self.matched} {self.detail}".rstrip()


def mask_text(text: str) -> str:
    """Keep the first character, star the rest (``A123456789012`` -> ``A************``)."""
    if len(text) <= 1:
        return "*"
    return text[0] + "*" * (len(text) - 1)


#: Fewest files scanned in worker processes: below it, starting them costs more than it saves.
PARALLEL_FROM = 16
#: What the worker processes scan against, set before they are forked (see ``scan``).
_SHARED: tuple[IdentifierSet, frozenset[dt.date]] | None = None


def scan(paths: Iterable[str | Path] | str | Path,
         identifiers: IdentifierSet | Iterable[str] | None = None,
         *, shown_dates: Iterable[dt.date] = (), jobs: int = 1) -> list[Leak]:
    """Scan published files (or folders, recursively) for suspected disclosures.

    ``identifiers``: what the warehouse holds (``identifiers_from_warehouse``), or plain
    strings taken as ids. ``shown_dates``: dates the report legitimately shows
    (``report_dates``), never flagged alone as a date of birth. Rules, besides the
    warehouse's values as whole words (``known_identifier``, ``postcode``,
    ``date_of_birth``): ``upn_shape`` (a capital letter and 12 digits, or 11 digits and a
    letter, standing alone); ``dob_near_identifier`` (any date within 60 characters of an
    id or UPN on the same line); in CSVs ``dob_column`` (a column named like a date of
    birth); ``small_count`` (1 to 5 in a ``numerator``, ``denominator`` or ``count``
    column of a CSV, an HTML table or a workbook sheet: ``leak_tables``);
    ``unscannable`` (a file or payload that cannot be read).

    ``jobs`` > 1 scans files in that many forked processes when there are at least
    ``PARALLEL_FROM`` (a national run publishes hundreds of pages); the leaks are the
    same, in the same order.
    """
    ids, shown = IdentifierSet.of(identifiers), frozenset(shown_dates)
    files = iter_files(paths)
    if jobs > 1 and len(files) >= PARALLEL_FROM and "fork" in multiprocessing.get_all_start_methods():
        return scan_in_processes(files, ids, shown, jobs)
    return [leak for path in files for leak in scan_file(path, ids, shown)]


def scan_in_processes(files: list[Path], ids: IdentifierSet, shown: frozenset[dt.date],
                      jobs: int) -> list[Leak]:
    """``scan_file`` over ``files`` in ``jobs`` forked processes, leaks in the files' order.

    The identifier set (millions of forms at national scale) reaches the workers by
    ``fork`` (shared pages, never pickled): it is put where the worker function finds it
    just before the pool starts its processes, and taken away after.
    """
    global _SHARED  # noqa: PLW0603 - the one way to hand a fork-shared object to the pool
    _SHARED = (ids, shown)
    try:
        with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("fork")) as pool:
            per_file = list(pool.map(_scan_shared, files, chunksize=4))
    finally:
        _SHARED = None
    return [leak for leaks in per_file for leak in leaks]


def _scan_shared(path: Path) -> list[Leak]:
    """``scan_file`` in a worker process, against the set the parent forked with."""
    if _SHARED is None:
        raise RuntimeError("the leak scan's worker started without its identifier set")
    return scan_file(path, *_SHARED)


#: The name earlier versions used.
scan_for_leaks = scan


def iter_files(paths: Iterable[str | Path] | str | Path) -> list[Path]:
    """The files under ``paths`` (files as given, folders recursively, sorted)."""
    if isinstance(paths, (str, Path)):
        paths = [paths]
    files: list[Path] = []
    for given in paths:
        p = Path(given)
        if p.is_dir():
            files.extend(sorted(f for f in p.rglob("*") if f.is_file()))
        elif p.is_file():
            files.append(p)
    return files


def scan_file(path: Path, ids: IdentifierSet, shown: frozenset[dt.date]) -> list[Leak]:
    """Every leak in one file: each of its texts, what could not be read, CSV columns."""
    name = str(path)
    texts, unreadable = file_texts(path)
    leaks = [to_leak(name, hit, location) for location, text in texts
             for hit in text_hits(text, ids, shown)]
    leaks += [Leak(name, None, None, path.suffix, "unscannable",
                   f"{DETAILS['unscannable']}: {why}") for why in unreadable]
    if path.suffix.lower() in {".csv", ".tsv"} and texts:
        text = texts[0][1]
        leaks.extend(_scan_csv(name, text if path.suffix.lower() == ".csv"
                               else text.replace("\t", ",")))
    leaks.extend(_scan_tables(name, path.suffix.lower(), texts))
    return leaks


def _scan_tables(file: str, suffix: str, texts: list[tuple[str, str]]) -> list[Leak]:
    """Small counts in the count columns of a page's tables and a workbook's sheets."""
    if suffix in {".html", ".htm"}:
        tables = [("", t) for _, text in texts for t in leak_tables.html_tables(text)]
    elif suffix == ".xlsx":
        tables = [(where, leak_tables.sheet_table(text)) for where, text in texts
                  if where.startswith("sheet ")]
    else:
        return []
    return [Leak(file, line, None, "*", "small_count",
                 f"an unsuppressed count from 1 to {DEFAULT_THRESHOLD} in column {column!r}",
                 where)
            for where, table in tables
            for line, column in leak_tables.small_counts(table, SMALL_COUNT_COLUMNS,
                                                          _is_small_count)]


def notebook_table_leaks(shown_as: Path, notebook: Path) -> list[Leak]:
    """Small counts in the count columns of the tables ``notebook`` shows (its outputs'
    HTML and Markdown, its Markdown cells; not what the render removes by tag), as leaks
    of ``shown_as``: the PDF rendered from it, whose text has lost its tables' columns,
    so that its own scan cannot read them."""
    try:
        cells = json.loads(notebook.read_text(encoding="utf-8")).get("cells", [])
    except (OSError, ValueError) as exc:
        return [Leak(str(shown_as), None, None, shown_as.suffix, "unscannable",
                     f"{DETAILS['unscannable']}: its notebook {notebook.name} could not be "
                     f"read for its tables ({type(exc).__name__})")]
    return [Leak(str(shown_as), None, None, "*", "small_count",
                 f"an unsuppressed count from 1 to {DEFAULT_THRESHOLD} in column {column!r}",
                 f"a table of its notebook's cell {index}, line {line}")
            for index, cell in enumerate(cells)
            for html in shown_html(cell)
            for table in leak_tables.html_tables(html)
            for line, column in leak_tables.small_counts(table, SMALL_COUNT_COLUMNS,
                                                          _is_small_count)]


def to_leak(file: str, hit: Hit, location: str) -> Leak:
    """A text hit as a leak of ``file``, masked, with where it was found."""
    where = "; ".join(x for x in (location, hit.via) if x)
    detail = DETAILS[hit.rule].format(kind=hit.kind or "known identifier")
    matched = mask_text(hit.value) if hit.rule in MASKED else hit.value
    return Leak(file, hit.line, hit.offset, matched, hit.rule, detail, where, hit.kind)


def _scan_csv(file: str, text: str) -> list[Leak]:
    """Date-of-birth columns and small counts in count columns."""
    leaks: list[Leak] = []
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        return leaks
    header = [h.strip().lstrip("\ufeff") for h in rows[0]]
    small_cols = [i for i, h in enumerate(header) if h.lower() in SMALL_COUNT_COLUMNS]
    leaks.extend(Leak(file, 1, None, h, "dob_column", "a date-of-birth column")
                 for h in header if DOB_COLUMN_PATTERN.match(h))
    for lineno, row in enumerate(rows[1:], start=2):
        for i in small_cols:
            if i < len(row) and _is_small_count(row[i]):
                leaks.append(
                    Leak(file, lineno, None, "*", "small_count",
                         f"an unsuppressed count from 1 to {DEFAULT_THRESHOLD} in column "
                         f"{header[i]!r}")
                )
    return leaks


#: A count as a table shows it: the number, perhaps with its share in brackets ("2 (40%)").
_COUNT_CELL = re.compile(r"\s*([0-9]+(?:[.,]0+)?)\s*(?:\(.*\))?\s*")


def _is_small_count(cell: str) -> bool:
    match = _COUNT_CELL.fullmatch(cell)
    if not match:
        return False
    num = float(match.group(1).replace(",", "."))
    return num.is_integer() and 1 <= num <= DEFAULT_THRESHOLD
