"""Disclosure control: suppression, rounding, the measures table and the leak scan."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from csc_outcomes.reporting import disclosure as d


def test_primary_suppression_of_counts():
    assert d.suppress_counts([0, 1, 5, 6]).tolist() == [0, "c", "c", 6]


def test_threshold_is_configurable_and_missing_is_x():
    assert d.suppress_counts([3, 9, 10, None], threshold=9).tolist() == [3 and "c", "c", 10, "x"]


def test_secondary_single_suppression_in_a_row_takes_next_smallest():
    table = pd.DataFrame({"a": [3, 50], "b": [12, 60], "c": [40, 70]})
    out = d.suppress_table(table, columns=False)
    # row 0: 3 is primary; next smallest of (12, 40) is 12
    assert out.loc[0].tolist() == ["c", "c", 40]
    assert out.loc[1].tolist() == [50, 60, 70]


def test_secondary_suppression_runs_across_rows_and_columns_until_stable():
    table = pd.DataFrame({"g": ["a", "b", "c"], "x": [3, 10, 20], "y": [12, 8, 30], "z": [40, 7, 9]})
    out = d.suppress_table(table, exclude=["g"])
    assert out["g"].tolist() == ["a", "b", "c"]
    assert out[["x", "y", "z"]].values.tolist() == [["c", "c", 40], ["c", "c", 7], [20, 30, 9]]
    # every row and every column has 0 or at least 2 suppressed cells
    m = out[["x", "y", "z"]] == "c"
    assert not (m.sum(axis=1) == 1).any()
    assert not (m.sum(axis=0) == 1).any()


def test_secondary_prefers_a_nonzero_cell_and_leaves_two_suppressions_alone():
    # one suppressed: skip the zero, take 9
    m = d.secondary_mask([2, 0, 9, 30], [True, False, False, False], ["g"] * 4)
    assert m.tolist() == [True, False, True, False]
    # two already suppressed: nothing more
    m2 = d.secondary_mask([2, 4, 9, 30], [True, True, False, False], ["g"] * 4)
    assert m2.tolist() == [True, True, False, False]


def test_secondary_mask_is_per_group():
    vals = [2, 10, 20, 50, 60, 70]
    groups = ["a", "a", "a", "b", "b", "b"]
    prim = [True, False, False, False, False, False]
    assert d.secondary_mask(vals, prim, groups).tolist() == [True, True, False, False, False, False]


def test_rates_with_suppressed_parts_are_suppressed():
    out = d.suppress_rate([0.3, 0.5, 0.9, None, 0.06], [3, 50, 90, 0, 6], [10, 100, 100, 0, 100])
    assert out.tolist() == ["c", 0.5, 0.9, "z", 0.06]
    # denominator small, numerator zero
    assert d.suppress_rate([0.0], [0], [4]).tolist() == ["c"]


@pytest.mark.parametrize(
    "value, expected",
    [(0, 0), (1, "k"), (4, "k"), (5, 10), (14, 10), (15, 20), (1234, 1230), (81773, 81770), (None, "x")],
)
def test_round_to_nearest_ten(value, expected):
    assert d.round_to_base([value]).tolist() == [expected]


def test_suppress_measures_display_frame():
    m = pd.DataFrame(
        {
            "la_code": "SYN01",
            "period_end": pd.Timestamp("2025-03-31"),
            "measure_id": ["referrals", "referrals", "rr", "rr", "rr", "ratio"],
            "numerator": [4, 0, 3, 50, 0, 100],
            "denominator": [None, None, 10, 100, 0, 40],
            "value": [4, 0, 0.3, 0.5, None, 2.5],
        }
    )
    out = d.suppress_measures(m, kinds={"rr": "rate", "ratio": "ratio", "referrals": "count"})
    assert out["value"].tolist() == ["c", 0, "c", 0.5, "z", 2.5]
    assert out["numerator"].tolist() == ["c", 0, "c", 50, 0, 100]
    assert out["denominator"].tolist() == ["z", "z", 10, 100, 0, 40]
    assert out["display"].tolist() == ["c", "0", "c", "50.0%", "z", "2.50"]
    assert out["suppressed"].tolist() == [True, False, True, False, False, False]
    assert list(out.columns[:6]) == ["la_code", "period_end", "measure_id", "numerator", "denominator", "value"]


def test_suppress_measures_suppresses_rate_with_small_denominator():
    m = pd.DataFrame(
        {"la_code": ["A"], "period_end": ["2025-03-31"], "measure_id": ["x"],
         "numerator": [4], "denominator": [5], "value": [0.8]}
    )
    out = d.suppress_measures(m, kinds={"x": "rate"})
    assert out.loc[0, "value"] == "c" and out.loc[0, "denominator"] == "c"


# ---------------------------------------------------------------------------- leak scan

IDS = {"CH10234", "A123456789012"}


def _rules(leaks):
    return sorted({leak.rule for leak in leaks})


def test_leak_scan_finds_planted_identifiers(tmp_path):
    (tmp_path / "report.html").write_text(
        "<html><body><p>Total 1,234</p>\n<td>CH10234</td><td>03/04/2012</td></body></html>",
        encoding="utf-8",
    )
    leaks = d.scan_for_leaks([tmp_path], identifiers=IDS)
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
    leaks = d.scan_for_leaks(tmp_path)
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
    leaks = d.scan_for_leaks(tmp_path)
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
    assert d.scan_for_leaks([tmp_path], identifiers=IDS) == []


def test_short_identifiers_are_skipped_not_matched_everywhere(tmp_path):
    (tmp_path / "a.html").write_text("<p>12 children</p>", encoding="utf-8")
    assert d.scan_for_leaks(tmp_path, identifiers={"12"}) == []


def test_pdf_is_read_or_skipped_with_a_warning(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure()
    fig.text(0.1, 0.5, "Pupil A123456789012 in the table")
    fig.savefig(tmp_path / "report.pdf")
    try:
        import pypdf  # noqa: F401
    except ImportError:
        with pytest.warns(UserWarning, match="not scanned"):
            assert d.scan_for_leaks(tmp_path) == []
    else:
        leaks = d.scan_for_leaks(tmp_path)
        assert [x.rule for x in leaks] == ["upn_shape"]
        assert leaks[0].location == "pdf text"


def test_damaged_pdf_warns_and_does_not_stop_the_scan(tmp_path):
    pytest.importorskip("pypdf")
    (tmp_path / "bad.pdf").write_bytes(b"%PDF-1.4 not really")
    (tmp_path / "x.html").write_text("A123456789012", encoding="utf-8")
    with pytest.warns(UserWarning):
        leaks = d.scan_for_leaks(tmp_path)
    assert [x.rule for x in leaks] == ["upn_shape"]
