"""Placement stability and school attendance: OLS with standard errors clustered by child.

Model (statsmodels ``OLS``), one row per looked-after child per term
(:func:`csc_outcomes.stats.frames.attendance_frame`)::

    attendance = a + b * moves + e

``moves`` counts placement changes in the 365 days before the term started. A child
contributes several terms, and children differ in their usual attendance, so errors are
correlated within child: standard errors are cluster-robust by child (LA and ``CHILD``),
which keeps the point estimate and corrects its uncertainty.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from csc_outcomes.stats.summary import coefficient_table

__all__ = ["StabilityFit", "coef_table", "fit_stability"]

_LABELS = {"const": "Intercept", "moves": "Placement moves in the previous year (each)"}


@dataclass
class StabilityFit:
    """A fitted attendance model: the statsmodels result and its frame."""

    result: Any
    frame: pd.DataFrame = field(repr=False)

    def coef_table(self, alpha: float = 0.05) -> pd.DataFrame:
        """Coefficients with (1 - alpha) confidence intervals."""
        return coef_table(self.result, alpha=alpha)


def coef_table(result: Any, *, alpha: float = 0.05) -> pd.DataFrame:
    """Coefficients with (1 - alpha) confidence intervals (cluster-robust when fitted so):
    ``term, label, coef, se, ci_lower, ci_upper, p_value``."""
    return coefficient_table(result, alpha=alpha, labels=_LABELS)


def fit_stability(
    frame: pd.DataFrame,
    *,
    covariates: Sequence[str] = (),
    child: Sequence[str] = ("la_code", "CHILD"),
) -> StabilityFit:
    """Fit attendance on moves (plus ``covariates``) with SEs clustered by ``child``."""
    import statsmodels.api as sm  # noqa: PLC0415 - statsmodels is slow to import: load it on first fit

    df = frame.dropna(subset=["attendance", "moves", *covariates]).reset_index(drop=True)
    x = pd.DataFrame({"const": 1.0, "moves": df["moves"].astype(float)})
    for c in covariates:
        x[c] = df[c].astype(float)
    cols = [c for c in child if c in df.columns]
    key = df[cols[0]].astype(str)
    for c in cols[1:]:
        key = key + "\x00" + df[c].astype(str)
    groups = pd.factorize(key)[0]
    result = sm.OLS(df["attendance"].astype(float), x).fit(
        cov_type="cluster", cov_kwds={"groups": groups}
    )
    return StabilityFit(result, df)
