"""Re-referral within 12 months of closure: a logit on level reached and episode length.

Model (statsmodels ``Logit``), one row per closed CIN episode
(:func:`csc_outcomes.stats.frames.closure_frame`)::

    logit P(rereferred) = a + b[level_group] + b_months * length_months

``level_group`` is categorical with reference ``"0"`` (assessed, no plan); referrals
closed with no further action form their own group ``"nfa"`` when present
(``level="categorical"``). ``level="linear"`` enters the level 0-3 as one number
instead. Odds ratios: :func:`csc_outcomes.stats.proportionality.odds_ratio_table`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd

from csc_outcomes.stats.proportionality import odds_ratio_table

__all__ = ["RereferralFit", "fit_rereferral", "rereferral_design"]

LEVEL_ORDER = ["nfa", "0", "1", "2", "3"]


@dataclass
class RereferralFit:
    """A fitted re-referral logit: the statsmodels result, its terms and its frame."""

    result: Any
    terms: list[str]
    frame: pd.DataFrame = field(repr=False)

    def odds_ratios(self, alpha: float = 0.05) -> pd.DataFrame:
        """Odds ratios with (1 - alpha) confidence intervals, one row per term."""
        return odds_ratio_table(self.result, alpha=alpha, labels=_LABELS)


_LABELS = {
    "level_nfa": "No further action (vs assessed, no plan)",
    "level_1": "CIN plan (vs assessed, no plan)",
    "level_2": "Child protection plan (vs assessed, no plan)",
    "level_3": "Looked after (vs assessed, no plan)",
    "level": "Level of intervention (per step)",
    "length_months": "Episode length (per month)",
    "const": "Intercept",
}


def rereferral_design(
    frame: pd.DataFrame,
    *,
    level: Literal["categorical", "linear"] = "categorical",
    covariates: Sequence[str] = ("length_months",),
) -> pd.DataFrame:
    """The design matrix: ``const``, level terms and covariates."""
    x = pd.DataFrame({"const": 1.0}, index=frame.index)
    if level == "categorical":
        group = frame["level_group"] if "level_group" in frame else frame["level"].astype(str)
        present = [g for g in LEVEL_ORDER if g != "0" and (group == g).any()]
        for g in present:
            x[f"level_{g}"] = (group == g).astype(float)
    elif level == "linear":
        x["level"] = frame["level"].astype(float)
    else:
        raise ValueError(f"level must be categorical or linear, not {level!r}")
    for c in covariates:
        x[c] = frame[c].astype(float)
    return x


def fit_rereferral(
    frame: pd.DataFrame,
    *,
    level: Literal["categorical", "linear"] = "categorical",
    covariates: Sequence[str] = ("length_months",),
    cluster: str | None = None,
) -> RereferralFit:
    """Fit the re-referral logit. ``cluster``: a column (e.g. ``LAchildID``) for
    cluster-robust standard errors (a child may have several closures)."""
    import statsmodels.api as sm  # noqa: PLC0415 - statsmodels is slow to import: load it on first fit

    df = frame.dropna(subset=["rereferred", *covariates]).reset_index(drop=True)
    x = rereferral_design(df, level=level, covariates=covariates)
    y = df["rereferred"].astype(float)
    model = sm.Logit(y, x)
    if cluster:
        key = df[cluster].astype(str)
        if "la_code" in df.columns:
            key = df["la_code"].astype(str) + "\x00" + key
        groups = pd.factorize(key)[0]
        result = model.fit(disp=False, cov_type="cluster", cov_kwds={"groups": groups})
    else:
        result = model.fit(disp=False)
    return RereferralFit(result, list(x.columns), df)
