"""A fast ordered (proportional-odds) logit: exact derivatives on covariate patterns.

statsmodels' ``OrderedModel`` fits by BFGS with a numerical gradient, one likelihood
evaluation per parameter per step: at national scale (a million assessments, 150
parameters) that took over an hour. The model's likelihood depends on the data only
through how many assessments share each (covariate pattern, level), and its gradient
and Hessian have closed forms, so Newton's method on the patterns, with frequency
weights, gives the same maximum in seconds. Standard errors are cluster-robust (a
sandwich over clusters, e.g. children, since a child assessed twice is not two
independent children).

Model, for levels ``0 .. K-1`` and cut-points ``c_0 < ... < c_{K-2}``::

    P(y <= k | x) = F(c_k - x'beta),   F(t) = 1 / (1 + exp(-t))

With ``a = c_y - x'beta`` and ``b = c_{y-1} - x'beta`` (``c_{-1} = -inf``,
``c_{K-1} = +inf``) an observation contributes ``log(F(a) - F(b))``; writing
``P = F(a) - F(b)``, ``f = F'`` and ``g = f' = f (1 - 2F)``::

    dl/da = f(a) / P                     dl/db = -f(b) / P
    d2l/da2 = g(a) / P - (f(a) / P)^2    d2l/db2 = -g(b) / P - (f(b) / P)^2
    d2l/dadb = f(a) f(b) / P^2

and ``a``, ``b`` move with ``beta`` as ``-x`` and with their own cut-point as 1.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from csc_outcomes.stats.distributions import norm_sf

__all__ = ["OrdinalFit", "fit_ordinal", "patterns"]


@dataclass(frozen=True)
class Patterns:
    """The data reduced to distinct (covariate pattern, level) rows with their counts.

    ``row_pattern`` maps each original row to its pattern row, so per-row scores (for
    clustered standard errors) are a gather, not a recomputation.
    """

    x: np.ndarray
    level: np.ndarray
    weight: np.ndarray
    row_pattern: np.ndarray


def patterns(x: np.ndarray, level: np.ndarray) -> Patterns:
    """Distinct rows of ``[x, level]`` with how many times each occurs."""
    full = np.column_stack([np.asarray(x, dtype=float), np.asarray(level, dtype=float)])
    uniq, inverse, counts = np.unique(full, axis=0, return_inverse=True, return_counts=True)
    return Patterns(uniq[:, :-1], uniq[:, -1].astype(int), counts.astype(float),
                    inverse.reshape(-1))


def logistic(t: np.ndarray) -> np.ndarray:
    """``F(t)``, with ``F(+-inf)`` exactly 1 and 0."""
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-t))


@dataclass(frozen=True)
class Pieces:
    """Per pattern: the log-likelihood and the derivatives in ``a`` and ``b``."""

    loglik: np.ndarray
    da: np.ndarray
    db: np.ndarray
    daa: np.ndarray
    dbb: np.ndarray
    dab: np.ndarray


def pieces(beta: np.ndarray, cuts: np.ndarray, p: Patterns) -> Pieces:
    """The likelihood pieces of every pattern at ``(beta, cuts)``."""
    ext = np.concatenate([[-np.inf], cuts, [np.inf]])
    eta = p.x @ beta
    a, b = ext[p.level + 1] - eta, ext[p.level] - eta
    fa_, fb_ = logistic(a), logistic(b)
    da_dens = np.where(np.isfinite(a), fa_ * (1 - fa_), 0.0)
    db_dens = np.where(np.isfinite(b), fb_ * (1 - fb_), 0.0)
    ga = da_dens * (1 - 2 * fa_)
    gb = db_dens * (1 - 2 * fb_)
    prob = np.clip(fa_ - fb_, 1e-300, None)
    ra, rb = da_dens / prob, db_dens / prob
    return Pieces(np.log(prob), ra, -rb, ga / prob - ra**2, -gb / prob - rb**2, ra * rb)


def scores(beta: np.ndarray, cuts: np.ndarray, p: Patterns, q: Pieces | None = None) -> np.ndarray:
    """Per-pattern score vectors (one row per pattern, columns ``beta`` then cut-points)."""
    q = q or pieces(beta, cuts, p)
    k = len(cuts)
    s = np.zeros((len(p.level), p.x.shape[1] + k))
    s[:, : p.x.shape[1]] = -(q.da + q.db)[:, None] * p.x
    rows = np.arange(len(p.level))
    upper, lower = p.level, p.level - 1  # the cut-points a and b use
    ok_u, ok_l = upper < k, lower >= 0
    s[rows[ok_u], p.x.shape[1] + upper[ok_u]] += q.da[ok_u]
    s[rows[ok_l], p.x.shape[1] + lower[ok_l]] += q.db[ok_l]
    return s


def hessian(beta: np.ndarray, cuts: np.ndarray, p: Patterns, q: Pieces) -> np.ndarray:
    """The weighted Hessian of the log-likelihood (exact)."""
    nb, k = p.x.shape[1], len(cuts)
    m = len(p.level)
    # d(a, b) / d(theta): rows of J_a and J_b, one per pattern.
    ja, jb = np.zeros((m, nb + k)), np.zeros((m, nb + k))
    ja[:, :nb] = jb[:, :nb] = -p.x
    rows = np.arange(m)
    ok_u, ok_l = p.level < k, p.level - 1 >= 0
    ja[rows[ok_u], nb + p.level[ok_u]] = 1.0
    jb[rows[ok_l], nb + p.level[ok_l] - 1] = 1.0
    w = p.weight
    return ((ja * (w * q.daa)[:, None]).T @ ja + (jb * (w * q.dbb)[:, None]).T @ jb
            + (ja * (w * q.dab)[:, None]).T @ jb + (jb * (w * q.dab)[:, None]).T @ ja)


def start_cuts(level: np.ndarray, weight: np.ndarray, n_levels: int) -> np.ndarray:
    """Cut-points of the model without covariates: the cumulative logits of the levels."""
    share = np.bincount(level, weights=weight, minlength=n_levels) / weight.sum()
    cum = np.clip(np.cumsum(share)[:-1], 1e-6, 1 - 1e-6)
    return np.log(cum / (1 - cum))


def newton(p: Patterns, n_levels: int, tol: float = 1e-10, max_iter: int = 100) -> np.ndarray:
    """Maximise the likelihood by Newton's method with step halving; returns theta."""
    nb = p.x.shape[1]
    theta = np.concatenate([np.zeros(nb), start_cuts(p.level, p.weight, n_levels)])
    loglik = float(p.weight @ pieces(theta[:nb], theta[nb:], p).loglik)
    for _ in range(max_iter):
        q = pieces(theta[:nb], theta[nb:], p)
        grad = p.weight @ scores(theta[:nb], theta[nb:], p, q)
        step = np.linalg.solve(hessian(theta[:nb], theta[nb:], p, q), -grad)
        size = 1.0
        while size > 1e-8:
            new = theta + size * step
            if np.all(np.diff(new[nb:]) > 0):
                new_ll = float(p.weight @ pieces(new[:nb], new[nb:], p).loglik)
                if new_ll >= loglik - 1e-12:
                    break
            size /= 2
        theta, loglik = new, new_ll
        if np.max(np.abs(size * step)) < tol:
            return theta
    raise RuntimeError(f"the ordered logit did not converge in {max_iter} Newton steps")


