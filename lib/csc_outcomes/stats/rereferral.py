"""Re-referral within 12 months of closure: a logit on level reached and episode length.

Model (statsmodels ``Logit``), one row per closed CIN episode
(:func:`csc_outcomes.stats.frames.closure_frame`)::

    logit P(rereferred) = a + b[level_group] + b_months * length_months [+ u_LA]

``level_group`` is categorical with reference ``"0"`` (assessed, no plan); referrals
closed with no further action form their own group ``"nfa"`` when present
(``level="categorical"``). ``level="linear"`` enters the level 0-3 as one number
instead. Only closures that can be re-referred within the year are fitted
(``eligible``: under 17 at closure, not closed on adoption): the others have no
chance of the outcome and would pull every estimate towards "no re-referral". LA
indicators (``la_effects``, the first LA the reference) keep differences between LAs'
re-referral rates out of the level and length effects. The odds ratios are
associations in these data, not the effect of closing a case at a given level.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd

from csc_outcomes.stats.summary import Estimates, coefficient_table

__all__ = ["RereferralFit", "fit_rereferral", "rereferral_design"]

LEVEL_ORDER = ["nfa", "0", "1", "2", "3"]


@dataclass
class RereferralFit:
    """A fitted re-referral logit: the statsmodels result, its terms and its frame."""

    result: Any
    terms: list[str]
    frame: pd.DataFrame = field(repr=False)

    def __getstate__(self) -> dict[str, Any]:
        """Pickled with its ``Estimates`` in place of the statsmodels result: a report
        reads only the odds ratios of a pooled fit, and unpickling the result would import
        statsmodels, seconds in every notebook that loads the fit."""
        return {**self.__dict__, "result": Estimates.of(self.result)}

    def odds_ratios(self, alpha: float = 0.05) -> pd.DataFrame:
        """Odds ratios with (1 - alpha) confidence intervals, one row per term."""
        labels = {**_LABELS, **{t: f"LA {t[len('la_'):]}" for t in self.terms if t.startswith("la_")}}
        return coefficient_table(self.result, alpha=alpha, exponentiate=True,
                                 drop=["const", *[t for t in self.terms if t.startswith("la_")]],
                                 labels=labels)


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
    la_effects: bool = False,
) -> pd.DataFrame:
    """The design matrix: ``const``, level terms, covariates and (if asked) LA terms."""
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
    if la_effects and "la_code" in frame.columns and len(frame["la_code"].unique()) > 1:
        codes = frame["la_code"].astype(str)
        # all LA columns at once: one at a time, 152 of them fragmented the frame (pandas
        # warned on the run's console) and cost seconds at national scale
        dummies = {f"la_{la}": (codes == la).astype(float) for la in sorted(codes.unique())[1:]}
        x = pd.concat([x, pd.DataFrame(dummies, index=frame.index)], axis=1)
    return x


def fit_rereferral(
    frame: pd.DataFrame,
    *,
    level: Literal["categorical", "linear"] = "categorical",
    covariates: Sequence[str] = ("length_months",),
    cluster: str | None = None,
    la_effects: bool = True,
) -> RereferralFit:
    """Fit the re-referral logit on the closures that can be re-referred (``eligible``,
    when the frame has it). ``cluster``: a column (e.g. ``LAchildID``) for
    cluster-robust standard errors (a child may have several closures)."""
    import statsmodels.api as sm  # noqa: PLC0415 - statsmodels is slow to import: load it on first fit

    df = frame.dropna(subset=["rereferred", *covariates])
    if "eligible" in df.columns:
        df = df[df["eligible"].astype(bool)]
    df = df.reset_index(drop=True)
    x = rereferral_design(df, level=level, covariates=covariates, la_effects=la_effects)
    y = df["rereferred"].astype(float)
    # check_rank=False: statsmodels' rank check is a QR of the whole design (8 s with 152
    # LA columns at national scale); a design short of full rank still fails, at the
    # Newton step's solve, and the report then says the model could not be fitted
    model = sm.Logit(y, x, check_rank=False)
    if cluster:
        key = df[cluster].astype(str)
        if "la_code" in df.columns:
            key = df["la_code"].astype(str) + "\x00" + key
        groups = pd.factorize(key)[0]
        result = model.fit(disp=False, cov_type="cluster", cov_kwds={"groups": groups})
    else:
        result = model.fit(disp=False)
    return RereferralFit(result, list(x.columns), df)
