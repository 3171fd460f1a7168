"""Faults real exports carry, injected into a small share of an LA's CSV files and into
its CIN census XML (``inject_xml``, one fault of each XML kind per LA).

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

XML kinds (``impossible_date``, ``lower_case_code``, ``boolean_yes``,
``whitespace_in_date``) are described at ``inject_xml``; their records add ``element``,
``element_line``, ``record`` and ``child``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

CODE_COLUMNS = {"RNE", "LS", "PLACE", "PLACE_PROVIDER", "REC", "ETHNIC", "MISSING",
                "REVIEW_CODE", "IN_TOUCH", "ACTIV", "ACCOM", "category", "outcome", "SW_REASON"}
EXTRA_COLUMN = "LOCAL_NOTES"


@dataclass
class CsvFile:
    relpath: str                 # relative to the output folder, e.g. SYN01/ssda903/2024/header.csv
    text: str
    date_columns: list[str] = field(default_factory=list)


def _cells(line: str) -> list[str]:
    return line.split(",")


def inject(files: list[CsvFile], la: str, rng: np.random.Generator, cp1252: bool) -> tuple[dict[str, bytes], list[dict]]:
    """Inject faults into some of ``files``; return the bytes of every file and the records."""
    records: list[dict] = []
    lines = {f.relpath: f.text.split("\n")[:-1] for f in files}   # text ends with "\n"
    dates = {f.relpath: f.date_columns for f in files}
    names = sorted(lines)
    with_rows = [p for p in names if len(lines[p]) > 1]
    cell_recs: dict[str, list[dict]] = {p: [] for p in names}
    used: set[tuple[str, int]] = set()

    def rec(path, line_idx, column, kind, value):
        r = {"la": la, "file": path, "line": line_idx, "column": column, "kind": kind, "value": value}
        if line_idx is not None:
            cell_recs[path].append(r)
        records.append(r)
        return r

    def pick_cell(paths, want):
        """A random (path, line index, column, value) whose column satisfies ``want``."""
        for _ in range(50):
            p = paths[rng.integers(0, len(paths))]
            head = _cells(lines[p][0])
            cols = [i for i, c in enumerate(head) if want(p, c)]
            if not cols or len(lines[p]) < 2:
                continue
            li = int(rng.integers(1, len(lines[p])))
            if (p, li) in used:
                continue
            ci = cols[int(rng.integers(0, len(cols)))]
            cells = _cells(lines[p][li])
            if ci < len(cells) and cells[ci].strip():
                used.add((p, li))
                return p, li, ci, head[ci], cells
        return None

    def set_cell(p, li, ci, cells, value):
        cells[ci] = value
        lines[p][li] = ",".join(cells)

    if with_rows:
        for _ in range(4):
            got = pick_cell(with_rows, lambda p, c: True)
            if got:
                p, li, ci, col, cells = got
                v = f" {cells[ci]}  "
                set_cell(p, li, ci, cells, v)
                rec(p, li, col, "trailing_blanks", v)
        for _ in range(4):
            got = pick_cell(with_rows, lambda p, c: c in CODE_COLUMNS)
            if got:
                p, li, ci, col, cells = got
                v = cells[ci].lower()
                if v != cells[ci]:
                    set_cell(p, li, ci, cells, v)
                    rec(p, li, col, "lower_case_code", v)
        for _ in range(2):
            got = pick_cell(with_rows, lambda p, c: c in dates[p] and c != "DECOM")
            if got:
                p, li, ci, col, cells = got
                v = f"31/02/{cells[ci].strip()[-4:]}"
                set_cell(p, li, ci, cells, v)
                rec(p, li, col, "impossible_date", v)
        eps = [p for p in with_rows if p.endswith("episodes.csv")]
        for _ in range(2 if eps else 0):
            got = pick_cell(eps, lambda p, c: c == "DEC")
            if got:
                p, li, ci, col, cells = got
                head = _cells(lines[p][0])
                decom = cells[head.index("DECOM")]
                try:
                    dd = np.datetime64(f"{decom[6:10]}-{decom[3:5]}-{decom[0:2]}") - int(rng.integers(1, 30))
                except ValueError:
                    continue
                v = f"{str(dd)[8:10]}/{str(dd)[5:7]}/{str(dd)[0:4]}"
                set_cell(p, li, ci, cells, v)
                rec(p, li, col, "dec_before_decom", v)

    # extra column on one file
    structural: dict[str, list[tuple[str, int]]] = {p: [] for p in names}
    if with_rows:
        p = with_rows[int(rng.integers(0, len(with_rows)))]
        if not p.endswith("contacts.csv"):
            lines[p] = [ln + ("," + EXTRA_COLUMN if i == 0 else ",x" if i % 7 == 0 else ",")
                        for i, ln in enumerate(lines[p])]
            rec(p, None, EXTRA_COLUMN, "extra_column", EXTRA_COLUMN)
        for _ in range(3):
            p = with_rows[int(rng.integers(0, len(with_rows)))]
            structural[p].append(("dup", int(rng.integers(1, len(lines[p])))))
        for _ in range(2):
            p = with_rows[int(rng.integers(0, len(with_rows)))]
            structural[p].append(("blank", int(rng.integers(1, len(lines[p])))))

    # apply duplicates and blank lines, renumbering lines
    for p in names:
        ops = structural[p]
        if not ops:
            continue
        old = lines[p]
        new: list[str] = []
        pos = {}
        pending = []
        for i, ln in enumerate(old):
            for kind, at in ops:
                if kind == "blank" and at == i:
                    new.append("")
                    pending.append(("blank_line", len(new), ""))
            new.append(ln)
            pos[i] = len(new)          # 1-based line of old index i
            for kind, at in ops:
                if kind == "dup" and at == i:
                    new.append(ln)
                    pending.append(("duplicate_row", len(new), ""))
        for r in cell_recs[p]:
            r["line"] = pos[r["line"]]
        cell_recs[p] = []
        for kind, line, v in pending:
            records.append({"la": la, "file": p, "line": line, "column": None, "kind": kind, "value": v})
        lines[p] = new
    for p in names:           # cell faults in files without structural changes
        for r in cell_recs[p]:
            r["line"] = r["line"] + 1

    # whole-file faults: encodings and line endings
    encoding = {p: "utf-8" for p in names}
    bom = set()
    crlf = set()
    if cp1252:
        cp = [p for p in names if p.endswith("contacts.csv")]
        if cp:
            p = cp[0]
            head = _cells(lines[p][0])
            oc = head.index("outcome")
            changed = 0
            for i in range(1, len(lines[p])):
                cells = _cells(lines[p][i])
                if len(cells) > oc and cells[oc] == "SIGNPOSTED" and changed < 5:
                    cells[oc] = "SIGNPOSTED \u2013 UNIVERSAL SERVICES"
                    lines[p][i] = ",".join(cells)
                    changed += 1
            encoding[p] = "cp1252"
            records.append({"la": la, "file": p, "line": None, "column": "outcome",
                            "kind": "encoding_cp1252", "value": f"{changed} values with an en dash"})
    plain = [p for p in names if encoding[p] == "utf-8"]
    for p in [plain[int(i)] for i in rng.choice(len(plain), min(2, len(plain)), replace=False)]:
        bom.add(p)
        records.append({"la": la, "file": p, "line": None, "column": None, "kind": "bom", "value": ""})
    for p in [names[int(i)] for i in rng.choice(len(names), min(2, len(names)), replace=False)]:
        crlf.add(p)
        records.append({"la": la, "file": p, "line": None, "column": None, "kind": "crlf", "value": ""})

    out: dict[str, bytes] = {}
    for p in names:
        eol = "\r\n" if p in crlf else "\n"
        text = eol.join(lines[p]) + eol
        data = text.encode(encoding[p])
        if p in bom:
            data = b"\xef\xbb\xbf" + data
        out[p] = data
    records.sort(key=lambda r: (r["file"], r["line"] or 0, r["kind"]))
    return out, records


# --------------------------------------------------------------------------- CIN XML
#: Elements of the CIN census that XML faults go into, with the record element each belongs
#: to (the ingest's ``source_line`` of a row is the line of that record's start tag).
XML_IMPOSSIBLE_DATE = {"CINclosureDate": "CINdetails", "AssessmentAuthorisationDate": "Assessments",
                       "CINPlanEndDate": "CINPlanDates", "CPPendDate": "ChildProtectionPlans"}
XML_CODE = {"PrimaryNeedCode": "CINdetails", "ReasonForClosure": "CINdetails", "Ethnicity": "Child",
            "InitialCategoryOfAbuse": "ChildProtectionPlans"}
XML_TRUE_BOOL = {"ReferralNFA": "CINdetails", "ICPCnotRequired": "Section47", "UPNunknown": "Child"}
XML_DATE = {"CINreferralDate": "CINdetails", "PersonBirthDate": "Child",
            "AssessmentActualStartDate": "Assessments", "S47ActualStartDate": "Section47",
            "CPPstartDate": "ChildProtectionPlans"}


def inject_xml(xmls: dict[str, str], la: str, rng: np.random.Generator) -> tuple[dict[str, str], list[dict]]:
    """Inject one fault of each XML kind into the CIN census files of an LA.

    Kinds (each recorded with ``la``, ``file``, ``line``, ``column`` (the element),
    ``element``, ``kind``, ``value``, ``element_line`` (the line of the faulty element
    itself), ``record`` (the record element) and ``child`` (its ``LAchildID``)):

    - ``impossible_date``: a date that does not exist (``yyyy-02-31``);
    - ``lower_case_code``: a code in lower case;
    - ``boolean_yes``: a true boolean written ``yes``;
    - ``whitespace_in_date``: blanks and a tab around a date, inside the element.

    ``line`` is the line of the start tag of the record holding the element (``Child``,
    ``CINdetails``, ``Assessments``, ``CINPlanDates``, ``Section47`` or
    ``ChildProtectionPlans``): the line the ingest gives the row (``source_line``) and so
    quotes in its QA report. No two faults share a record. Line breaks are never added,
    so every other line stays where it was.
    """
    names = sorted(xmls)
    edits: dict[str, list[tuple[int, int, str]]] = {p: [] for p in names}
    used: set[tuple[str, str, int]] = set()
    records: list[dict] = []
    plans = [
        ("impossible_date", XML_IMPOSSIBLE_DATE, lambda v: bool(v), lambda v: f"{v[:4]}-02-31"),
        ("lower_case_code", XML_CODE, lambda v: v != v.lower(), lambda v: v.lower()),
        ("boolean_yes", XML_TRUE_BOOL, lambda v: v in ("1", "true"), lambda v: "yes"),
        ("whitespace_in_date", XML_DATE, lambda v: bool(v), lambda v: f"  {v}\t "),
    ]
    for kind, elements, want, change in plans:
        pattern = re.compile(r"<(" + "|".join(elements) + r")>([^<]*)</\1>")
        for _ in range(20):   # a file holding a suitable element (nearly always the first draw)
            path = names[int(rng.integers(0, len(names)))]
            text = xmls[path]
            hits = []
            for m in pattern.finditer(text):
                if not want(m.group(2)):
                    continue
                rec_tag = elements[m.group(1)]
                rec_at = text.rfind(f"<{rec_tag}>", 0, m.start())
                if rec_at >= 0 and (path, rec_tag, rec_at) not in used:
                    hits.append((m, rec_tag, rec_at))
            if hits:
                break
        else:
            continue
        m, rec_tag, rec_at = hits[int(rng.integers(0, len(hits)))]
        used.add((path, rec_tag, rec_at))
        value = change(m.group(2))
        edits[path].append((m.start(2), m.end(2), value))
        child_at = text.rfind("<Child>", 0, m.start())
        cid = re.search(r"<LAchildID>([^<]*)</LAchildID>", text[child_at:])
        records.append({"la": la, "file": path, "line": text.count("\n", 0, rec_at) + 1,
                        "column": m.group(1), "element": m.group(1), "kind": kind, "value": value,
                        "element_line": text.count("\n", 0, m.start()) + 1, "record": rec_tag,
                        "child": cid.group(1) if cid else None})
    out = {}
    for p in names:
        text = xmls[p]
        for a, b, v in sorted(edits[p], reverse=True):
            text = text[:a] + v + text[b:]
        out[p] = text
    return out, records