@dataclass
class OrdinalFit:
    """A fitted ordered logit: estimates, covariance, and what it was fitted on."""

    names: list[str]
    params: pd.Series
    cov: pd.DataFrame
    n_levels: int
    n_obs: int
    n_clusters: int
    loglik: float
    covariance: str
    patterns: Patterns = field(repr=False)

    @property
    def bse(self) -> pd.Series:
        """Standard errors."""
        return pd.Series(np.sqrt(np.diag(self.cov)), index=self.params.index)

    @property
    def pvalues(self) -> pd.Series:
        """Two-sided Wald p-values."""
        return pd.Series(2 * norm_sf(np.abs(self.params / self.bse)), index=self.params.index)

    @property
    def beta(self) -> pd.Series:
        return self.params[self.names]

    @property
    def cutpoints(self) -> np.ndarray:
        return self.params.iloc[len(self.names):].to_numpy()

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """``P(y = k | x)`` for each row of ``x`` (columns: levels)."""
        eta = np.asarray(x, dtype=float) @ self.beta.to_numpy()
        cum = logistic(self.cutpoints[None, :] - eta[:, None])
        cum = np.column_stack([np.zeros(len(eta)), cum, np.ones(len(eta))])
        return np.diff(cum, axis=1)


def robust_cov(theta: np.ndarray, p: Patterns, cluster: np.ndarray | None,
               bread: np.ndarray) -> tuple[np.ndarray, int]:
    """The sandwich ``H^-1 B H^-1`` with ``B`` the cross-product of cluster scores
    (CR1: times ``G / (G - 1)``); each row its own cluster when ``cluster`` is None."""
    nb = p.x.shape[1]
    per_pattern = scores(theta[:nb], theta[nb:], p)
    per_row = per_pattern[p.row_pattern]
    groups = np.arange(len(per_row)) if cluster is None else pd.factorize(pd.Series(cluster))[0]
    n_groups = int(groups.max()) + 1
    summed = np.zeros((n_groups, per_row.shape[1]))
    np.add.at(summed, groups, per_row)
    meat = summed.T @ summed * n_groups / max(n_groups - 1, 1)
    return bread @ meat @ bread, n_groups


def fit_ordinal(x: pd.DataFrame, level: pd.Series | np.ndarray, *,
                cluster: np.ndarray | pd.Series | None = None) -> OrdinalFit:
    """Fit ``P(level <= k | x) = F(c_k - x'beta)`` by Newton on covariate patterns.

    ``level`` holds 0 .. K-1 (every level present). ``cluster`` groups rows for
    cluster-robust standard errors (e.g. the child's id); without it the standard
    errors are robust to misspecification only (each row its own cluster).
    """
    y = np.asarray(level, dtype=int)
    n_levels = int(y.max()) + 1
    if set(np.unique(y)) != set(range(n_levels)):
        raise ValueError(f"levels must run 0 .. {n_levels - 1} with each present; got {sorted(set(y))}")
    p = patterns(x.to_numpy(dtype=float), y)
    theta = newton(p, n_levels)
    nb = p.x.shape[1]
    q = pieces(theta[:nb], theta[nb:], p)
    bread = np.linalg.inv(-hessian(theta[:nb], theta[nb:], p, q))
    cov, n_groups = robust_cov(theta, p, None if cluster is None else np.asarray(cluster), bread)
    names = [str(c) for c in x.columns]
    index = names + [f"cut_{k}" for k in range(n_levels - 1)]
    return OrdinalFit(names, pd.Series(theta, index=index), pd.DataFrame(cov, index=index, columns=index),
                      n_levels, len(y), n_groups, float(p.weight @ q.loglik),
                      "cluster-robust" if cluster is not None else "robust", p)
