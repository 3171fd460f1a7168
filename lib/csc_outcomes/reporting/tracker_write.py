"""The RAG tracker on disk: an Excel workbook and an HTML page, restricted only.

:func:`write_tracker` is the whole job for one LA and period: evidence from the
warehouse (``tracker_evidence``), colours (``tracker_rating``), then
``<output_dir>/rag_tracker.xlsx``, ``rag_tracker.html`` and the unsuppressed counts
(``tracker_summary.SUMMARY_FILE``), each written atomically with mode ``0600``:
child-level data go to the restricted tree, never to ``reports/``. The workbook is
what analysts filter (frozen header, a filter on every column, colours by
conditional formatting, the thresholds on a sheet of their own); the page is what a
board projects (self-contained, no external resource, each colour also written as
text, so it reads in greyscale and to a screen reader).
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.formatting.rule import CellIsRule
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from csc_outcomes import atomic
from csc_outcomes.measures.periods import period_text
from csc_outcomes.reporting.tracker_evidence import child_evidence, read_inputs
from csc_outcomes.reporting.tracker_rating import AMBER, DOMAINS, GREEN, RED, rate
from csc_outcomes.reporting.tracker_summary import SUMMARY_FILE, summary_counts

#: Owner-only: the files hold each child's id and circumstances.
MODE = 0o600
XLSX, HTML = "rag_tracker.xlsx", "rag_tracker.html"
#: Fill and text colours of each rating (text colours meet WCAG AA on their fill).
COLOURS = {RED: ("F4C7C3", "7A1711"), AMBER: ("FCE8B2", "6B4A00"), GREEN: ("B7E1CD", "0D5130")}
ABOUT = ["CHILD", "Status", "Age band", "Legal status", "Placement", "Time in care"]
#: SSDA903 legal status codes in words (DfE's guide), so a board need not know "C2".
LEGAL_STATUS = {
    "C1": "interim care order", "C2": "full care order", "D1": "freeing order",
    "E1": "placement order", "J1": "remanded to LA or youth detention accommodation",
    "J2": "placed in LA accommodation under PACE", "J3": "youth rehabilitation order",
    "L1": "police protection", "L2": "emergency protection order",
    "L3": "child assessment order", "V2": "accommodated under section 20",
    "V3": "short breaks (single episodes)", "V4": "short breaks (agreement)"}
#: SSDA903 placement type codes in words (DfE's guide), shortened.
PLACEMENT = {
    "A3": "placed for adoption with foster carer (consent)",
    "A4": "placed for adoption, new adopters (consent)",
    "A5": "placed for adoption with foster carer (placement order)",
    "A6": "placed for adoption, new adopters (placement order)",
    "H5": "semi-independent living", "K1": "secure children's home",
    "K2": "children's home", "K3": "supported accommodation",
    "P1": "with parent(s)", "P2": "independent living", "P3": "residential employment",
    "R1": "residential care home", "R2": "NHS or health establishment",
    "R3": "family centre or mother and baby unit", "R5": "young offender institution or prison",
    "S1": "residential school", "U1": "foster: relative or friend, long term",
    "U2": "foster: relative or friend, fostering for adoption",
    "U3": "foster: relative or friend, other", "U4": "foster: other carer, long term",
    "U5": "foster: other carer, fostering for adoption", "U6": "foster: other carer, other",
    "Z1": "other placement"}


def in_words(code: object, meanings: Mapping[str, str]) -> str:
    """``code`` and its meaning ("C2 full care order"); the code alone when unknown,
    "" when blank (a care leaver has no legal status or placement)."""
    blank = code is None or (isinstance(code, float) and math.isnan(code))
    text = "" if blank else str(code)
    if text == "":
        return ""
    return f"{text} {meanings[text]}" if text in meanings else text


def write_tracker(warehouse: str | Path, la_code: str, period_end: Any, output_dir: str | Path,
                  thresholds: Mapping[str, Any]) -> list[Path]:
    """Write one LA's tracker for ``period_end`` into ``output_dir`` (restricted);
    return the files written (workbook, page, counts)."""
    inputs = read_inputs(warehouse, la_code)
    evidence = child_evidence(inputs, la_code, period_end, int(thresholds["care_leaver_age"]))
    rated = rate(evidence, thresholds)
    out = Path(output_dir)
    out.mkdir(mode=0o700, parents=True, exist_ok=True)
    title = (f"RAG tracker: {la_code}, children looked after on {period_text(period_end)} "
             "and care leavers of the year")
    table = tracker_table(rated)
    return [write_xlsx(table, thresholds, out / XLSX),
            write_html(table, thresholds, title, out / HTML),
            atomic.write_text(out / SUMMARY_FILE, summary_counts(rated).to_csv(index=False),
                              mode=MODE)]


def tracker_table(rated: pd.DataFrame) -> pd.DataFrame:
    """The rows as the board reads them: who the child is, then per domain the
    evidence, the rating and why (which threshold gave it)."""
    out = pd.DataFrame({
        "CHILD": rated["CHILD"], "Status": rated["status"], "Age band": rated["age_band"],
        "Legal status": [in_words(c, LEGAL_STATUS) for c in rated["legal_status"]],
        "Placement": [in_words(c, PLACEMENT) for c in rated["placement"]],
        "Time in care": rated["time_in_care"]})
    for d in DOMAINS:
        out[f"{d.label}: evidence"] = rated[f"{d.key}_evidence"]
        out[f"{d.label}: rating"] = rated[f"{d.key}_rag"]
        out[f"{d.label}: why"] = rated[f"{d.key}_why"]
    return out.astype(object).where(out.notna(), "")


def threshold_rows(thresholds: Mapping[str, Any]) -> list[list[Any]]:
    """One row per domain: its heading, amber and red thresholds."""
    return [[d.label, thresholds[d.key]["amber"], thresholds[d.key]["red"]] for d in DOMAINS]


def header_cell(ws: Any, name: str) -> WriteOnlyCell:
    """A bold column heading for a write-only sheet."""
    cell = WriteOnlyCell(ws, value=name)
    cell.font = Font(bold=True)
    return cell


def write_xlsx(table: pd.DataFrame, thresholds: Mapping[str, Any], path: Path) -> Path:
    """The workbook: a frozen header row and first column, a filter over every column,
    the rating columns coloured by conditional formatting; thresholds on their own sheet.

    Written in openpyxl's write-only mode (rows streamed to the file, not kept as cell
    objects): half the time, and a national run writes 153 of these."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Tracker")
    ws.freeze_panes = "B2"
    last = max(len(table) + 1, 2)
    ws.auto_filter.ref = f"A1:{get_column_letter(max(len(table.columns), 1))}{len(table) + 1}"
    for i, col in enumerate(table.columns, start=1):
        letter = get_column_letter(i)
        ws.column_dimensions[letter].width = 14 if col.endswith(": rating") else 28
        if col.endswith(": rating"):
            for rating, (fill, text) in COLOURS.items():
                ws.conditional_formatting.add(
                    f"{letter}2:{letter}{last}",
                    CellIsRule(operator="equal", formula=[f'"{rating}"'],
                               fill=PatternFill(start_color=fill, end_color=fill, fill_type="solid"),
                               font=Font(color=text, bold=True)))
    ws.append([header_cell(ws, name) for name in table.columns])
    for row in table.itertuples(index=False):
        ws.append(list(row))
    sheet = wb.create_sheet("Thresholds")
    sheet.append(["Domain", "Amber at or above", "Red at or above"])
    for limits in threshold_rows(thresholds):
        sheet.append(limits)
    sheet.append(["Care leaver domain from age", thresholds["care_leaver_age"], ""])
    with atomic.atomic_path(path, mode=MODE) as tmp:
        wb.save(str(tmp))
    return path


