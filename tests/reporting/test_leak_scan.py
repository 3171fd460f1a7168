"""The leak scan: every identifier and quasi-identifier the warehouse holds, wherever a
published file holds it, looked up word by word; and a run that publishes nothing
when a notebook's output carries one (finding 3 of issue 7)."""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
import random
import urllib.parse
import zipfile

import legacy_leak_scan
import nbformat
import pandas as pd
import pytest
from matplotlib.figure import Figure

from csc_outcomes.reporting import leak_files
from csc_outcomes.reporting.config import RunError
from csc_outcomes.reporting.identifiers import (
    IdentifierSet,
    identifiers_from_warehouse,
    report_dates,
)
from csc_outcomes.reporting.leak_scan import notebook_table_leaks, scan, scan_for_leaks
from csc_outcomes.reporting.run import run

from conftest import BODY, FRONT, PERIOD, make_notebook, tiny_config

IDS = {"CH10234", "A123456789012"}

#: One of each kind, as ``identifiers_from_warehouse`` would give them.
HELD = IdentifierSet.build(
    ids=[("C1000001", "CHILD"), ("A123456789012", "UPN"), ("SW100001", "SW_ID"),
         ("CT100001", "contact_id"), ("K1000001", "LAchildID"), ("4417730", "CHILD")],
    postcodes=[("AB1 2CD", "HOME_POST"), ("ZY18 2", "PL_POST")],
    dates=[(dt.date(2012, 6, 15), "DOB"), (dt.date(2026, 3, 31), "DOB"),
           (dt.date(2019, 11, 5), "PersonBirthDate")],
)


def _rules(leaks):
    return sorted({leak.rule for leak in leaks})


def _found(tmp_path, text, name="page.html", ids=HELD, **kw):
    """(rule, kind) of each leak in one file holding ``text``."""
    (tmp_path / name).write_text(text, encoding="utf-8")
    return sorted((x.rule, x.kind) for x in scan([tmp_path / name], ids, **kw))


# --------------------------------------------------------------- the rules kept from before
def test_leak_scan_finds_planted_identifiers(tmp_path):
    (tmp_path / "report.html").write_text(
        "<html><body><p>Total 1,234</p>\n<td>CH10234</td><td>03/04/2012</td></body></html>",
        encoding="utf-8",
    )
    leaks = scan_for_leaks([tmp_path], identifiers=IDS)
    assert _rules(leaks) == ["dob_near_identifier", "known_identifier"]
    hit = next(x for x in leaks if x.rule == "known_identifier")
    assert hit.file.endswith("report.html") and hit.line == 2 and hit.offset == 4
    assert hit.matched == "C******" and "CH10234" not in str(hit)


def test_leak_scan_finds_upn_shapes_in_json_and_notebooks(tmp_path):
    (tmp_path / "data.json").write_text(json.dumps({"pupil": "Z987654321098"}), encoding="utf-8")
    nb = {
        "cells": [
            {"cell_type": "code", "source": ["x = 1\n"], "outputs": [
                {"output_type": "stream", "name": "stdout", "text": ["child B111122223333 born 2012-04-03\n"]},
                {"output_type": "display_data", "data": {"image/png": "iVBORw0KGgoA123456789012+/"}},
            ]}
        ]
    }
    (tmp_path / "report.ipynb").write_text(json.dumps(nb), encoding="utf-8")
    leaks = scan_for_leaks(tmp_path)
    by_file = {(x.file.rsplit("/", 1)[-1], x.rule) for x in leaks}
    assert ("data.json", "upn_shape") in by_file
    assert ("report.ipynb", "upn_shape") in by_file
    assert ("report.ipynb", "dob_near_identifier") in by_file
    nb_hits = [x for x in leaks if x.file.endswith(".ipynb")]
    assert all("output 1" in x.location for x in nb_hits)  # the image is not scanned


def test_leak_scan_finds_small_counts_and_dob_columns_in_csv(tmp_path):
    (tmp_path / "measures.csv").write_text(
        "la_code,measure_id,numerator,denominator,value\n"
        "SYN01,rr,c,c,c\n"
        "SYN01,nfa,3,120,0.025\n"
        "SYN01,ok,40,120,0.33\n",
        encoding="utf-8",
    )
    (tmp_path / "children.csv").write_text("CHILD,DOB\nX,2012-01-01\n", encoding="utf-8")
    leaks = scan_for_leaks(tmp_path)
    small = [x for x in leaks if x.rule == "small_count"]
    assert [(x.file.rsplit("/", 1)[-1], x.line) for x in small] == [("measures.csv", 3)]
    assert any(x.rule == "dob_column" and x.file.endswith("children.csv") for x in leaks)


