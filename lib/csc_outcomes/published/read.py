"""Read one EES file, checking every cell the kit uses against the contract.

Reading is strict because the figures sit beside an LA's own in published reports: a
shifted column or a number where a symbol belongs would be shown as a fact. Every
problem names the file, line and column; symbols (``c``, ``x``, ...) are kept as text
and never read as numbers.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from csc_outcomes.paths import published_dir
from csc_outcomes.published.contract import (
    Publication,
    PublishedFileError,
    ees_contract,
    publication_for,
)

_YEAR = re.compile(r"\d{4}")
_ACADEMIC_YEAR = re.compile(r"(\d{4})(\d{2})")
_NUMBER = re.compile(r"-?\d+(\.\d+)?")


def year_ending(time_period: str) -> int | None:
    """2025 for ``2025`` (year ending 31 March 2025) and for ``202425`` (academic 2024/25)."""
    if _YEAR.fullmatch(time_period):
        return int(time_period)
    m = _ACADEMIC_YEAR.fullmatch(time_period)
    if m and (int(m.group(1)) + 1) % 100 == int(m.group(2)):
        return int(m.group(1)) + 1
    return None


def read_rows(path: Path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The header and the ``(line, fields)`` rows of a CSV, each row as long as the header."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh)
            header = [h.strip() for h in next(reader, [])]
            rows = []
            for fields in reader:
                if len(fields) != len(header):
                    raise PublishedFileError(path, f"{len(fields)} fields where the header has "
                                             f"{len(header)}", line=reader.line_num)
                rows.append((reader.line_num, fields))
    except UnicodeDecodeError as exc:
        raise PublishedFileError(path, f"not UTF-8 text ({exc.reason})") from exc
    except csv.Error as exc:
        raise PublishedFileError(path, f"not a readable CSV ({exc})") from exc
    if not header or not rows:
        raise PublishedFileError(path, "the file has no header or no rows")
    return header, rows


def _check_columns(path: Path, header: list[str], needed: Iterable[str]) -> None:
    missing = [c for c in needed if c not in header]
    if missing:
        raise PublishedFileError(path, f"column(s) {', '.join(missing)} missing; is this the "
                                 "EES file of the publication its name says?", line=1)


def _check_geography(path: Path, frame: pd.DataFrame) -> None:
    ees = ees_contract()
    for col, allowed in (("geographic_level", ees.geographic_levels),
                         ("time_identifier", ees.time_identifiers)):
        bad = frame[~frame[col].isin(list(allowed))]
        if len(bad):
            row = bad.iloc[0]
            raise PublishedFileError(path, f"unknown {col}", line=int(row["line"]), column=col,
                                     value=row[col])
    bad = frame[frame["year"].isna()]
    if len(bad):
        row = bad.iloc[0]
        raise PublishedFileError(path, "time_period is not a year (2025) or an academic year "
                                 "(202425)", line=int(row["line"]), column="time_period",
                                 value=row["time_period"])
    blank = frame[frame["area_code"] == ""]
    if len(blank):
        row = blank.iloc[0]
        col = ees.geographic_levels[row["geographic_level"]]["code_column"]
        raise PublishedFileError(path, f"{row['geographic_level']} row without a code",
                                 line=int(row["line"]), column=col, value="")


def check_numbers(path: Path, frame: pd.DataFrame, columns: Iterable[str]) -> None:
    """Every value in ``columns`` is a number or an EES symbol; else the first offender."""
    symbols = set(ees_contract().symbols)
    for col in columns:
        values = frame[col].str.strip()
        ok = values.str.fullmatch(_NUMBER.pattern) | values.isin(symbols)
        if not ok.all():
            row = frame[~ok].iloc[0]
            raise PublishedFileError(path, "neither a number nor an EES symbol "
                                     f"({', '.join(sorted(symbols))})", line=int(row["line"]),
                                     column=col, value=row[col])


def read_ees(path: str | Path, columns: Iterable[str] = (), numeric: Iterable[str] = ()) -> pd.DataFrame:
    """An EES file as text, with ``line``, ``year``, ``area_code`` and ``area_name`` added.

    ``columns`` must be present besides the standard ones; ``numeric`` must hold numbers
    or symbols in every row. Raises :class:`PublishedFileError` on the first problem.
    """
    path = Path(path)
    ees = ees_contract()
    header, rows = read_rows(path)
    _check_columns(path, header, [*ees.standard_columns, *columns])
    frame = pd.DataFrame([f for _, f in rows], columns=header, dtype=str)
    frame["line"] = [line for line, _ in rows]
    frame["year"] = frame["time_period"].str.strip().map(year_ending).astype("Int64")
    frame["geographic_level"] = frame["geographic_level"].str.strip()
    area_code = pd.Series("", index=frame.index, dtype=str)
    area_name = pd.Series("", index=frame.index, dtype=str)
    for level, cols in ees.geographic_levels.items():
        at = frame["geographic_level"] == level
        area_code[at] = frame.loc[at, cols["code_column"]].str.strip()
        area_name[at] = frame.loc[at, cols["name_column"]].str.strip()
    frame["area_code"], frame["area_name"] = area_code, area_name
    _check_geography(path, frame)
    check_numbers(path, frame, numeric)
    return frame


def publication_files(folder: str | Path | None = None) -> list[tuple[Path, Publication]]:
    """The files of ``folder`` (default ``published/``) that a publication recognises."""
    folder = Path(folder) if folder else published_dir()
    if not folder.is_dir():
        raise FileNotFoundError(f"no published statistics folder at {folder}")
    found = [(p, publication_for(p.name)) for p in sorted(folder.glob("*.csv"))]
    return [(p, pub) for p, pub in found if pub is not None]
