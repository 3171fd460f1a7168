"""Faults real exports carry, injected into a small share of an LA's CSV files, so that
the ingest is tested on files as LAs really send them.

Kinds (each recorded in ``synth_truth.json`` with ``la``, ``file``, ``line``,
``column``, ``kind`` and the faulty ``value``; ``line`` is the 1-based line in the
written file, header = 1, and is ``null`` for a whole-file fault):

- ``bom``: UTF-8 byte-order mark at the start of the file;
- ``encoding_cp1252``: the file is encoded Windows-1252 and holds a non-ASCII character
  (an en dash in some ``outcome`` values of a contacts file);
- ``crlf``: Windows line endings;
- ``trailing_blanks``: blanks around a value;
- ``blank_line``: an empty line between rows;
- ``lower_case_code``: a code in lower case;
- ``impossible_date``: a date that does not exist (``31/02/2024``);
- ``dec_before_decom``: an episode whose ``DEC`` is before its ``DECOM``;
- ``duplicate_row``: a row repeated on the next line (``line`` is the copy);
- ``extra_column``: a column the format does not have (``column`` names it).

The CIN census XML's faults are injected by ``xml_faults.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

CODE_COLUMNS = {"RNE", "LS", "PLACE", "PLACE_PROVIDER", "REC", "ETHNIC", "MISSING",
                "REVIEW_CODE", "IN_TOUCH", "ACTIV", "ACCOM", "category", "outcome", "SW_REASON"}
EXTRA_COLUMN = "LOCAL_NOTES"


@dataclass
class CsvFile:
    """One CSV file of an LA as written, before faults: its text and its date columns."""

    relpath: str                 # relative to the output folder, e.g. SYN01/ssda903/2024/header.csv
    text: str
    date_columns: list[str] = field(default_factory=list)


Cell = tuple[str, int, int, str, list[str]]   # (path, line index, column index, column, cells)


def _cells(line: str) -> list[str]:
    return line.split(",")


def inject(files: list[CsvFile], la: str, rng: np.random.Generator, cp1252: bool) -> tuple[dict[str, bytes], list[dict]]:
    """Inject faults into some of ``files``; return the bytes of every file and the records.

    In order: faults in single cells, an extra column, duplicated rows and blank lines
    (the records' lines renumbered to the written file), then whole-file faults
    (Windows-1252 with ``cp1252``, byte-order marks, CRLF line endings).
    """
    f = _CsvFaults(files, la, rng)
    if f.with_rows:
        f.cell_faults()
        f.extra_column()
        f.plan_rows()
    f.apply_rows()
    encoding = dict.fromkeys(f.names, "utf-8")
    if cp1252:
        f.cp1252_contacts(encoding)
    bom, crlf = f.bom_and_crlf(encoding)
    out = {p: f.encoded(p, encoding[p], p in bom, p in crlf) for p in f.names}
    f.records.sort(key=lambda r: (r["file"], r["line"] or 0, r["kind"]))
    return out, f.records


class _CsvFaults:
    """The lines of an LA's CSV files while faults go in, and the records of them.

    ``line`` in a cell fault's record is first the 0-based index into the file's lines
    (header = 0); :meth:`apply_rows` turns it into the 1-based line of the written file.
    """

    def __init__(self, files: list[CsvFile], la: str, rng: np.random.Generator):
        self.la = la
        self.rng = rng
        self.lines = {f.relpath: f.text.split("\n")[:-1] for f in files}   # text ends with "\n"
        self.dates = {f.relpath: f.date_columns for f in files}
        self.names = sorted(self.lines)
        self.with_rows = [p for p in self.names if len(self.lines[p]) > 1]
        self.records: list[dict] = []
        self.cell_recs: dict[str, list[dict]] = {p: [] for p in self.names}
        self.used: set[tuple[str, int]] = set()
        self.row_ops: dict[str, list[tuple[str, int]]] = {p: [] for p in self.names}

    def record(self, path: str, line: int | None, column: str | None, kind: str, value: str) -> None:
        r = {"la": self.la, "file": path, "line": line, "column": column, "kind": kind, "value": value}
        if line is not None:
            self.cell_recs[path].append(r)
        self.records.append(r)

    def pick_cell(self, paths: list[str], want: Callable[[str, str], bool]) -> Cell | None:
        """A random unused non-blank cell whose (path, column) satisfies ``want``."""
        for _ in range(50):
            p = paths[self.rng.integers(0, len(paths))]
            head = _cells(self.lines[p][0])
            cols = [i for i, c in enumerate(head) if want(p, c)]
            if not cols or len(self.lines[p]) < 2:
                continue
            li = int(self.rng.integers(1, len(self.lines[p])))
            if (p, li) in self.used:
                continue
            ci = cols[int(self.rng.integers(0, len(cols)))]
            cells = _cells(self.lines[p][li])
            if ci < len(cells) and cells[ci].strip():
                self.used.add((p, li))
                return p, li, ci, head[ci], cells
        return None

    def cell_fault(self, kind: str, times: int, paths: list[str], want: Callable[[str, str], bool],
                   change: Callable[[str, list[str], int], str | None]) -> None:
        """``times`` tries at a fault of ``kind``: pick a cell, write ``change``'s value
        (None: this cell cannot take the fault, skip it)."""
        for _ in range(times):
            got = self.pick_cell(paths, want)
            if not got:
                continue
            p, li, ci, col, cells = got
            v = change(p, cells, ci)
            if v is None:
                continue
            cells[ci] = v
            self.lines[p][li] = ",".join(cells)
            self.record(p, li, col, kind, v)

    def cell_faults(self) -> None:
        rows = self.with_rows
        self.cell_fault("trailing_blanks", 4, rows, lambda p, c: True,
                        lambda p, cells, ci: f" {cells[ci]}  ")
        self.cell_fault("lower_case_code", 4, rows, lambda p, c: c in CODE_COLUMNS,
                        lambda p, cells, ci: cells[ci].lower() if cells[ci].lower() != cells[ci] else None)
        self.cell_fault("impossible_date", 2, rows, lambda p, c: c in self.dates[p] and c != "DECOM",
                        lambda p, cells, ci: f"31/02/{cells[ci].strip()[-4:]}")
        eps = [p for p in rows if p.endswith("episodes.csv")]
        if eps:
            self.cell_fault("dec_before_decom", 2, eps, lambda p, c: c == "DEC", self._dec_before_decom)

    def _dec_before_decom(self, p: str, cells: list[str], ci: int) -> str | None:
        """A DEC 1-29 days before the row's DECOM (None when DECOM is not a date)."""
        decom = cells[_cells(self.lines[p][0]).index("DECOM")]
        try:
            start = np.datetime64(f"{decom[6:10]}-{decom[3:5]}-{decom[0:2]}")
        except ValueError:
            return None
        dd = str(start - int(self.rng.integers(1, 30)))
        return f"{dd[8:10]}/{dd[5:7]}/{dd[0:4]}"

    def extra_column(self) -> None:
        """A column the format does not have, on one file (not a contacts file)."""
        p = self.with_rows[int(self.rng.integers(0, len(self.with_rows)))]
        if not p.endswith("contacts.csv"):
            self.lines[p] = [ln + ("," + EXTRA_COLUMN if i == 0 else ",x" if i % 7 == 0 else ",")
                             for i, ln in enumerate(self.lines[p])]
            self.record(p, None, EXTRA_COLUMN, "extra_column", EXTRA_COLUMN)

    def plan_rows(self) -> None:
        """Choose three rows to duplicate and two places for a blank line."""
        for kind, times in (("dup", 3), ("blank", 2)):
            for _ in range(times):
                p = self.with_rows[int(self.rng.integers(0, len(self.with_rows)))]
                self.row_ops[p].append((kind, int(self.rng.integers(1, len(self.lines[p])))))

    def apply_rows(self) -> None:
        """Insert the planned duplicates and blank lines, record them, and give every
        cell fault the 1-based line it has in the written file."""
        for p in self.names:
            ops = self.row_ops[p]
            if not ops:
                for r in self.cell_recs[p]:
                    r["line"] = r["line"] + 1
                continue
            new: list[str] = []
            pos: dict[int, int] = {}
            pending: list[tuple[str, int]] = []
            for i, ln in enumerate(self.lines[p]):
                for _ in range(ops.count(("blank", i))):
                    new.append("")
                    pending.append(("blank_line", len(new)))
                new.append(ln)
                pos[i] = len(new)          # 1-based line of old index i
                for _ in range(ops.count(("dup", i))):
                    new.append(ln)
                    pending.append(("duplicate_row", len(new)))
            for r in self.cell_recs[p]:
                r["line"] = pos[r["line"]]
            self.records.extend({"la": self.la, "file": p, "line": line, "column": None,
                                 "kind": kind, "value": ""} for kind, line in pending)
            self.lines[p] = new

    def cp1252_contacts(self, encoding: dict[str, str]) -> None:
        """The contacts file in Windows-1252, with an en dash in up to five outcomes."""
        cp = [p for p in self.names if p.endswith("contacts.csv")]
        if not cp:
            return
        p = cp[0]
        oc = _cells(self.lines[p][0]).index("outcome")
        changed = 0
        for i in range(1, len(self.lines[p])):
            cells = _cells(self.lines[p][i])
            if len(cells) > oc and cells[oc] == "SIGNPOSTED" and changed < 5:
                cells[oc] = "SIGNPOSTED \u2013 UNIVERSAL SERVICES"
                self.lines[p][i] = ",".join(cells)
                changed += 1
        encoding[p] = "cp1252"
        self.records.append({"la": self.la, "file": p, "line": None, "column": "outcome",
                             "kind": "encoding_cp1252", "value": f"{changed} values with an en dash"})

    def bom_and_crlf(self, encoding: dict[str, str]) -> tuple[set[str], set[str]]:
        """Two UTF-8 files get a byte-order mark, two files Windows line endings."""
        plain = [p for p in self.names if encoding[p] == "utf-8"]
        chosen = {}
        for kind, among in (("bom", plain), ("crlf", self.names)):
            picks = [among[int(i)] for i in self.rng.choice(len(among), min(2, len(among)), replace=False)]
            chosen[kind] = set(picks)
            self.records.extend({"la": self.la, "file": p, "line": None, "column": None, "kind": kind,
                                 "value": ""} for p in picks)
        return chosen["bom"], chosen["crlf"]

    def encoded(self, p: str, encoding: str, bom: bool, crlf: bool) -> bytes:
        eol = "\r\n" if crlf else "\n"
        data = (eol.join(self.lines[p]) + eol).encode(encoding)
        return b"\xef\xbb\xbf" + data if bom else data
