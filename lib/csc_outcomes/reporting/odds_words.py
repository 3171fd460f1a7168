"""Odds ratios in plain English, read as associations, never as causes.

A model table of odds ratios is hard to read, and easy to misread as "a child
protection plan makes re-referral 1.8 times as likely". Each sentence here says what
an odds ratio compares in words (times the odds, or how much lower), whether its
interval takes in no difference at all, and the list ends with what it cannot show:
families who reach a higher level differ in ways the records do not hold.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

CAVEAT = ("These are associations in the records, not causes: children and families who "
          "differ on one term may differ in ways the data do not hold, so an odds ratio does "
          "not say what would happen if practice changed.")


def odds_phrase(ratio: float) -> str:
    """``1.8 times the odds`` above 1, ``40% lower odds`` below, ``the same odds`` at 1."""
    if round(ratio, 2) == 1:
        return "the same odds"
    if ratio > 1:
        return f"{ratio:.2f} times the odds"
    return f"{(1 - ratio) * 100:.0f}% lower odds"


def odds_sentence(row: pd.Series | dict[str, Any], outcome: str) -> str:
    """One row of an odds-ratio table (``label, odds_ratio, ci_lower, ci_upper``) in words."""
    lo, hi = float(row["ci_lower"]), float(row["ci_upper"])
    text = (f"{row['label']}: {odds_phrase(float(row['odds_ratio']))} of {outcome} "
            f"(95% interval {lo:.2f} to {hi:.2f})")
    if lo <= 1 <= hi:
        text += "; the interval takes in no difference at all"
    return text + "."


def sentences(table: pd.DataFrame, outcome: str) -> str:
    """Each row of an odds-ratio table in words, as a list, and the caveat."""
    lines = [f"- {odds_sentence(r, outcome)}" for _, r in table.iterrows()]
    return "\n".join([*lines, "", CAVEAT])
