"""What a report shows of the proportionality model: observed against expected, released.

``stats.proportionality.expected_by_la`` gives, per LA and outcome, the assessments
observed at each level and the number expected from the needs recorded. These are
counts of children, so what is shown goes through the one disclosure step: the LA's
observed counts through ``suppress_table`` (the column adds up to the LA's
assessments, which the expected column also reveals), and an observed/expected ratio
is withheld wherever its observed count (or the rest of the assessments) is small, as
a rate would be.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from csc_outcomes.reporting import disclosure
from csc_outcomes.stats.frames import LEVEL_LABELS
from csc_outcomes.stats.funnel import level_tag

#: The headline outcome: a child protection plan or care.
HEADLINE = "Plan or care"


def level_table(expected: pd.DataFrame, la_code: str,
                threshold: int = disclosure.DEFAULT_THRESHOLD) -> pd.DataFrame:
    """This LA's assessments by level: observed (suppressed) and expected from needs."""
    mine = expected[expected["la_code"] == la_code].set_index("outcome")
    labels = [LEVEL_LABELS[k] for k in sorted(LEVEL_LABELS) if LEVEL_LABELS[k] in mine.index]
    observed = mine.loc[labels, ["observed"]].astype(int).rename(columns={"observed": "Observed"})
    shown = disclosure.suppress_table(observed, threshold, rows=False)
    # a model's estimate (a sum of probabilities), not a count of children: one decimal
    # says so, and no child is behind it
    shown["Expected from needs"] = mine.loc[labels, "expected"].round(1).to_numpy()
    shown.index = pd.Index(labels, name="Level of intervention")
    return disclosure.mark_released(shown, threshold)


def ratio_is_small(frame: pd.DataFrame, threshold: int) -> pd.Series:
    """Ratios resting on a small count: observed, or the other assessments, 1..threshold."""
    rest = frame["assessments"] - frame["observed"]
    return (disclosure.is_small(frame["observed"], threshold).to_numpy()
            | disclosure.is_small(rest, threshold).to_numpy())


def headline_ratios(expected: pd.DataFrame, threshold: int = disclosure.DEFAULT_THRESHOLD,
                    level: float = 0.95) -> pd.DataFrame:
    """Every LA's observed/expected ratio for a plan or care, with its limits and flag;
    ``ratio`` is ``c`` (and the limits empty) where it rests on a small count."""
    tag = level_tag(level)
    rows = expected[expected["outcome"] == HEADLINE].reset_index(drop=True)
    small = ratio_is_small(rows, threshold)
    out = pd.DataFrame({"label": rows["la_code"], "ratio": rows["ratio"].astype(float),
                        "ci_lower": rows[f"lower_{tag}"], "ci_upper": rows[f"upper_{tag}"],
                        "flag": rows[f"flag_{tag}"]})
    out.loc[small, ["ratio", "ci_lower", "ci_upper"]] = np.nan
    out["flag"] = out["flag"].where(~small, disclosure.SUPPRESSED)
    return disclosure.mark_released(out, threshold)


def headline_sentence(ratios: pd.DataFrame, la_code: str, name: str) -> str:
    """Where the LA sits, as a question to explore, never a verdict."""
    row = ratios[ratios["label"] == la_code]
    if row.empty or pd.isna(row["ratio"].iloc[0]):
        return (f"{name}'s observed-to-expected ratio is not shown: it rests on a small "
                "number of assessments.")
    ratio, flag = float(row["ratio"].iloc[0]), str(row["flag"].iloc[0])
    words = {"above": "more often than the needs recorded would lead one to expect, beyond "
                      "what chance explains",
             "below": "less often than the needs recorded would lead one to expect, beyond "
                      "what chance explains",
             "inside": "about as often as the needs recorded would lead one to expect"}[flag]
    return (f"{name}'s assessments led to a child protection plan or care {ratio:.2f} times "
            f"as often as expected from their needs: {words}. A question to explore, not a "
            "verdict: needs are only what the assessment recorded.")
