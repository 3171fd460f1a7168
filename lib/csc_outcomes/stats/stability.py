"""Placement moves and school attendance: a censored regression, clustered by child.

One row per looked-after child per term (:func:`csc_outcomes.stats.frames.attendance_frame`),
``moves`` the placement changes in the **365 days before the term started** (not
during the term: a move and the absences around it would otherwise be counted
together)::

    attendance* = a + b * moves + e,   e ~ Normal(0, sigma^2)
    attendance  = min(attendance*, 1)

Attendance cannot exceed every possible session, and many children's terms sit exactly
at 100%. A straight line through such data (OLS) is pulled towards zero at the top and
its interval missed the true slope; the censored-at-1 (Tobit) model estimates the slope
of the underlying attendance, which is what "each move costs b of attendance" means
for a child not already at full attendance. A child contributes several terms, so
standard errors are cluster-robust by child (LA and ``CHILD``). The slope is an
association: children who move more differ in other ways too.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from csc_outcomes.stats.distributions import norm_logcdf, norm_logpdf, norm_sf
from csc_outcomes.stats.summary import coefficient_table

__all__ = ["CensoredFit", "StabilityFit", "fit_censored", "fit_stability"]

_LABELS = {"const": "Intercept", "moves": "Each placement move in the year before the term"}
#: The upper bound of attendance: every possible session attended.
FULL = 1.0


@dataclass
class CensoredFit:
    """A fitted regression censored from above: estimates, cluster-robust covariance."""

    params: pd.Series
    cov: pd.DataFrame
    sigma: float
    n_obs: int
    n_censored: int
    n_clusters: int

    @property
    def bse(self) -> pd.Series:
        return pd.Series(np.sqrt(np.diag(self.cov)), index=self.params.index)

    @property
    def pvalues(self) -> pd.Series:
        return pd.Series(2 * norm_sf(np.abs(self.params / self.bse)), index=self.params.index)


def censored_scores(theta: np.ndarray, x: np.ndarray, y: np.ndarray, upper: float) -> tuple[np.ndarray, np.ndarray]:
    """Per-observation log-likelihood and scores (columns: coefficients, then log sigma).

    Uncensored: ``log phi(r) - log sigma`` with ``r = (y - xb) / sigma``; censored
    (``y >= upper``): ``log Phi(d)`` with ``d = (xb - upper) / sigma``.
    """
    beta, sigma = theta[:-1], float(np.exp(theta[-1]))
    xb = x @ beta
    cens = y >= upper
    r = (y - xb) / sigma
    d = (xb - upper) / sigma
    ll = np.where(cens, norm_logcdf(d), norm_logpdf(r) - np.log(sigma))
    mills = np.exp(norm_logpdf(d) - norm_logcdf(d))
    d_xb = np.where(cens, mills / sigma, r / sigma)
    d_logsigma = np.where(cens, -mills * d, r**2 - 1)
    return ll, np.column_stack([d_xb[:, None] * x, d_logsigma])


def numeric_jacobian(gradient: Callable[[np.ndarray], np.ndarray], theta: np.ndarray,
                     h: float = 1e-6) -> np.ndarray:
    """The Hessian as central differences of the exact gradient (few parameters)."""
    cols = [(gradient(theta + e) - gradient(theta - e)) / (2 * h) for e in np.eye(len(theta)) * h]
    jac = np.column_stack(cols)
    return (jac + jac.T) / 2


def newton(gradient: Callable[[np.ndarray], np.ndarray], loglik: Callable[[np.ndarray], float],
           theta: np.ndarray, tol: float = 1e-10, max_iter: int = 100) -> np.ndarray:
    """Newton's method with step halving on a concave log-likelihood."""
    current = loglik(theta)
    for _ in range(max_iter):
        step = np.linalg.solve(-numeric_jacobian(gradient, theta), gradient(theta))
        size = 1.0
        while size > 1e-8 and loglik(theta + size * step) < current - 1e-12:
            size /= 2
        theta = theta + size * step
        current = loglik(theta)
        if np.max(np.abs(size * step)) < tol:
            return theta
    raise RuntimeError(f"the censored regression did not converge in {max_iter} Newton steps")


def fit_censored(x: pd.DataFrame, y: pd.Series, *, upper: float = FULL,
                 cluster: np.ndarray | None = None) -> CensoredFit:
    """Maximum likelihood for ``y = min(x'b + e, upper)``, with a sandwich covariance
    clustered on ``cluster`` (each row its own cluster when None)."""
    xa, ya = x.to_numpy(dtype=float), y.to_numpy(dtype=float)
    start = np.linalg.lstsq(xa, ya, rcond=None)[0]
    theta0 = np.append(start, np.log(max(float(np.std(ya - xa @ start)), 1e-4)))

    def gradient(theta: np.ndarray) -> np.ndarray:
        return censored_scores(theta, xa, ya, upper)[1].sum(axis=0)

    theta = newton(gradient, lambda t: float(censored_scores(t, xa, ya, upper)[0].sum()), theta0)
    hess = -numeric_jacobian(gradient, theta)
    bread = np.linalg.inv((hess + hess.T) / 2)
    _, scores = censored_scores(theta, xa, ya, upper)
    groups = pd.factorize(pd.Series(cluster))[0] if cluster is not None else np.arange(len(ya))
    g = int(groups.max()) + 1
    summed = np.zeros((g, scores.shape[1]))
    np.add.at(summed, groups, scores)
    cov = bread @ (summed.T @ summed * g / max(g - 1, 1)) @ bread
    names = [*x.columns, "log_sigma"]
    k = len(names) - 1
    return CensoredFit(pd.Series(theta[:k], index=names[:k]),
                       pd.DataFrame(cov[:k, :k], index=names[:k], columns=names[:k]),
                       float(np.exp(theta[-1])), len(ya), int((ya >= upper).sum()), g)


@dataclass
class StabilityFit:
    """A fitted attendance model and its frame."""

    result: CensoredFit
    frame: pd.DataFrame = field(repr=False)

    def coef_table(self, alpha: float = 0.05) -> pd.DataFrame:
        """``term, label, coef, se, ci_lower, ci_upper, p_value`` (cluster-robust)."""
        return coefficient_table(self.result, alpha=alpha, labels=_LABELS)


def child_ids(df: pd.DataFrame, child: Sequence[str]) -> np.ndarray:
    """One id per child from the ``child`` columns present (LA and ``CHILD``)."""
    cols = [c for c in child if c in df.columns]
    key = df[cols[0]].astype(str)
    for c in cols[1:]:
        key = key + "\x00" + df[c].astype(str)
    return key.to_numpy()


def fit_stability(frame: pd.DataFrame, *, covariates: Sequence[str] = (),
                  child: Sequence[str] = ("la_code", "CHILD")) -> StabilityFit:
    """Fit attendance on moves (plus ``covariates``), censored at full attendance."""
    df = frame.dropna(subset=["attendance", "moves", *covariates]).reset_index(drop=True)
    x = pd.DataFrame({"const": 1.0, "moves": df["moves"].astype(float)})
    for c in covariates:
        x[c] = df[c].astype(float)
    return StabilityFit(fit_censored(x, df["attendance"].astype(float), cluster=child_ids(df, child)), df)