def test_small_counts_in_the_count_columns_of_page_tables_and_workbook_sheets(tmp_path):
    """Attacker (a stranger's review): a report table showing a count of 2 (a notebook
    cell displaying raw counts) was published: the rule read CSVs only, and a run
    publishes none. Now the count columns of every HTML table and workbook sheet are
    read: 1 to 5 is a finding on its line; c, 0, 6 and other columns are not; a number in
    a sentence is not read (it would be every year and rank a report shows)."""
    openpyxl = pytest.importorskip("openpyxl")
    (tmp_path / "report.html").write_text(
        "<html><body>\n<p>In SYN01, 2 children of one heritage were re-referred.</p>\n"
        "<table><thead><tr><th></th><th>Ethnicity</th><th>Count</th><th>Rate</th></tr></thead>\n"
        "<tbody>\n<tr><th>0</th><td>Gypsy/Roma</td><td>2</td><td>4</td></tr>\n"
        "<tr><th>1</th><td>White</td><td>c</td><td>3</td></tr>\n"
        "<tr><th>2</th><td>Mixed</td><td>0</td><td>1</td></tr>\n"
        "<tr><th>3</th><td>Other</td><td> 6 </td><td>2</td></tr>\n"
        "</tbody></table>\n<table><tr><td>Numerator</td><td>Denominator</td></tr>\n"
        "<tr><td>40</td><td>5.0</td></tr></table></body></html>\n", encoding="utf-8")
    book = openpyxl.Workbook()
    book.active.title = "Measures"
    for row in (["About these figures"], [], ["Measure", "Numerator", "Denominator"],
                ["rereferrals", "c", 120], ["cla_missing", 3, 41]):
        book.active.append(row)
    book.save(tmp_path / "workbook.xlsx")
    small = sorted((x.file.rsplit("/", 1)[-1], x.line, x.location, x.detail)
                   for x in scan(tmp_path) if x.rule == "small_count")
    assert small == [
        ("report.html", 5, "", "an unsuppressed count from 1 to 5 in column 'Count'"),
        ("report.html", 11, "", "an unsuppressed count from 1 to 5 in column 'Denominator'"),
        ("workbook.xlsx", 5, "sheet Measures",
         "an unsuppressed count from 1 to 5 in column 'Numerator'")]


@pytest.mark.parametrize("page, line", [
    # a MultiIndex display: pandas merges the repeated index cell over the rows below it
    (pd.DataFrame({"la": ["E1", "E1", "E2"], "ethnicity": ["Asian", "Black", "White"],
                   "count": [40, 2, 55]}).set_index(["la", "ethnicity"]).to_html(), 20),
    (("<table><tr><th colspan=2>Area</th><th>Count</th></tr>\n"
      "<tr><td>E1</td><td>North</td><td>3</td></tr></table>"), 2),
    ("<table><tr><th>Group<th>Count<tr><td>White<td>3</table>", 1),  # end tags left out
    (pd.DataFrame([[40, 9, 3, 50]], columns=pd.MultiIndex.from_product(
        [["A", "B"], ["count", "rate"]])).to_html(), 17),
    # a third review: a data row mentioning a count column's name is data, not a header
    (("<table><tr><th>Measure</th><th>Unit</th><th>Numerator</th></tr>\n"
      "<tr><td>referrals</td><td>count</td><td>40</td></tr>\n"
      "<tr><td>missing</td><td>count</td><td>3</td></tr></table>"), 3),
    (pd.DataFrame({"numerator": [3]}, index=["SYN01"]).T.to_html(), 9),  # the other way round
    ("<table><tr><th>Count (n)</th></tr>\n<tr><td>2 (40%)</td></tr></table>", 2),
    ("<table><!-- </table> --><tr><th>count&#8203;</th></tr>\n<tr><td>2</td></tr></table>", 2),
], ids=["rowspan", "colspan", "unclosed", "two-count-columns", "unit-column", "transposed",
        "n-and-share", "comment"])
def test_small_counts_under_merged_cells_and_left_out_end_tags(tmp_path, page, line):
    """Attacker (a second review): rows under a merged cell, a column after a merged
    header and cells whose end tags HTML lets a page leave out were read out of place,
    and their small counts missed. The table is read as a grid, as a reader sees it."""
    (tmp_path / "t.html").write_text(page, encoding="utf-8")
    assert [(x.rule, x.line) for x in scan(tmp_path)] == [("small_count", line)]


def test_leak_scan_clean_files_find_nothing(tmp_path):
    (tmp_path / "index.html").write_text(
        "<html><p>Period ending 31/03/2025: 1,234 referrals (22.6%), c suppressed.</p>"
        "<p>sha256 a1234567890123456789abcdef</p></html>",
        encoding="utf-8",
    )
    (tmp_path / "measures.csv").write_text(
        "la_code,period_end,measure_id,numerator,denominator,value\n"
        "SYN01,2025-03-31,rr,c,c,c\nSYN01,2025-03-31,nfa,0,120,0\nSYN01,2025-03-31,x,60,120,0.5\n",
        encoding="utf-8",
    )
    (tmp_path / "manifest.json").write_text(json.dumps({"period_end": "2025-03-31", "n": 6}))
    (tmp_path / "chart.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00A123456789012 ")
    assert scan_for_leaks([tmp_path], identifiers=IDS) == []


