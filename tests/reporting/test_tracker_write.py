"""The tracker's files: a filterable workbook and a self-contained page, owner-only,
and never under ``reports/``."""

from __future__ import annotations

import re
import stat

import pandas as pd
from openpyxl import load_workbook

from csc_outcomes.reporting.tracker_rating import DEFAULT_THRESHOLDS, DOMAINS
from csc_outcomes.reporting.tracker_summary import SUMMARY_FILE
from csc_outcomes.reporting.tracker_write import (
    HTML,
    XLSX,
    tracker_table,
    write_html,
    write_xlsx,
)

from conftest import PERIOD


def rated() -> pd.DataFrame:
    frame = pd.DataFrame({"CHILD": ["C1", "C2", "C3"], "status": ["Looked after"] * 2 + ["Care leaver"],
                          "age_band": ["5 to 9"] * 3, "legal_status": ["C2", "ZZ", ""],
                          "placement": ["U4", "U1", ""], "time_in_care": ["1 y 0 m"] * 3})
    for d in DOMAINS:
        frame[f"{d.key}_evidence"] = ["e1", "e2", "<b>e3</b>"]
        frame[f"{d.key}_rag"] = ["Red", "Amber", "Not applicable"]
        frame[f"{d.key}_why"] = ["2 moves >= red at 2", "1 moves >= amber at 1", ""]
    return frame


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_workbook_is_filterable_frozen_and_coloured(tmp_path):
    path = write_xlsx(tracker_table(rated()), DEFAULT_THRESHOLDS, tmp_path / XLSX)
    assert mode(path) == 0o600
    wb = load_workbook(path)
    ws = wb["Tracker"]
    assert ws.freeze_panes == "B2"
    assert ws.auto_filter.ref == f"A1:{ws.cell(1, ws.max_column).column_letter}4"
    assert [c.value for c in ws[1]][:7] == ["CHILD", "Status", "Age band", "Legal status",
                                           "Placement", "Time in care",
                                           "Placement moves (12 months): evidence"]
    assert ws["H2"].value == "Red" and ws["I2"].value == "2 moves >= red at 2"
    # codes in words; an unknown code as it is; a care leaver's blank stays blank
    assert [ws["D2"].value, ws["D3"].value, ws["D4"].value] == ["C2 full care order", "ZZ", None]
    assert ws["E2"].value == "U4 foster: other carer, long term"
    rules = {(str(cf.sqref), r.formula[0], r.dxf.fill.fgColor.rgb[-6:])
             for cf in ws.conditional_formatting for r in cf.rules}
    assert ("H2:H4", '"Red"', "F4C7C3") in rules
    assert ("H2:H4", '"Green"', "B7E1CD") in rules
    assert len(rules) == 3 * len(DOMAINS)
    limits = list(wb["Thresholds"].iter_rows(values_only=True))
    assert ("Placement moves (12 months)", 1, 2) in limits


def test_page_is_self_contained_and_says_each_colour_in_words(tmp_path):
    path = write_html(tracker_table(rated()), DEFAULT_THRESHOLDS, "RAG tracker: LA1", tmp_path / HTML)
    assert mode(path) == 0o600
    page = path.read_text(encoding="utf-8")
    assert ('<td class="rag-red"><b>Red</b><br><span class="ev">2 moves &gt;= red at 2</span>'
            in page)
    assert '<td class="rag-amber"><b>Amber</b>' in page
    assert "<td><b>Not applicable</b><br>" in page
    header = re.search(r"<thead><tr>(.*?)</tr></thead>", page).group(1)
    assert header.count("<th") == 6 + len(DOMAINS)  # one column per domain, not three
    assert "C2 full care order" in page
    assert "&lt;b&gt;e3&lt;/b&gt;" in page  # evidence escaped, never markup
    assert not re.search(r"(src|href)\s*=|https?://|<script|@import|url\(", page)
    assert "Restricted" in page


def test_a_run_writes_the_tracker_restricted_and_publishes_none_of_it(tiny_run):
    _, out = tiny_run
    la_dir = out / "restricted" / PERIOD / "SYN01"
    for name in (XLSX, HTML, SUMMARY_FILE):
        assert mode(la_dir / name) == 0o600, name
    ids = {str(r[0]) for r in load_workbook(la_dir / XLSX)["Tracker"].iter_rows(min_row=2, values_only=True)}
    assert ids, "the tiny warehouse has children looked after at the period end"
    page = (la_dir / HTML).read_text(encoding="utf-8")
    assert all(c in page for c in ids)
    published = [p for p in (out / "reports").rglob("*") if p.is_file()]
    assert published
    assert not [p for p in published if p.name in (XLSX, HTML, SUMMARY_FILE)]
    text = "\n".join(p.read_bytes().decode("utf-8", "replace") for p in published)
    assert not [c for c in ids if c in text]
