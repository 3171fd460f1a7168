"""Does the level of intervention match the child's needs? Observed against expected.

The question LAs ask of their front door: given the needs recorded at assessment (the
CIN census assessment factors), is the level of intervention that followed (0
assessed, no plan; 1 CIN plan; 2 child protection plan; 3 looked after:
:func:`csc_outcomes.stats.frames.assessment_frame`) in proportion?

**The model** is a proportional-odds logit of the level on the factor indicators, on
every LA's assessments, *from needs only* (:func:`fit_ordered_logit`)::

    P(level <= k | x) = F(c_k - x'beta)

``exp(beta_j)`` is the odds ratio of a higher level for an assessment recording factor
``j``, all else equal: an association in these data, not a cause. Standard errors are
clustered by child (one child in ten is assessed more than once in a year).

**The comparison** is indirect standardisation (:func:`expected_by_la`): for each LA
and level, the *expected* number of assessments is the sum over its assessments of the
model's probability of that level, ``E = sum_i P_i(level)``, against the observed
number ``O``. Under the model, ``O`` has variance ``V = sum_i P_i (1 - P_i)``, so
``z = (O - E) / sqrt(V)`` places the LA on a funnel of ``O / E`` around 1 with limits
``1 +/- z_q sqrt(V) / E``. Two choices the audit showed matter:

- *expected counts, not a "predicted level"*: taking each assessment's most likely or
  median level predicts no child protection plans and no care at all (they are never
  the likeliest outcome), so every plan looked "above needs";
- *a model without LA effects*: an LA's own effect absorbs exactly the difference the
  comparison is meant to reveal (with LA terms in the prediction, LAs' above-minus-below
  shares correlated -0.14 with the true LA effects; from a needs-only model, 0.97).

Counts in these tables are of children: the reports pass them through the disclosure
step before publishing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from csc_outcomes.stats.distributions import norm_sf
from csc_outcomes.stats.frames import LEVEL_LABELS, factor_columns
from csc_outcomes.stats.funnel import level_tag, z_quantile
from csc_outcomes.stats.ordinal import OrdinalFit, fit_ordinal
from csc_outcomes.stats.summary import coefficient_table

#: Codes recording the absence of factors ("21": no factors identified).
NO_FACTOR_CODES = ("21",)
#: The level from which the headline comparison counts: a plan or care (2 and 3).
HIGH_LEVEL = 2

__all__ = [
    "HIGH_LEVEL",
    "ProportionalityFit",
    "expected_by_la",
    "fit_ordered_logit",
    "odds_ratio_table",
    "predict_proba",
]


@dataclass
class ProportionalityFit:
    """A fitted ordered logit and what it was fitted on."""

    result: OrdinalFit
    factors: list[str]
    la_terms: list[str]
    levels: list[int]
    frame: pd.DataFrame = field(repr=False)
    level_col: str = "level"
    #: ``expected_by_la(fit)`` at the default levels, worked out once when fitted (and
    #: so kept with a pooled fit): every LA's report shows every LA's ratio, and working
    #: them out again cost each report two seconds at national scale
    by_la: pd.DataFrame | None = field(default=None, repr=False)

    @property
    def cutpoints(self) -> np.ndarray:
        """The cut-points c_0 < c_1 < ... on the latent scale."""
        return self.result.cutpoints

    def exog(self, frame: pd.DataFrame | None = None) -> pd.DataFrame:
        """The design matrix: factor indicators, then (if fitted) LA indicators."""
        f = self.frame if frame is None else frame
        x = f[self.factors].astype(float)
        for t in self.la_terms:
            x[t] = f["la_code"].astype(str).eq(t[len("la_"):]).astype(float)
        return x


def usable_factors(frame: pd.DataFrame, min_count: int) -> list[str]:
    """Factor columns with at least ``min_count`` assessments with and without them
    (rarer ones cannot be estimated), leaving out "no factors identified"."""
    absent = {f"factor_{code}" for code in NO_FACTOR_CODES}
    return [c for c in factor_columns(frame)
            if c not in absent and min_count <= int(frame[c].sum()) <= len(frame) - min_count]


def cluster_ids(frame: pd.DataFrame) -> np.ndarray | None:
    """One id per child (LA and LAchildID), for clustered standard errors."""
    if "LAchildID" not in frame.columns:
        return None
    return (frame["la_code"].astype(str) + "\x1f" + frame["LAchildID"].astype(str)).to_numpy()


def fit_ordered_logit(frame: pd.DataFrame, factors: Sequence[str] | None = None, *,
                      level_col: str = "level", la_effects: bool = False,
                      min_count: int = 5) -> ProportionalityFit:
    """Fit the ordered logit of ``level`` on factor indicators (needs only by default).

    ``la_effects`` adds LA indicators (the first LA the reference): for studying LAs'
    thresholds, never for the observed-against-expected comparison.
    """
    df = frame.dropna(subset=[level_col]).reset_index(drop=True)
    factors = list(factors) if factors is not None else usable_factors(df, min_count)
    la_terms: list[str] = []
    if la_effects and len(df["la_code"].unique()) > 1:
        la_terms = [f"la_{c}" for c in sorted(df["la_code"].astype(str).unique())[1:]]
    levels = sorted(int(v) for v in df[level_col].unique())
    if levels != list(range(len(levels))):
        raise ValueError(f"levels must run 0 .. {len(levels) - 1}; the frame holds {levels}")
    stub = ProportionalityFit(None, factors, la_terms, levels, df, level_col)  # type: ignore[arg-type]
    stub.result = fit_ordinal(stub.exog(df), df[level_col].astype(int), cluster=cluster_ids(df))
    stub.by_la = expected_by_la(stub)
    return stub


def odds_ratio_table(fit: ProportionalityFit, *, alpha: float = 0.05,
                     labels: Mapping[str, str] | None = None,
                     include_la: bool = False) -> pd.DataFrame:
    """Odds ratios with (1 - alpha) Wald intervals (cluster-robust), one row per term.

    Columns: ``term, label, odds_ratio, ci_lower, ci_upper, coef, se, p_value``.
    """
    drop = [n for n in fit.result.params.index if n.startswith("cut_")]
    drop += [] if include_la else fit.la_terms
    default = {f: f"Factor {f[len('factor_'):]}" for f in fit.factors}
    default.update(labels or {})
    return coefficient_table(fit.result, alpha=alpha, exponentiate=True, drop=drop, labels=default)


def predict_proba(fit: ProportionalityFit, frame: pd.DataFrame | None = None) -> pd.DataFrame:
    """Probability of each level (columns = levels), one row per assessment."""
    x = fit.exog(frame)
    return pd.DataFrame(fit.result.predict_proba(x.to_numpy()), columns=fit.levels, index=x.index)


def outcome_columns(fit: ProportionalityFit, frame: pd.DataFrame) -> pd.DataFrame:
    """Per assessment, observed 0/1 and predicted probability for each level and for
    "plan or care" (``level >= HIGH_LEVEL``), as ``obs_<name>`` / ``p_<name>``."""
    proba = predict_proba(fit, frame)
    observed = frame[fit.level_col].astype(int).to_numpy()
    cols: dict[str, np.ndarray] = {"la_code": frame["la_code"].astype(str).to_numpy()}
    outcomes = {str(k): [k] for k in fit.levels}
    outcomes["plan_or_care"] = [k for k in fit.levels if k >= HIGH_LEVEL]
    for name, ks in outcomes.items():
        cols[f"obs_{name}"] = np.isin(observed, ks).astype(float)
        cols[f"p_{name}"] = proba[ks].sum(axis=1).to_numpy()
    return pd.DataFrame(cols)


#: The funnel levels of ``expected_by_la``'s limits by default: 95% and 99.8%.
EXPECTED_LEVELS = (0.95, 0.998)


def expected_by_la(fit: ProportionalityFit, frame: pd.DataFrame | None = None, *,
                   levels: Sequence[float] = EXPECTED_LEVELS) -> pd.DataFrame:
    """Observed and expected assessments per LA and outcome, with O/E and its funnel.

    One row per (LA, outcome): ``la_code, outcome`` (a level's label, or "Plan or
    care"), ``assessments, observed, expected, variance, ratio, z`` and, per level tag
    ``t``, ``lower_t, upper_t`` (limits of the ratio around 1) and ``flag_t``. Of the
    fitted assessments (``frame`` None) at the default levels, the copy kept with the
    fit (``by_la``).
    """
    if frame is None and tuple(levels) == EXPECTED_LEVELS and fit.by_la is not None:
        return fit.by_la.copy()
    f = fit.frame if frame is None else frame
    cols = outcome_columns(fit, f.reset_index(drop=True))
    names = [c[len("obs_"):] for c in cols.columns if c.startswith("obs_")]
    rows = []
    for name in names:
        grouped = cols.assign(var=cols[f"p_{name}"] * (1 - cols[f"p_{name}"])).groupby("la_code")
        part = pd.DataFrame({"assessments": grouped.size(), "observed": grouped[f"obs_{name}"].sum(),
                             "expected": grouped[f"p_{name}"].sum(), "variance": grouped["var"].sum()})
        part["outcome"] = "Plan or care" if name == "plan_or_care" else LEVEL_LABELS.get(int(name), name)
        rows.append(part.reset_index())
    out = pd.concat(rows, ignore_index=True)
    sd = np.sqrt(out["variance"])
    out["ratio"] = out["observed"] / out["expected"].where(out["expected"] > 0)
    out["z"] = (out["observed"] - out["expected"]) / sd.where(sd > 0)
    for level in levels:
        tag, zq = level_tag(level), z_quantile(level)
        out[f"lower_{tag}"] = (1 - zq * sd / out["expected"]).clip(lower=0)
        out[f"upper_{tag}"] = 1 + zq * sd / out["expected"]
        out[f"flag_{tag}"] = np.where(out["z"] > zq, "above",
                                      np.where(out["z"] < -zq, "below", "inside"))
    out["p_value"] = 2 * norm_sf(out["z"].abs())
    return out[["la_code", "outcome", *[c for c in out.columns if c not in ("la_code", "outcome")]]]