def test_short_identifiers_are_skipped_not_matched_everywhere(tmp_path):
    (tmp_path / "a.html").write_text("<p>12 children</p>", encoding="utf-8")
    assert scan_for_leaks(tmp_path, identifiers={"12"}) == []


def test_pdf_text_is_scanned(tmp_path):
    fig = Figure()
    fig.text(0.1, 0.5, "Pupil A123456789012 in the table")
    fig.text(0.1, 0.3, "worker SW100001, born 15 June 2012")
    fig.savefig(tmp_path / "report.pdf")
    leaks = scan(tmp_path, HELD)
    assert sorted((x.rule, x.kind) for x in leaks) == [
        ("date_of_birth", "DOB"), ("known_identifier", "SW_ID"), ("known_identifier", "UPN")]
    assert {x.location for x in leaks} == {"pdf page 1"}


def test_a_pdf_that_cannot_be_read_is_unscannable_and_the_scan_goes_on(tmp_path):
    """Before, a damaged PDF was skipped with a warning, so it was published unread."""
    (tmp_path / "bad.pdf").write_bytes(b"%PDF-1.4 not really")
    (tmp_path / "x.html").write_text("A123456789012", encoding="utf-8")
    leaks = scan_for_leaks(tmp_path)
    assert sorted((x.file.rsplit("/", 1)[-1], x.rule) for x in leaks) == [
        ("bad.pdf", "unscannable"), ("x.html", "upn_shape")]


# --------------------------------------------------------------- each kind (finding 3)
@pytest.mark.parametrize(("value", "kind"), [
    ("C1000001", "CHILD"), ("K1000001", "LAchildID"), ("A123456789012", "UPN"),
    ("CT100001", "contact_id"), ("SW100001", "SW_ID"), ("AB1 2CD", "HOME_POST"),
    ("15/06/2012", "DOB"), ("5 Nov 2019", "PersonBirthDate"),
])
def test_each_kind_is_found_named_and_masked(tmp_path, value, kind):
    (tmp_path / "p.html").write_text(f"<p>seen: {value}.</p>", encoding="utf-8")
    leaks = scan(tmp_path, HELD)
    assert [x.kind for x in leaks] == [kind]
    assert kind in str(leaks[0]) and value not in str(leaks[0])
    assert leaks[0].matched == value[0] + "*" * (len(value) - 1)


@pytest.mark.parametrize("written", [
    "15/06/2012", "15/6/2012", "15-06-2012", "15.06.2012", "2012-06-15", "2012/06/15",
    "15 June 2012", "15 Jun 2012", "15th June 2012", "15-Jun-2012", "June 15, 2012",
    "Jun 15 2012", "06/15/2012", "15\\/06\\/2012",
])
def test_a_date_of_birth_is_found_however_it_is_written(tmp_path, written):
    assert _found(tmp_path, f"<p>born {written}.</p>") == [("date_of_birth", "DOB")]


def test_a_date_no_child_was_born_on_is_not_flagged(tmp_path):
    assert _found(tmp_path, "<p>16/06/2012, 15 July 2012, 2012-06-14</p>") == []


@pytest.mark.parametrize("written", ["AB1 2CD", "AB12CD", "ab1 2cd", "ab12cd", "Ab1&nbsp;2Cd"])
def test_a_postcode_is_found_with_or_without_the_space_in_any_case(tmp_path, written):
    assert _found(tmp_path, f"<p>home {written}</p>") == [("postcode", "HOME_POST")]


def test_a_partial_postcode_is_found_only_whole(tmp_path):
    assert _found(tmp_path, "<p>ZY18 2 and zy182</p>") == [("postcode", "PL_POST")] * 2
    assert _found(tmp_path, "<p>AB1 2CDE, XAB12CD, ZY18 21, ZY18</p>") == []


def test_ids_are_whole_words_in_any_case(tmp_path):
    assert _found(tmp_path, "<p>c1000001.</p>") == [("known_identifier", "CHILD")]
    assert _found(tmp_path, "<p>XC1000001 C10000012 C1000001A</p>") == []


def test_short_ids_are_not_looked_for_and_counted():
    ids = IdentifierSet.build(ids=[("123", "CHILD"), ("12345", "CHILD"), ("AB12", "CHILD"),
                                   ("123456", "CHILD"), ("", "CHILD"), (" ab12 ", "UPN")])
    assert dict(ids.ids) == {"AB12": "CHILD, UPN", "123456": "CHILD"}
    assert ids.skipped == 2


def test_a_numeric_id_is_found_in_text_but_not_as_a_json_number(tmp_path):
    assert _found(tmp_path, "<td>4417730</td>") == [("known_identifier", "CHILD")]
    (tmp_path / "m.json").write_text(json.dumps({"size": 4417730, "ids": ["4417730"]}))
    assert [x.kind for x in scan([tmp_path / "m.json"], HELD)] == ["CHILD"]