CSS = """body{font-family:Arial,Helvetica,sans-serif;margin:1rem;color:#1b1b1b}
.restricted{border:2px solid #7A1711;padding:.5rem;font-weight:bold}
table{border-collapse:collapse;font-size:.8rem}th,td{border:1px solid #999;padding:.25rem;
vertical-align:top;text-align:left;min-width:7rem}thead th{position:sticky;top:0;background:#eee}
.ev{font-weight:normal}
""" + "".join(f".rag-{r.lower()}{{background:#{f};color:#{t};font-weight:bold}}"
              for r, (f, t) in COLOURS.items())


def _cell(rating: Any, why: Any, evidence: Any) -> str:
    """One domain's cell: the rating in words (coloured), why, then the evidence."""
    cls = f' class="rag-{str(rating).lower()}"' if rating in COLOURS else ""
    lines = [f"<b>{html.escape(str(rating))}</b>"] + [
        f'<span class="ev">{html.escape(str(t))}</span>' for t in (why, evidence) if t != ""]
    return f"<td{cls}>{'<br>'.join(lines)}</td>"


def _row(row: Mapping[Any, Any]) -> str:
    """A child's row of the page: who, then one cell per domain (rating, why, evidence)
    rather than three, so the page is 15 columns, not 33, and reads on a screen."""
    about = "".join(f"<td>{html.escape(str(row[c]))}</td>" for c in ABOUT)
    return "<tr>" + about + "".join(
        _cell(row[f"{d.label}: rating"], row[f"{d.label}: why"], row[f"{d.label}: evidence"])
        for d in DOMAINS) + "</tr>"


def write_html(table: pd.DataFrame, thresholds: Mapping[str, Any], title: str, path: Path) -> Path:
    """The board's page: one self-contained file (inline style, no script, no link),
    one column per domain with each rating written out in its coloured cell above why
    and the evidence, the thresholds beneath."""
    head = "".join(f'<th scope="col">{html.escape(c)}</th>'
                   for c in [*ABOUT, *(d.label for d in DOMAINS)])
    body = "".join(_row(r) for r in table.to_dict("records"))
    limits = "".join(f"<tr><td>{html.escape(str(a))}</td><td>{b}</td><td>{c}</td></tr>"
                     for a, b, c in threshold_rows(thresholds))
    page = (f'<!DOCTYPE html><html lang="en-GB"><head><meta charset="utf-8">'
            f"<title>{html.escape(title)}</title><style>{CSS}</style></head><body>"
            f"<h1>{html.escape(title)}</h1><p class=\"restricted\">Restricted: child-level "
            "information for the review board. Do not publish, forward or print for "
            "circulation.</p><table><caption>One row per child looked after and per care "
            "leaver; in each domain the rating, the threshold that gave it, and the evidence"
            f"</caption><thead><tr>{head}</tr></thead>"
            f"<tbody>{body}</tbody></table><h2>Thresholds</h2><table><thead><tr>"
            '<th scope="col">Domain</th><th scope="col">Amber at or above</th>'
            f'<th scope="col">Red at or above</th></tr></thead><tbody>{limits}</tbody></table>'
            "</body></html>")
    return atomic.write_text(path, page, mode=MODE)


__all__ = ["HTML", "XLSX", "tracker_table", "write_html", "write_tracker", "write_xlsx"]
