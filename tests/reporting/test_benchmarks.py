"""Comparators from the published files: figures read by hand from published/*.csv.

c1 referrals, 2025: England 142,900 re-referrals of 632,830 referrals; North East
6,730 of 32,490; Hartlepool (E06000001) 536 of 2,020, 0-17 population 21,090. Its ten
statistical neighbours' re-referral rates run from Gateshead's 224/1,613 to
Middlesbrough's 921/3,636; the middle two are Sunderland's 590/3,193 and County
Durham's 1,003/5,378.
"""

from __future__ import annotations

import pandas as pd
import pytest

from csc_outcomes.reporting import benchmarks
from csc_outcomes.reporting.published_data import load_published

PERIOD = "2026-03-31"
COLS = ["la_code", "period_end", "measure_id", "numerator", "denominator", "value"]


@pytest.fixture(scope="module")
def pub():
    return load_published()


def measures(rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=COLS)


def one_la(rr=(50, 200), referrals=900, la="SYN01", period=PERIOD) -> pd.DataFrame:
    """A warehouse with one LA: its own figures only."""
    num, den = rr
    return measures([(la, period, "rereferrals_within_12m", num, den, num / den),
                     (la, period, "referrals", referrals, None, float(referrals))])


def row(frame: pd.DataFrame, measure_id: str) -> pd.Series:
    return frame.set_index("measure_id").loc[measure_id]


def test_one_la_gets_england_region_and_neighbours_of_the_la_it_stands_in_for(pub):
    out = benchmarks.comparators(one_la(), "SYN01", PERIOD, like="E06000001", published=pub)
    assert list(out.columns) == benchmarks.COLUMNS
    r = row(out, "rereferrals_within_12m")
    assert r["la_value"] == pytest.approx(0.25) and r["la_shown"] == "25.0%"
    assert r["england"] == pytest.approx(142900 / 632830)
    assert r["region"] == pytest.approx(6730 / 32490) and r["region_name"] == "North East"
    assert r["neighbours_n"] == 10
    assert r["neighbours_median"] == pytest.approx((590 / 3193 + 1003 / 5378) / 2)
    assert r["neighbours_min"] == pytest.approx(224 / 1613)
    assert r["neighbours_max"] == pytest.approx(921 / 3636)
    assert r["published_year"] == 2025
    assert pd.isna(r["la_published"]) and r["reconciliation"] == ""  # synthetic: nothing to reconcile


def test_counts_are_per_10000_children(pub):
    out = benchmarks.comparators(one_la(la="E06000001"), "E06000001", PERIOD, published=pub)
    r = row(out, "referrals")
    assert bool(r["per_10k"])
    # own 900 referrals over Hartlepool's population (2025, the nearest year to 2026)
    assert r["la_value"] == pytest.approx(900 / 21090 * 10_000)
    assert r["england"] == pytest.approx(632830 / 12183016 * 10_000)
    assert r["la_shown"] == "426.7"
    # a synthetic LA has no population of its own: its count is not set beside rates
    r = row(benchmarks.comparators(one_la(), "SYN01", PERIOD, like="E06000001", published=pub),
            "referrals")
    assert pd.isna(r["la_value"]) and r["la_shown"] == "x" and pd.notna(r["england"])


def test_a_suppressed_own_figure_is_not_placed(pub):
    out = benchmarks.comparators(one_la(rr=(3, 200)), "SYN01", PERIOD, like="E06000001",
                                 published=pub)
    r = row(out, "rereferrals_within_12m")
    assert r["la_shown"] == "c" and pd.isna(r["la_value"]) and pd.isna(r["quartile_band"])
    words = benchmarks.comparator_sentence(r, "Synthetia")
    assert "not placed" in words and "above" not in words and "below" not in words
    assert "quarter" not in words


def test_sentence_says_how_far_from_each_comparator(pub):
    out = benchmarks.comparators(one_la(), "SYN01", PERIOD, like="E06000001", published=pub)
    words = benchmarks.comparator_sentence(row(out, "rereferrals_within_12m"), "Synthetia")
    # 25.0% against England's 22.58%: 2.4 points; North East 20.71%: 4.3 points
    assert "25.0% for Synthetia" in words
    assert "2.4 percentage points above England" in words
    assert "4.3 percentage points above North East" in words
    assert "better" not in words


def test_a_real_la_is_reconciled_with_its_own_published_figure(pub):
    same = one_la(rr=(536, 2020), la="E06000001", period="2025-03-31")
    out = benchmarks.comparators(same, "E06000001", "2025-03-31", published=pub)
    r = row(out, "rereferrals_within_12m")
    assert r["la_published"] == pytest.approx(536 / 2020)
    assert r["difference"] == pytest.approx(0) and r["reconciliation"] == "matches"
    assert r["region_name"] == "North East" and r["neighbours_n"] == 10  # no list needed
    off = one_la(rr=(600, 2020), la="E06000001", period="2025-03-31")
    r = row(benchmarks.comparators(off, "E06000001", "2025-03-31", published=pub),
            "rereferrals_within_12m")
    assert r["difference"] == pytest.approx(64 / 2020) and r["reconciliation"].startswith("differs")


def test_definition_notes_travel_with_the_figure(pub):
    out = benchmarks.comparators(one_la(), "SYN01", PERIOD, like="E06000001", published=pub)
    assert "no further action" in row(out, "referrals_nfa")["note"]
    assert row(out, "rereferrals_within_12m")["note"] == ""
    table = benchmarks.display_table(out, "Synthetia")
    assert table.loc[table["Measure"] == "Re-referrals within 12 months", "England"].item() == "22.6%"
    # the table carries a short reference (long notes made the PDF table run over pages)
    nfa = table.loc[table["Measure"] == "Referrals with no further action", "Definition differs"]
    number = int(nfa.item().removeprefix("see note "))
    notes = benchmarks.definition_notes(out)
    assert f"{number}. {row(out, 'referrals_nfa')['note']}" in notes
    assert table["Definition differs"].str.len().max() <= len("see note 10")


def test_an_la_with_no_real_counterpart_gets_england_only(pub):
    out = benchmarks.comparators(one_la(), "SYN01", PERIOD, published=pub)
    r = row(out, "rereferrals_within_12m")
    assert r["england"] == pytest.approx(142900 / 632830)
    assert pd.isna(r["region"]) and r["neighbours_n"] == 0
    assert "no region" in benchmarks.introduction(pub, "SYN01", "Synthetia")


@pytest.mark.parametrize(("value", "band"), [(2, 1), (2.75, 1), (3, 2), (5, 3), (7, 4),
                                             (float("nan"), pd.NA)])
def test_quartile_band(value, band):
    # 1..8: quartiles 2.75, 4.5, 6.25 (linear interpolation)
    assert benchmarks.quartile_band(value, range(1, 9)) is band or \
        benchmarks.quartile_band(value, range(1, 9)) == band


def test_a_published_symbol_is_shown_as_published(pub):
    # c1 file, 2025: Redcar and Cleveland's no-further-action count is published as c
    m = measures([("E06000003", "2025-03-31", "referrals_nfa", 40, 1967, 40 / 1967)])
    r = row(benchmarks.comparators(m, "E06000003", "2025-03-31", published=pub), "referrals_nfa")
    assert pd.isna(r["la_published"]) and r["reconciliation"].startswith("published as c")
    assert r["la_shown"] == "2.0%"