def test_ids_of_several_words_are_found(tmp_path):
    ids = IdentifierSet.build(ids=[("AB-12 34", "CHILD")])
    assert ids.max_parts == 3
    assert _found(tmp_path, "<p>ab-12 34; AB-12 345</p>", ids=ids) == [("known_identifier", "CHILD")]


# --------------------------------------------------------------- dates the report shows
def test_a_date_the_report_shows_is_not_flagged_alone(tmp_path):
    """2026-03-31 is a child's DOB and the period end: alone, it is the period end."""
    shown = report_dates("2026-03-31", today=dt.date(2026, 4, 2))
    text = "<p>Year ending 31 March 2026 (from 01/04/2025); run 2026-04-02.</p>"
    assert _found(tmp_path, text, shown_dates=shown) == []
    assert _found(tmp_path, text) == [("date_of_birth", "DOB")]


def test_a_date_the_report_shows_is_flagged_next_to_an_identifier(tmp_path):
    shown = report_dates("2026-03-31", today=dt.date(2026, 4, 2))
    assert _found(tmp_path, "<td>C1000001</td><td>31/03/2026</td>", shown_dates=shown) == [
        ("dob_near_identifier", ""), ("known_identifier", "CHILD")]


def test_a_timestamp_is_not_a_date_of_birth(tmp_path):
    assert _found(tmp_path, '{"started": "2012-06-15T10:02:03+01:00"}', name="m.json") == []
    assert _found(tmp_path, "<p>Built 15 June 2012, 10:30</p>") == []


# --------------------------------------------------------------- each place
def test_attributes_comments_and_entities_are_read(tmp_path):
    assert _found(tmp_path, '<div data-child="C1000001" title="x">') == [("known_identifier", "CHILD")]
    assert _found(tmp_path, "<!-- worker SW100001 --><p>ok</p>") == [("known_identifier", "SW_ID")]
    assert _found(tmp_path, "<p>&#67;1000001 &#x41;123456789012</p>") == [
        ("known_identifier", "CHILD"), ("known_identifier", "UPN")]


def _svg_label(label: str) -> str:
    fig = Figure(figsize=(2, 1))
    fig.add_subplot().set_xlabel(label)
    buf = io.StringIO()
    fig.savefig(buf, format="svg")  # text as paths: the label survives only in a comment
    return buf.getvalue()


def test_svg_text_inline_split_and_chart_labels_are_read(tmp_path):
    split = '<svg><text x="1"><tspan>K100</tspan><tspan dx="2">0001</tspan></text></svg>'
    (tmp_path / "p.html").write_text(split, encoding="utf-8")
    leaks = scan(tmp_path, HELD)
    assert [(x.kind, x.location) for x in leaks] == [("LAchildID", "svg text")]
    svg = _svg_label("CT100001")
    assert "CT100001" in svg and "<text" not in svg
    assert _found(tmp_path, svg, name="chart.svg") == [("known_identifier", "contact_id")]


def test_embedded_payloads_are_decoded(tmp_path):
    def b64(data: bytes) -> str:
        return base64.b64encode(data).decode()

    svg, child, workers = b64(_svg_label("CT100001").encode()), b64(b"child C1000001"), b64(b'["SW100001"]')
    born = urllib.parse.quote("<b>15/06/2012</b>")
    pupil = base64.urlsafe_b64encode(b"pupil A123456789012?").decode()
    page = (f'<img src="data:image/svg+xml;base64,{svg}">\n'
            f"<p>{child}</p>\n"
            f"<script>var d = 'data:application/json;base64,{workers}';</script>\n"
            f'<a href="data:text/html,{born}">x</a>\n'
            f"<p>{pupil}</p>\n")
    (tmp_path / "p.html").write_text(page, encoding="utf-8")
    leaks = scan(tmp_path, HELD)
    assert sorted((x.line, x.kind, x.location) for x in leaks) == [
        (1, "contact_id", "data: URI (image/svg+xml)"), (2, "CHILD", "base64"),
        (3, "SW_ID", "data: URI (application/json)"), (4, "DOB", "data: URI (text/html)"),
        (5, "UPN", "base64")]


def test_raster_images_are_not_read_and_other_binary_payloads_are_unscannable(tmp_path):
    pixels = base64.b64encode(b"C1000001 looks like text but is an image").decode()
    assert _found(tmp_path, f'<img src="data:image/png;base64,{pixels}">') == []
    blob = base64.b64encode(bytes(range(256))).decode()
    assert _found(tmp_path, f'<a href="data:application/octet-stream;base64,{blob}">') == [
        ("unscannable", "")]
    font = base64.b64encode(b"wOF2\x00\x01\x00\x00" + bytes(range(256))).decode()
    css = (f"@font-face{{src:url(data:application/octet-stream;base64,{font})}} "
           f"@font-face{{src:url(data:application/vnd.ms-opentype;base64,{blob})}}")
    assert _found(tmp_path, f"<style>{css}</style>") == []  # glyphs, by their bytes or type


