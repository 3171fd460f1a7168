"""The leak scan as it was before issue 7, frozen: the oracle of the equivalence test.

A copy of ``lib/csc_outcomes/reporting/leak_scan.py`` at commit ebfeba9 (one regular
expression alternating every identifier), kept only so that ``test_leak_scan.py`` can
show the new scan finds every leak this one found, and ``benchmarks/leak_scan`` can
time it. Not used by the kit.
"""

from __future__ import annotations

import csv
import io
import json
import re
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pypdf import PdfReader

from csc_outcomes.reporting.disclosure import DEFAULT_THRESHOLD

__all__ = [
    "DATE_PATTERN",
    "DOB_COLUMN_PATTERN",
    "DOB_WINDOW",
    "SMALL_COUNT_COLUMNS",
    "UPN_PATTERN",
    "Leak",
    "mask_text",
    "scan_for_leaks",
]


@dataclass(frozen=True)
class Leak:
    """One suspected disclosure in a published file.

    ``file`` the path; ``line`` 1-based line (or notebook cell and line, see
    ``location``); ``offset`` 0-based character offset within the line; ``matched`` the
    matched text, masked (first character kept); ``rule`` one of
    ``known_identifier``, ``upn_shape``, ``dob_near_identifier``, ``dob_column``,
    ``small_count``; ``detail`` a human sentence.
    """

    file: str
    line: int | None
    offset: int | None
    matched: str
    rule: str
    detail: str = ""
    location: str = ""

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        if self.location:
            where += f" ({self.location})"
        return f"{where}: {self.rule}: {self.matched} {self.detail}".rstrip()


#: A UPN is a check letter then 12 digits (a temporary UPN ends in a letter instead).
UPN_PATTERN = re.compile(r"(?<![A-Za-z0-9])[A-Z][0-9]{11}[0-9A-Z](?![A-Za-z0-9])")

_MONTHS = (
    "jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|jun(?:e)?|jul(?:y)?|"
    "aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
)
#: Dates as they are written: 03/04/2012, 3-4-2012, 2012-04-03, 3 April 2012.
DATE_PATTERN = re.compile(
    r"(?<![0-9])(?:"
    r"[0-3]?[0-9][/.-][01]?[0-9][/.-](?:19|20)[0-9]{2}"
    r"|(?:19|20)[0-9]{2}-[01][0-9]-[0-3][0-9]"
    rf"|[0-3]?[0-9] (?:{_MONTHS}) (?:19|20)[0-9]{{2}}"
    r")(?![0-9])",
    re.IGNORECASE,
)
DOB_COLUMN_PATTERN = re.compile(
    r"^(?:dob|mc_dob|personbirthdate|expectedpersonbirthdate|date_?of_?birth|birth_?date)$",
    re.IGNORECASE,
)
SMALL_COUNT_COLUMNS = frozenset({"numerator", "denominator", "count"})

#: How near (in characters, on the same line) a date must be to an identifier.
DOB_WINDOW = 60

_TEXT_SUFFIXES = {".html", ".htm", ".txt", ".md", ".json", ".csv", ".svg", ".tex", ".qmd", ".xml", ".tsv"}


def mask_text(text: str) -> str:
    """Keep the first character, star the rest (``A123456789012`` -> ``A************``)."""
    if len(text) <= 1:
        return "*"
    return text[0] + "*" * (len(text) - 1)


def scan_for_leaks(
    paths: Iterable[str | Path] | str | Path,
    identifiers: set[str] | None = None,
    *,
    min_identifier_length: int = 4,
) -> list[Leak]:
    """Scan published files (or folders, recursively) for suspected disclosures.

    Rules:

    * ``known_identifier``: any of ``identifiers`` (child ids, UPNs) as a whole token.
      Identifiers shorter than ``min_identifier_length`` are skipped (a two-digit id
      would match every table); pass ids long enough to be specific.
    * ``upn_shape``: a capital letter followed by 12 digits (or 11 digits and a letter)
      standing alone.
    * ``dob_near_identifier``: a date (``03/04/2012``, ``2012-04-03``, ``3 April 2012``)
      within 60 characters of an identifier hit on the same line.
    * ``dob_column``: a CSV column named like a date of birth (``DOB``,
      ``PersonBirthDate``, ``date_of_birth``).
    * ``small_count``: a value from 1 to 5 in a CSV column named ``numerator``,
      ``denominator`` or ``count``.

    Files read: ``.csv`` (text rules and column rules), ``.ipynb`` (cell sources and
    text outputs; image data skipped), ``.html``, ``.json``, ``.txt``, ``.md`` and
    other text files, ``.pdf`` (its text, through ``pypdf``; a PDF that cannot be read
    is reported in a warning). Other binary files (images) are skipped.
    """
    id_pattern = _identifier_pattern(identifiers or set(), min_identifier_length)
    leaks: list[Leak] = []
    for path in _iter_files(paths):
        leaks.extend(_scan_file(path, id_pattern))
    return leaks


def _iter_files(paths: Iterable[str | Path] | str | Path) -> list[Path]:
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


def _identifier_pattern(identifiers: Iterable[str], min_length: int) -> re.Pattern | None:
    ids = sorted(
        {str(i).strip() for i in identifiers if i is not None and len(str(i).strip()) >= min_length},
        key=len,
        reverse=True,
    )
    if not ids:
        return None
    alt = "|".join(re.escape(i) for i in ids)
    return re.compile(rf"(?<![A-Za-z0-9])(?:{alt})(?![A-Za-z0-9])")


