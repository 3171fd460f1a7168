"""Does the level of intervention match the child's needs? An ordered logit.

The question local authorities ask of their front door: given the needs recorded at
assessment (the CIN census assessment factors), is the level of intervention that
followed (0 assessed then no plan, 1 CIN plan, 2 child protection plan, 3 looked after;
:func:`csc_outcomes.stats.frames.assessment_frame`) in proportion?

Model: a proportional-odds (ordered) logit, statsmodels ``OrderedModel``::

    P(level <= k | x) = logistic(c_k - x'beta),   k = 0, 1, 2

with ``x`` the 0/1 factor indicators (and optionally LA indicators, to absorb
differences between LAs' thresholds). ``exp(beta_j)`` is the odds ratio of a higher
level for a child with factor ``j``, all else equal (the proportional-odds reading).

The proportionality view compares each child's observed level with the level predicted
from needs alone: by default the **median** of the predicted distribution, the
smallest ``k`` with ``P(level <= k) >= 0.5`` (equivalently, the interval of the
cut-points where the linear predictor falls). The mode (``how="mode"``) is dominated
by the commonest level; the median is what "the typical response to these needs"
means. Observed above predicted: more intervention than needs alone suggest; below:
less. Counts in these tables are of children: suppress them
(:mod:`csc_outcomes.reporting.disclosure`) before publishing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from csc_outcomes.stats.frames import LEVEL_LABELS, factor_columns
from csc_outcomes.stats.summary import coefficient_table

#: Codes recording the absence of factors ("21": no factors identified).
NO_FACTOR_CODES = ("21",)

__all__ = [
    "ProportionalityFit",
    "fit_ordered_logit",
    "odds_ratio_table",
    "predict_proba",
    "predicted_levels",
    "proportionality_summary",
    "proportionality_table",
]


@dataclass
class ProportionalityFit:
    """A fitted ordered logit: the statsmodels result and what it was fitted on."""

    result: Any
    factors: list[str]
    la_terms: list[str]
    levels: list[int]
    frame: pd.DataFrame = field(repr=False)
    level_col: str = "level"

    @property
    def cutpoints(self) -> np.ndarray:
        """The cut-points c_1 < c_2 < ... on the latent scale."""
        k = len(self.levels) - 1
        return np.asarray(self.result.model.transform_threshold_params(self.result.params))[1:k + 1]

    def exog(self, frame: pd.DataFrame | None = None) -> pd.DataFrame:
        """The design matrix: factor indicators, then LA indicators."""
        f = self.frame if frame is None else frame
        x = f[self.factors].astype(float)
        if self.la_terms:
            la = f["la_code"].astype(str)
            for t in self.la_terms:
                x[t] = (la == t[len("la_"):]).astype(float)
        return x


def fit_ordered_logit(
    frame: pd.DataFrame,
    factors: Sequence[str] | None = None,
    *,
    level_col: str = "level",
    la_effects: bool = False,
    min_count: int = 5,
    maxiter: int = 2000,
) -> ProportionalityFit:
    """Fit the ordered logit of ``level`` on factor indicators.

    ``factors``: the indicator columns (default: every ``factor_*`` column of ``frame``
    with at least ``min_count`` children with and without it, rarer ones cannot be
    estimated, except ``factor_21``, "no factors identified", which is the absence of
    the others rather than a need). ``la_effects``: add LA indicators (first LA the reference) when the
    frame holds several LAs.
    """
    from statsmodels.miscmodels.ordinal_model import OrderedModel  # noqa: PLC0415 - statsmodels is slow to import: load it on first fit

    df = frame.dropna(subset=[level_col]).reset_index(drop=True)
    if factors is None:
        factors = [
            c for c in factor_columns(df)
            if c not in {f"factor_{code}" for code in NO_FACTOR_CODES}
            and min_count <= int(df[c].sum()) <= len(df) - min_count
        ]
    factors = list(factors)
    la_terms: list[str] = []
    if la_effects and "la_code" in df.columns and len(df["la_code"].dropna().unique()) > 1:
        la_terms = [f"la_{c}" for c in sorted(df["la_code"].astype(str).unique())[1:]]
    levels = sorted(int(v) for v in df[level_col].unique())
    fit_stub = ProportionalityFit(None, factors, la_terms, levels, df, level_col)
    x = fit_stub.exog(df)
    y = pd.Series(
        pd.Categorical(df[level_col].astype(int), categories=levels, ordered=True),
        name=level_col,
    )
    model = OrderedModel(y, x, distr="logit")
    result = model.fit(method="bfgs", maxiter=maxiter, disp=False)
    fit_stub.result = result
    return fit_stub


def odds_ratio_table(
    fit: ProportionalityFit | Any,
    *,
    alpha: float = 0.05,
    labels: Mapping[str, str] | None = None,
    include_la: bool = False,
) -> pd.DataFrame:
    """Odds ratios with (1 - alpha) Wald confidence intervals, one row per term.

    Works for a :class:`ProportionalityFit` (cut-points and, unless ``include_la``, LA
    terms left out) and for any statsmodels result (the intercept ``const`` left out).
    Columns: ``term, label, odds_ratio, ci_lower, ci_upper, coef, se, p_value``.
    ``labels`` maps terms to readable names (e.g. ``{"factor_3B": "Domestic abuse:
    parent"}``); ``factor_<code>`` terms default to ``Factor <code>``.
    """
    if isinstance(fit, ProportionalityFit):
        result = fit.result
        n_thr = len(fit.levels) - 1
        names = list(result.params.index)
        drop = names[len(names) - n_thr:]
        if not include_la:
            drop += fit.la_terms
    else:
        result = fit
        drop = ["const", "Intercept"]
    names = [str(n) for n in getattr(result.params, "index", [])]
    default = {n: f"Factor {n[len('factor_'):]}" for n in names if n.startswith("factor_")}
    default.update(labels or {})
    return coefficient_table(result, alpha=alpha, exponentiate=True, drop=drop, labels=default)


def predict_proba(fit: ProportionalityFit, frame: pd.DataFrame | None = None) -> pd.DataFrame:
    """Predicted probability of each level (columns = levels), one row per assessment."""
    x = fit.exog(frame)
    p = np.asarray(fit.result.model.predict(fit.result.params, exog=x.to_numpy()))
    return pd.DataFrame(p, columns=fit.levels, index=x.index)


def predicted_levels(
    fit: ProportionalityFit,
    frame: pd.DataFrame | None = None,
    *,
    how: Literal["median", "mode", "expected"] = "median",
) -> pd.Series:
    """The level predicted from needs: ``median`` (default), ``mode`` or rounded
    ``expected`` level of the predicted distribution."""
    p = predict_proba(fit, frame)
    levels = np.asarray(fit.levels)
    arr = p.to_numpy()
    if how == "median":
        idx = (np.cumsum(arr, axis=1) >= 0.5 - 1e-12).argmax(axis=1)
        pred = levels[idx]
    elif how == "mode":
        pred = levels[arr.argmax(axis=1)]
    elif how == "expected":
        pred = np.rint(arr @ levels).astype(int)
    else:
        raise ValueError(f"how must be median, mode or expected, not {how!r}")
    return pd.Series(pred, index=p.index, name="predicted_level")


def proportionality_table(
    fit: ProportionalityFit,
    frame: pd.DataFrame | None = None,
    *,
    how: Literal["median", "mode", "expected"] = "median",
    normalize: bool | Literal["all", "index", "columns"] = False,
    labels: Mapping[int, str] | None = None,
    margins: bool = True,
) -> pd.DataFrame:
    """Observed level (rows) against the level predicted from needs (columns).

    Every level appears in both margins, in order, labelled (``LEVEL_LABELS``);
    ``normalize`` as in :func:`pandas.crosstab` (``"index"``: each observed level's
    distribution across predicted levels). Totals ("All") with ``margins``.
    """
    f = fit.frame if frame is None else frame
    lab = dict(labels or LEVEL_LABELS)
    pred = predicted_levels(fit, f, how=how)
    obs = f[fit.level_col].astype(int)
    cats = [lab.get(level, str(level)) for level in fit.levels]
    o = pd.Categorical(obs.map(lambda v: lab.get(v, str(v))).to_numpy(), categories=cats, ordered=True)
    p = pd.Categorical(pred.map(lambda v: lab.get(v, str(v))).to_numpy(), categories=cats, ordered=True)
    table = pd.crosstab(
        pd.Series(o, name="Observed level"),
        pd.Series(p, name="Level predicted from needs"),
        margins=margins, margins_name="All", normalize=normalize, dropna=False,
    )
    return table


def proportionality_summary(
    fit: ProportionalityFit,
    frame: pd.DataFrame | None = None,
    *,
    how: Literal["median", "mode", "expected"] = "median",
    by: str | None = None,
) -> pd.DataFrame:
    """Counts and shares of assessments whose observed level is above, in line with,
    or below the level predicted from needs (optionally ``by`` a column, e.g.
    ``la_code``). Columns: ``[by,] comparison, count, share``."""
    f = (fit.frame if frame is None else frame).reset_index(drop=True)
    pred = predicted_levels(fit, f, how=how).to_numpy()
    obs = f[fit.level_col].astype(int).to_numpy()
    comp = np.select([obs > pred, obs < pred], ["Above needs", "Below needs"], "In line with needs")
    order = ["Above needs", "In line with needs", "Below needs"]
    df = pd.DataFrame({"comparison": pd.Categorical(comp, categories=order, ordered=True)})
    keys = ["comparison"]
    if by is not None:
        df.insert(0, by, f[by].to_numpy())
        keys = [by, "comparison"]
    counts = df.groupby(keys, observed=False).size().rename("count").reset_index()
    totals = counts.groupby(by)["count"].transform("sum") if by else counts["count"].sum()
    counts["share"] = counts["count"] / totals
    return counts