def test_notebook_outputs_html_svg_and_json_are_read(tmp_path):
    nb = {"cells": [{"cell_type": "code", "source": "", "outputs": [
        {"output_type": "display_data", "data": {
            "text/html": "<p title='C1000001'>x</p>",
            "image/svg+xml": "<svg><text>SW100001</text></svg>",
            "application/json": {"home": "AB12CD"},
            "image/png": base64.b64encode(b"K1000001").decode()}}]}]}
    (tmp_path / "r.ipynb").write_text(json.dumps(nb), encoding="utf-8")
    leaks = scan(tmp_path, HELD)
    assert sorted((x.kind, x.location) for x in leaks) == [
        ("CHILD", "cell 1 output 1 text/html"), ("HOME_POST", "cell 1 output 1 application/json"),
        ("SW_ID", "cell 1 output 1 image/svg+xml")]


def test_csv_and_markdown_are_read(tmp_path):
    assert _found(tmp_path, "a,b\nSW100001,2\n", name="t.csv") == [("known_identifier", "SW_ID")]
    assert _found(tmp_path, "| x |\n|---|\n| 15 Jun 2012 |\n", name="t.md") == [
        ("date_of_birth", "DOB")]


def _zip(path, members):
    with zipfile.ZipFile(path, "w") as zf:
        for name, text in members.items():
            zf.writestr(name, text)
    return path


def test_office_files_are_read_from_their_xml(tmp_path):
    _zip(tmp_path / "r.docx", {"word/document.xml": "<w:t>K1000001</w:t>"})
    assert [x.kind for x in scan(tmp_path, HELD)] == ["LAchildID"]


def test_an_office_part_is_read_a_row_or_paragraph_a_line(tmp_path):
    """A sheet's XML is one line of megabytes: each row is read as its own line, and a
    finding names the row's line; a break before a tag splits no word or date."""
    rows = "".join(f'<row r="{i}"><c><v>{v}</v></c></row>' for i, v in
                   enumerate(["12", "C1000001", "15/06/2012 K1000001", "7"], start=1))
    _zip(tmp_path / "t.docx", {"word/sheet.xml": f"<sheetData>{rows}</sheetData>",
                               "word/document.xml": "<w:p><w:t>a</w:t></w:p><w:p>"
                                                    "<w:t>SW100001</w:t></w:p>"})
    found = sorted((x.location, x.line, x.rule, x.kind) for x in scan(tmp_path, HELD))
    assert found == [("word/document.xml", 3, "known_identifier", "SW_ID"),
                     ("word/sheet.xml", 3, "known_identifier", "CHILD"),
                     ("word/sheet.xml", 4, "date_of_birth", "DOB"),
                     ("word/sheet.xml", 4, "known_identifier", "LAchildID")]


def test_xlsx_without_calamine_is_unscannable(tmp_path, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "python_calamine" else real(name, *a))
    _zip(tmp_path / "t.xlsx", {"xl/sharedStrings.xml": "<t>C1000001</t>"})
    leaks = scan(tmp_path, HELD)
    assert sorted(x.rule for x in leaks) == ["known_identifier", "unscannable"]
    assert "python-calamine" in next(str(x) for x in leaks if x.rule == "unscannable")


def test_an_xlsx_whose_cells_cannot_be_read_is_unscannable(tmp_path):
    _zip(tmp_path / "t.xlsx", {"xl/sharedStrings.xml": "<t>C1000001</t>"})  # no workbook part
    leaks = scan(tmp_path, HELD)
    assert sorted(x.rule for x in leaks) == ["known_identifier", "unscannable"]
    assert "cells cannot be read" in next(str(x) for x in leaks if x.rule == "unscannable")


def test_xlsx_cells_are_read_as_excel_holds_them(tmp_path):
    """Typed cells as openpyxl writes them: a date as a date (a serial number in the XML,
    found only by reading the cell), whole floats as integers, times, booleans."""
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    book.active.append(["child", dt.datetime(2012, 6, 15), 4417730.0, True, dt.time(9, 30)])
    book.create_sheet("Second").append([None, dt.date(2012, 6, 15)])
    book.save(tmp_path / "t.xlsx")
    found = sorted((x.location, x.rule, x.kind) for x in scan(tmp_path, HELD))
    assert found == [("sheet Second", "date_of_birth", "DOB"),
                     ("sheet Sheet", "date_of_birth", "DOB"),
                     ("sheet Sheet", "known_identifier", "CHILD"),
                     ("xl/worksheets/sheet1.xml", "known_identifier", "CHILD")]
    cells, _ = leak_files.workbook_texts(tmp_path / "t.xlsx")
    assert cells == [("sheet Sheet", "Sheet\nchild\t2012-06-15\t4417730\tTrue\t09:30:00"),
                     ("sheet Second", "Second\n\t2012-06-15")]


