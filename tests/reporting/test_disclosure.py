"""Disclosure control: suppression, rounding and the measures table."""

from __future__ import annotations

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
