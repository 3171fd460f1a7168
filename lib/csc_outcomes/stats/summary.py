"""Readable coefficient tables from statsmodels results (shared by the three models)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from csc_outcomes.stats.distributions import norm_ppf


@dataclass(frozen=True)
class Estimates:
    """A fitted model's estimates, standard errors and p-values, without the model.

    What :func:`coefficient_table` reads. A pooled fit is stored with these in place of
    its statsmodels result, so that a notebook loading it does not import statsmodels
    (seconds per notebook) only to read a table.
    """

    params: pd.Series
    bse: pd.Series
    pvalues: pd.Series

    @classmethod
    def of(cls, result: Any) -> Estimates:
        """The estimates of a statsmodels-like ``result`` (``params``, ``bse``, ``pvalues``)."""
        names = _names(result)
        return cls(*(pd.Series(np.asarray(getattr(result, a), dtype=float), index=names)
                     for a in ("params", "bse", "pvalues")))


def coefficient_table(
    result: Any,
    *,
    alpha: float = 0.05,
    exponentiate: bool = False,
    drop: Iterable[str] = (),
    labels: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """One row per term: ``term, label, coef, se, ci_lower, ci_upper, p_value`` and,
    with ``exponentiate``, ``odds_ratio`` with the CI on that scale.

    Confidence intervals are Wald intervals ``coef +/- z(1 - alpha/2) * se`` using the
    result's own covariance (so cluster-robust when the model was fitted so).
    """
    params = pd.Series(np.asarray(result.params, dtype=float), index=_names(result))
    bse = pd.Series(np.asarray(result.bse, dtype=float), index=params.index)
    pvals = pd.Series(np.asarray(result.pvalues, dtype=float), index=params.index)
    keep = [t for t in params.index if t not in set(drop)]
    z = norm_ppf(1 - alpha / 2)
    out = pd.DataFrame(
        {
            "term": keep,
            "label": [(labels or {}).get(t, t) for t in keep],
            "coef": params[keep].to_numpy(),
            "se": bse[keep].to_numpy(),
        }
    )
    out["ci_lower"] = out["coef"] - z * out["se"]
    out["ci_upper"] = out["coef"] + z * out["se"]
    out["p_value"] = pvals[keep].to_numpy()
    if exponentiate:
        out["odds_ratio"] = np.exp(out["coef"])
        out["ci_lower"] = np.exp(out["ci_lower"])
        out["ci_upper"] = np.exp(out["ci_upper"])
        out = out[["term", "label", "odds_ratio", "ci_lower", "ci_upper", "coef", "se", "p_value"]]
    return out.reset_index(drop=True)


def _names(result: Any) -> list[str]:
    params = result.params
    if isinstance(params, pd.Series):
        return [str(i) for i in params.index]
    names = getattr(result.model, "exog_names", None) or []
    extra = len(params) - len(names)
    return list(names) + [f"param_{i}" for i in range(extra)]