def _rezipped(source, target, change):
    """``source``'s parts, changed by ``change(name, bytes)`` (None drops a part), into ``target``."""
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w") as zout:
        for name in zin.namelist():
            data = change(name, zin.read(name))
            if data is not None:
                zout.writestr(name, data)
    return target


def _one_cell_book(tmp_path, *cells):
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    for ref, value in cells:
        book.active[ref] = value
    book.save(tmp_path / "src.xlsx")
    return tmp_path / "src.xlsx"


def test_workbooks_the_cells_of_which_cannot_be_read_are_unscannable_not_a_crash(tmp_path):
    """A cell at XFD1048576 made calamine ask for 550 GB and abort the run's process; a
    damaged sheet, a workbook without sheets and a damaged zip part raised. Each is now
    ``unscannable`` (the run fails, naming the file), its XML still read for ids."""
    far = _one_cell_book(tmp_path, ("A1", "C1000001"), ("XFD1048576", 1))
    (tmp_path / "out").mkdir()
    far.rename(tmp_path / "out" / "far.xlsx")
    src = _one_cell_book(tmp_path, ("A1", "C1000001"))
    _rezipped(src, tmp_path / "out" / "cut.xlsx",
              lambda n, b: b[: len(b) // 2] if n == "xl/worksheets/sheet1.xml" else b)
    _rezipped(src, tmp_path / "out" / "nosheet.xlsx",
              lambda n, b: None if n == "xl/workbook.xml" else b)
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(tmp_path / "out" / "deflate.xlsx", "w",
                                                      zipfile.ZIP_DEFLATED) as zout:
        for name in zin.namelist():
            zout.writestr(name, zin.read(name))
    raw = bytearray((tmp_path / "out" / "deflate.xlsx").read_bytes())
    at = raw.index(b"xl/worksheets/sheet1.xml") + len("xl/worksheets/sheet1.xml") + 4
    raw[at:at + 8] = b"\xff" * 8  # the part's compressed bytes, spoiled
    (tmp_path / "out" / "deflate.xlsx").write_bytes(bytes(raw))
    found = {}
    for leak in scan(tmp_path / "out", HELD):
        found.setdefault(leak.file.rsplit("/", 1)[-1], []).append((leak.rule, leak.detail))
    assert sorted(found) == ["cut.xlsx", "deflate.xlsx", "far.xlsx", "nosheet.xlsx"]
    assert all("unscannable" in [r for r, _ in hits] for hits in found.values())
    assert any("1,048,576 rows x 16,384 columns" in d for _, d in found["far.xlsx"])
    assert "known_identifier" in [r for r, _ in found["far.xlsx"]], "its XML is still read"
    assert any("no sheet" in d for _, d in found["nosheet.xlsx"])
    assert leak_files.sheet_span('<row r="3"><c r="B3"/></row>\n<row><c/><c/><c/></row>') == (3, 3)


def test_an_id_in_a_page_header_is_found_past_its_codes(tmp_path):
    """``&C`` (centre) runs into the text after it: ``&CC1000001`` is spaced out."""
    src = _one_cell_book(tmp_path, ("A1", "total"))
    _rezipped(src, tmp_path / "h.xlsx", lambda n, b: b.replace(
        b"</worksheet>", b"<headerFooter><oddHeader>&amp;CC1000001&amp;R&amp;P</oddHeader>"
        b"</headerFooter></worksheet>") if n == "xl/worksheets/sheet1.xml" else b)
    src.unlink()
    assert [(x.rule, x.kind) for x in scan(tmp_path, HELD)] == [("known_identifier", "CHILD")]


def test_binary_files_other_than_images_are_unscannable(tmp_path):
    (tmp_path / "chart.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00C1000001")
    (tmp_path / "blob.bin").write_bytes(b"\x00\x01C1000001")
    assert [(x.file.rsplit("/", 1)[-1], x.rule) for x in scan(tmp_path, HELD)] == [
        ("blob.bin", "unscannable")]


# --------------------------------------------------------------- the same leaks as before
def _random_page(rng: random.Random, ids: list[str]) -> str:
    """Lines of words, numbers, tags, dates (in the old scan's forms) and ids."""
    words = ["children", "looked", "after", "<td>", "</td>", "(22.6%)", "1,234", "c", "rate",
             "<p class='x'>", "2025", "of", "-", "/", "SYN01", "period", "ending"]
    lines = []
    for _ in range(rng.randint(20, 60)):
        parts = []
        for _ in range(rng.randint(1, 14)):
            r = rng.random()
            if r < 0.12:
                parts.append(rng.choice(ids))
            elif r < 0.22:
                d = dt.date(2000, 1, 1) + dt.timedelta(days=rng.randint(0, 9000))
                parts.append(rng.choice([d.strftime("%d/%m/%Y"), d.isoformat(),
                                         f"{d.day} {d.strftime('%B')} {d.year}"]))
            elif r < 0.27:
                parts.append(f"{rng.choice('ABCZ')}{rng.randint(10**10, 10**11 - 1)}9")
            else:
                parts.append(rng.choice(words))
        lines.append(rng.choice([" ", "", ", "]).join(parts))
    return "\n".join(lines)


def test_the_new_scan_finds_every_leak_the_old_scan_found(tmp_path):
    """Equivalence on the old tests' files and on random pages: the same (file, line,
    offset, rule) for every rule the old scan had, with ids given as plain strings."""
    for make in (test_leak_scan_finds_planted_identifiers, test_leak_scan_finds_upn_shapes_in_json_and_notebooks,
                 test_leak_scan_finds_small_counts_and_dob_columns_in_csv,
                 test_leak_scan_clean_files_find_nothing, test_pdf_text_is_scanned):
        folder = tmp_path / make.__name__
        folder.mkdir()
        make(folder)
    rng = random.Random(7)
    ids = ["CH10234", "A123456789012", "1234567", "C7654321", "0012345678", "AB-1234", "SW55555"]
    pages = tmp_path / "random"
    pages.mkdir()
    for n in range(40):
        (pages / f"p{n}.html").write_text(_random_page(rng, ids), encoding="utf-8")
    ids_given = set(ids) | IDS

    def key(leaks):
        return sorted((x.file, x.line, x.offset, x.rule) for x in leaks
                      if x.rule != "unscannable")

    old = key(legacy_leak_scan.scan_for_leaks([tmp_path], ids_given))
    new = key(scan_for_leaks([tmp_path], ids_given))
    assert len(old) > 300 and {r for *_, r in old} == {
        "known_identifier", "upn_shape", "dob_near_identifier", "dob_column", "small_count"}
    assert new == old


# --------------------------------------------------------------- a run (finding 3, end to end)
PLANTING = """import base64, io, json
from IPython.display import HTML, SVG, Markdown, display
from matplotlib.figure import Figure
p = json.loads(bytes.fromhex(planted))
print("child", p["CHILD"])
display(HTML(f'<span data-pupil="{p["UPN"]}">a pupil</span>'))
display(HTML(f'<!-- worker {p["SW_ID"]} --><p>caseload</p>'))
print("born", p["dob"][0]); print("born", p["dob"][1]); print("born", p["dob"][2])
display(Markdown("home " + p["post"].lower()))
print(base64.b64encode(("record " + p["base64"]).encode()).decode())
fig = Figure(figsize=(2, 1)); fig.add_subplot().set_xlabel(p["svg"])
buf = io.StringIO(); fig.savefig(buf, format="svg"); display(SVG(buf.getvalue()))"""


def _planting_notebook(folder):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_raw_cell(FRONT),
                nbformat.v4.new_code_cell('la_code = "SYN01"\nplanted = ""',
                                          metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell(PLANTING)]
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(folder / "planted.ipynb"))
    return folder / "planted.ipynb"


def _one_of(mapping, kind, avoid=()):
    return next(v for v, k in sorted(mapping.items(), key=lambda kv: str(kv[0]))
                if k == kind and v not in avoid)


@pytest.mark.slow
def test_a_run_whose_notebook_output_carries_each_kind_fails_and_publishes_nothing(
        tiny_setup, tmp_path):
    """Each kind planted in a notebook's output (hex-coded in the parameters, so only the
    page carries it) is caught in the page, named, and nothing is published."""
    held = identifiers_from_warehouse(tiny_setup / "data" / "warehouse.duckdb", ["SYN01"])
    shown = report_dates(PERIOD)
    dob = next(d for d, k in sorted(held.dates.items()) if k == "DOB" and d not in shown)
    upn = _one_of(held.ids, "UPN")
    plant = {"CHILD": _one_of(held.ids, "CHILD"), "UPN": upn, "SW_ID": _one_of(held.ids, "SW_ID"),
             "dob": [dob.strftime("%d/%m/%Y"), f"{dob.day} {dob:%B %Y}", dob.isoformat()],
             "post": _one_of(held.postcodes, "HOME_POST"),
             "base64": _one_of(held.ids, "UPN", avoid=[upn]),
             "svg": _one_of(held.ids, "CHILD", avoid=[_one_of(held.ids, "CHILD")])}
    notebook = _planting_notebook(tmp_path / "nb")
    config = tiny_config(tiny_setup, tmp_path, ["SYN01"], notebooks=(str(notebook),),
                         identifiers=None,
                         extra_parameters={"planted": json.dumps(plant).encode().hex()})
    with pytest.raises(RunError, match="leak scan") as info:
        run(config)
    page = [x for x in info.value.result.leaks if x.startswith("SYN01/planted.html")]
    expected = {"a CHILD held", "a UPN held", "a SW_ID held", "postcode (HOME_POST)",
                "date of birth or death (DOB"}
    for what in expected:
        assert any(what in x for x in page), (what, page)
    assert sum("date_of_birth" in x for x in page) >= 3
    assert any("(base64)" in x and "a UPN held" in x for x in page), page
    assert sum("a CHILD held" in x for x in page) >= 2  # the printed one and the chart label
    message = str(info.value)
    assert not any(str(v) in message for v in [*plant.values(), *plant["dob"]] if isinstance(v, str))
    reports = tmp_path / "reports"
    assert not reports.exists() or not [p for p in reports.rglob("*") if p.is_file()]
    quarantine = list((tmp_path / "restricted" / PERIOD).glob("quarantine-*"))
    assert quarantine and list(quarantine[0].rglob("planted.html"))


def test_worker_processes_find_the_same_leaks_in_the_same_order(tmp_path):
    """A national run scans hundreds of pages in ``jobs`` processes: same leaks, same order."""
    import csc_outcomes.reporting.leak_scan as ls

    pages = [f"<p>clean page {i} for 30 April 2025</p>" for i in range(ls.PARALLEL_FROM + 4)]
    pages[3] += "\n<td>C1000001</td><td>15/06/2012</td>"  # an id and a date of birth by it
    pages[11] += "\n<p>born 5 November 2019</p>"  # a date of birth alone
    pages[-1] += "\n<p>AB1 2CD</p>"  # a postcode, in the last file
    for i, page in enumerate(pages):
        (tmp_path / f"p{i:02d}.html").write_text(page, encoding="utf-8")
    one = scan([tmp_path], HELD, jobs=1)
    two = scan([tmp_path], HELD, jobs=2)
    assert [(x.file, x.line, x.rule) for x in one] == [
        (str(tmp_path / "p03.html"), 2, "known_identifier"),
        (str(tmp_path / "p03.html"), 2, "date_of_birth"),
        (str(tmp_path / "p11.html"), 2, "date_of_birth"),
        (str(tmp_path / f"p{len(pages) - 1:02d}.html"), 2, "postcode")]
    assert two == one


def test_a_line_without_a_year_is_not_read_for_dates(tmp_path, monkeypatch):
    """Every date form holds a four-digit year, so lines without one skip the date pattern."""
    import csc_outcomes.reporting.leak_text as lt

    calls = []
    real = lt.DATE_PATTERN

    class Counting:
        def finditer(self, line):
            calls.append(line)
            return real.finditer(line)

    monkeypatch.setattr(lt, "DATE_PATTERN", Counting())
    text = "no year on this line 12/06\nborn 15/06/2012 here\n" + " " * 5000
    assert [h.rule for h in lt.text_hits(text, HELD)] == ["date_of_birth"]
    assert calls == ["born 15/06/2012 here"]


def test_a_pdfs_tables_are_read_from_what_its_notebook_shows(tmp_path):
    """Attacker (a third review): a Markdown table (an LA's context file shown with
    ``ctx.say``) is a table in the PDF too, and was not read; an output the render removes
    by tag was read, and would have blocked a report that does not show it."""
    table = "| Team | Count |\n|---|---|\n| Fostering east | 2 |\n"
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(table),
                nbformat.v4.new_code_cell("ctx.say(text)", outputs=[nbformat.v4.new_output(
                    "display_data", data={"text/markdown": table})]),
                nbformat.v4.new_code_cell("qa", metadata={"tags": ["remove-output"]},
                                          outputs=[nbformat.v4.new_output(
                                              "display_data", data={"text/markdown": table})]),
                nbformat.v4.new_markdown_cell(table, metadata={"tags": ["remove-cell"]})]
    nbformat.write(nb, str(tmp_path / "tiny.ipynb"))
    found = notebook_table_leaks(tmp_path / "tiny.pdf", tmp_path / "tiny.ipynb")
    assert [(x.file.rsplit("/", 1)[-1], x.rule, x.location.split(",")[0]) for x in found] == [
        ("tiny.pdf", "small_count", "a table of its notebook's cell 0"),
        ("tiny.pdf", "small_count", "a table of its notebook's cell 1")]


@pytest.mark.slow
def test_a_pdf_report_is_refused_for_small_counts_in_its_tables(tiny_setup, tmp_path):
    """Attacker (a second review): a notebook displaying a count of 2, published as PDF
    alone, passed: a PDF's text has lost its tables' columns. The tables of the notebook
    each PDF was rendered from are read instead, and the finding names the PDF."""
    notebooks = tmp_path / "notebooks"
    raw = 'pd.DataFrame({"Group": ["Asian", "Black"], "Count": [40, 2]}).set_index("Group")'
    make_notebook(notebooks, body=[*BODY, ("code", raw)])
    config = tiny_config(tiny_setup, tmp_path / "out", notebooks_dir=notebooks, formats=("pdf",))
    with pytest.raises(RunError, match=r"SYN01/tiny\.pdf \(a table of its notebook's cell \d+, "
                                       r"line \d+\): small_count: \* an unsuppressed count "
                                       r"from 1 to 5 in column 'Count'"):
        run(config)
    assert not (tmp_path / "out" / "reports" / PERIOD).exists()
