"""The tracker's published counts: suppressed, row totals protected."""

from __future__ import annotations

import pandas as pd

from csc_outcomes.reporting.tracker_rating import DOMAINS, RATINGS
from csc_outcomes.reporting.tracker_summary import (
    SUMMARY_FILE,
    released,
    released_summary,
    summary_counts,
)


def test_counts_per_domain_and_rating():
    rated = pd.DataFrame({f"{d.key}_rag": ["Red", "Green", "Green"] for d in DOMAINS})
    rated["sdq_rag"] = ["No data", "Not applicable", "Amber"]
    counts = summary_counts(rated).set_index("Domain")
    assert list(counts.columns) == list(RATINGS)
    assert counts.loc["Placement moves (12 months)"].tolist() == [1, 0, 2, 0, 0]
    assert counts.loc["SDQ score"].tolist() == [0, 1, 0, 1, 1]


def test_small_counts_and_what_the_row_total_would_reveal_are_suppressed():
    counts = pd.DataFrame({"Domain": ["A", "B", "C"], "Red": [3, 0, 12], "Amber": [10, 6, 8],
                           "Green": [20, 30, 7], "No data": [0, 0, 0],
                           "Not applicable": [0, 0, 6]})
    out = released(counts, 5)
    # A: 3 is small; the row adds up to the published number in care (33), so the
    # next smallest count (10) goes too. B and C have no count from 1 to 5 but 6.
    assert out.iloc[0].tolist() == ["A", "c", "c", 20, 0, 0]
    assert out.iloc[1].tolist() == ["B", 0, 6, 30, 0, 0]
    assert out.iloc[2].tolist() == ["C", 12, 8, 7, 0, 6]


def test_released_summary_reads_the_restricted_counts(tmp_path):
    assert released_summary(tmp_path, 5) is None  # no run yet: the notebook says so
    pd.DataFrame({"Domain": ["A"], "Red": [2], "Amber": [0], "Green": [9], "No data": [0],
                  "Not applicable": [0]}).to_csv(tmp_path / SUMMARY_FILE, index=False)
    assert released_summary(tmp_path, 5).iloc[0].tolist() == ["A", "c", 0, "c", 0, 0]
