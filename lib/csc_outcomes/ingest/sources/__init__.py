"""Readers, one per input format: ``ssda903`` (CSV and XML), ``cin_census`` (XML),
``school_census`` and ``contacts`` (CSV), with ``text`` for decoding.

Readers only read: they return :class:`RawTable` objects holding every cell as a
stripped-or-not string under the contract's column names, with the source line of
each row. Typing and validation are ``csc_outcomes.ingest.contracts``' job.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from csc_outcomes.ingest.contracts import load_contract
from csc_outcomes.ingest.sources.text import read_csv_text
from csc_outcomes.keys import TABLE_SOURCE


class FileRejected(Exception):
    """A file-level problem: the file cannot be used at all (the message says why)."""

    def __init__(self, message: str, rule: str = "file_unreadable", line: int | None = None):
        super().__init__(message)
        self.rule = rule
        self.line = line


@dataclass
class RawTable:
    """Rows of one canonical table read from one file, as strings.

    ``notes`` are file-level remarks that do not stop the file (extra columns, an
    optional column missing): dicts with line, column, value, rule, message, severity.
    """

    table: str
    frame: pd.DataFrame
    lines: np.ndarray
    notes: list[dict] = field(default_factory=list)
    bad_lines: list[tuple[int, str]] = field(default_factory=list)


def match_columns(found: list[str], table: str, path_label: str, aliases: dict[str, str] | None = None
                  ) -> tuple[dict[str, str], list[dict]]:
    """Map the columns found in a file to the contract's names (case-insensitive).

    Returns ``(rename, notes)``. Raises :class:`FileRejected` when a required column
    is missing (naming the table the columns look like, when another fits better).
    """
    contract = load_contract(table)
    wanted = {c.lower(): c for c in contract.fields}
    alias = {k.lower(): v for k, v in {**contract.aliases, **(aliases or {})}.items()}
    rename: dict[str, str] = {}
    extra: list[str] = []
    for col in found:
        key = col.strip().lower()
        target = wanted.get(key) or alias.get(key)
        if target and target not in rename.values():
            rename[col] = target
        else:
            extra.append(col)
    present = set(rename.values())
    missing_req = [c for c in contract.required if c not in present]
    if missing_req:
        hint = guess_table(found, exclude=table)
        more = f" The columns look like the '{hint}' table; check the file name." if hint else ""
        raise FileRejected(
            f"{path_label}: required column(s) {', '.join(missing_req)} missing from the {table} table "
            f"(found: {', '.join(found) or 'none'}). Add the column(s) with these names.{more}",
            rule="missing_column",
            line=1,
        )
    notes = []
    if extra:
        notes.append({"line": 1, "column": ", ".join(extra), "value": None, "rule": "extra_columns",
                      "message": f"{path_label}: column(s) {', '.join(extra)} are not part of the {table} "
                                 "contract and were left out", "severity": "warning"})
    missing_opt = [c for c in contract.fields if c not in present]
    if missing_opt:
        notes.append({"line": 1, "column": ", ".join(missing_opt), "value": None,
                      "rule": "missing_optional_column",
                      "message": f"{path_label}: optional column(s) {', '.join(missing_opt)} absent; "
                                 "read as blank", "severity": "warning"})
    return rename, notes


def guess_table(found: list[str], exclude: str | None = None) -> str | None:
    """The canonical table whose columns best match ``found`` (None when nothing fits)."""
    cols = {c.strip().lower() for c in found}
    best, score = None, 0.0
    for t in TABLE_SOURCE:
        if t == exclude:
            continue
        fields = {f.lower() for f in load_contract(t).fields}
        s = len(cols & fields) / max(len(fields), 1)
        if s > score:
            best, score = t, s
    return best if score >= 0.6 else None


def table_from_csv(path: Path, table: str, label: str) -> RawTable:
    """Read a CSV file for ``table``: decode, keep line numbers, map columns."""
    try:
        raw = read_csv_text(path)
    except (ValueError, OSError) as exc:  # a data problem (pandas' parser errors are ValueErrors)
        raise FileRejected(f"{label}: could not be read as CSV ({exc}); save it as comma-separated text",
                           rule="file_unreadable") from None
    rename, notes = match_columns(list(raw.frame.columns), table, label)
    frame = raw.frame[list(rename)].rename(columns=rename)
    return RawTable(table=table, frame=frame, lines=raw.lines, notes=notes, bad_lines=raw.bad_lines)