def _scan_file(path: Path, id_pattern: re.Pattern | None) -> list[Leak]:
    """Every leak in one file, read the way its suffix says."""
    name = str(path)
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        return _scan_text(name, _pdf_text(path), id_pattern, location="pdf text")
    if suffix == ".ipynb":
        return _scan_notebook(path, id_pattern)
    text = _plain_text(path, suffix)
    if text is None:
        return []
    leaks = _scan_text(name, text, id_pattern)
    if suffix in {".csv", ".tsv"}:
        leaks.extend(_scan_csv(name, text if suffix == ".csv" else text.replace("\t", ",")))
    return leaks


def _plain_text(path: Path, suffix: str) -> str | None:
    """The text of a file, or None for a binary file (an image: nothing to read)."""
    if suffix in _TEXT_SUFFIXES:
        return path.read_text(encoding="utf-8", errors="replace")
    raw = path.read_bytes()
    if b"\x00" in raw[:4096]:
        return None
    return raw.decode("utf-8", errors="replace")


def _scan_text(
    file: str,
    text: str,
    id_pattern: re.Pattern | None,
    location: str = "",
) -> list[Leak]:
    """Identifier, UPN-shape and date-near-identifier hits, line by line."""
    leaks: list[Leak] = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        hits, found = _identifier_hits(file, lineno, line, id_pattern, location)
        leaks.extend(found)
        if hits:
            leaks.extend(_dates_near(file, lineno, line, hits, location))
    return leaks


def _identifier_hits(
    file: str, lineno: int, line: str, id_pattern: re.Pattern | None, location: str
) -> tuple[list[tuple[int, int]], list[Leak]]:
    """Known identifiers, then UPN-shaped strings not already matched: (spans, leaks)."""
    spans: list[tuple[int, int]] = []
    leaks: list[Leak] = []
    if id_pattern is not None:
        for m in id_pattern.finditer(line):
            spans.append((m.start(), m.end()))
            leaks.append(Leak(file, lineno, m.start(), mask_text(m.group()), "known_identifier",
                              "a known child identifier or UPN", location))
    for m in UPN_PATTERN.finditer(line):
        if (m.start(), m.end()) not in spans:
            spans.append((m.start(), m.end()))
            leaks.append(Leak(file, lineno, m.start(), mask_text(m.group()), "upn_shape",
                              "a UPN-shaped string (a letter and 12 digits)", location))
    return spans, leaks


def _dates_near(
    file: str, lineno: int, line: str, spans: list[tuple[int, int]], location: str
) -> list[Leak]:
    """Dates within ``DOB_WINDOW`` characters of an identifier on the same line."""
    leaks: list[Leak] = []
    for m in DATE_PATTERN.finditer(line):
        if any(m.start() - e <= DOB_WINDOW and s - m.end() <= DOB_WINDOW for s, e in spans):
            leaks.append(Leak(file, lineno, m.start(), mask_text(m.group()),
                              "dob_near_identifier", "a date next to an identifier", location))
    return leaks


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


def _is_small_count(cell: str) -> bool:
    try:
        num = float(cell.strip())
    except ValueError:
        return False
    return num.is_integer() and 1 <= num <= DEFAULT_THRESHOLD


def _scan_notebook(path: Path, id_pattern: re.Pattern | None) -> list[Leak]:
    """Cell sources and text outputs of a notebook (the whole file if it is not JSON)."""
    name = str(path)
    raw = path.read_text(encoding="utf-8", errors="replace")
    try:
        nb = json.loads(raw)
    except json.JSONDecodeError:
        return _scan_text(name, raw, id_pattern)
    leaks: list[Leak] = []
    for location, text in _notebook_texts(nb):
        leaks.extend(_scan_text(name, text, id_pattern, location=location))
    return leaks


def _joined(x: Any) -> str:
    return "".join(x) if isinstance(x, list) else str(x)


def _notebook_texts(nb: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(location, text) for every cell source and every text output; images skipped."""
    out: list[tuple[str, str]] = []
    for n, cell in enumerate(nb.get("cells", []), start=1):
        out.append((f"cell {n} source", _joined(cell.get("source", ""))))
        for k, output in enumerate(cell.get("outputs", []) or [], start=1):
            out.extend(_output_texts(f"cell {n} output {k}", output))
    return out


def _output_texts(where: str, output: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(location, text) of one cell output: stream text, text/JSON data, traceback."""
    out: list[tuple[str, str]] = []
    if "text" in output:
        out.append((where, _joined(output["text"])))
    for mime, data in (output.get("data") or {}).items():
        if mime.startswith("text/") or mime.endswith("json"):
            text = _joined(data) if not isinstance(data, dict) else json.dumps(data)
            out.append((f"{where} {mime}", text))
    if "traceback" in output:
        out.append((f"{where} traceback", "\n".join(output["traceback"])))
    return out


def _pdf_text(path: Path) -> str:
    """The text of a PDF; a PDF pypdf cannot read gives '' and a warning naming it."""
    try:
        reader = PdfReader(str(path))
        return "\n".join(page.extract_text() or "" for page in reader.pages)
    except Exception as exc:  # noqa: BLE001 - any damaged PDF is reported (warning), not fatal
        warnings.warn(f"leak scan: {path} could not be read ({exc})", stacklevel=2)
        return ""
