"""Odds ratios read in plain English, as associations."""

from __future__ import annotations

from csc_outcomes.reporting import odds_words


def test_odds_ratios_in_words():
    assert odds_words.odds_phrase(1.8) == "1.80 times the odds"
    assert odds_words.odds_phrase(0.6) == "40% lower odds"
    assert odds_words.odds_phrase(1.001) == "the same odds"
    row = {"label": "Child protection plan (vs assessed, no plan)", "odds_ratio": 1.8,
           "ci_lower": 1.3, "ci_upper": 2.4}
    assert odds_words.odds_sentence(row, "re-referral") == (
        "Child protection plan (vs assessed, no plan): 1.80 times the odds of re-referral "
        "(95% interval 1.30 to 2.40).")
    row = {**row, "odds_ratio": 0.9, "ci_lower": 0.7, "ci_upper": 1.2}
    assert "takes in no difference" in odds_words.odds_sentence(row, "re-referral")


def test_the_list_ends_saying_association_not_cause():
    import pandas as pd

    table = pd.DataFrame([{"label": "x", "odds_ratio": 2.0, "ci_lower": 1.5, "ci_upper": 2.5}])
    text = odds_words.sentences(table, "re-referral")
    assert text.startswith("- x: 2.00 times the odds")
    assert "associations" in text and "not causes" in text
    assert "causes re-referral" not in text and "makes" not in text
