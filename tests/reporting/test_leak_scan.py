"""The leak scan: identifiers, UPN shapes, dates of birth and small counts in published files."""

from __future__ import annotations

import json

import pytest

from csc_outcomes.reporting.leak_scan import scan_for_leaks

IDS = {"CH10234", "A123456789012"}


def _rules(leaks):
    return sorted({leak.rule for leak in leaks})


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
    from matplotlib.figure import Figure

    fig = Figure()
    fig.text(0.1, 0.5, "Pupil A123456789012 in the table")
    fig.savefig(tmp_path / "report.pdf")
    leaks = scan_for_leaks(tmp_path)
    assert [x.rule for x in leaks] == ["upn_shape"]
    assert leaks[0].location == "pdf text"


def test_damaged_pdf_warns_and_does_not_stop_the_scan(tmp_path):
    (tmp_path / "bad.pdf").write_bytes(b"%PDF-1.4 not really")
    (tmp_path / "x.html").write_text("A123456789012", encoding="utf-8")
    with pytest.warns(UserWarning):
        leaks = scan_for_leaks(tmp_path)
    assert [x.rule for x in leaks] == ["upn_shape"]
