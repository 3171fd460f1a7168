"""The normal, chi-squared and binomial functions the models and funnels use, light.

Why not ``scipy.stats``: importing it costs 1.5-4 s on the project's 2-core machine,
and every report notebook's kernel paid it (through the funnel limits) before drawing
anything. ``scipy.stats`` computes these with the ufuncs of ``scipy.special``; calling
them directly gives the same numbers (``tests/stats/test_distributions.py`` checks
them against ``scipy.stats`` on a grid) for a fraction of the import.

The binomial cdf is the regularised incomplete beta function scipy.stats uses (Boost's
``ibetac``); the quantile follows scipy's definition, the least ``k`` with
``cdf(k) >= q``, found by bisection on that cdf (exact whatever ``n`` is).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import special

#: log(sqrt(2 pi)): the normal density's constant, as scipy.stats writes it.
LOG_SQRT_2PI = math.log(math.sqrt(2 * math.pi))


def norm_ppf(p: Any) -> Any:
    """Standard normal quantile (``scipy.stats.norm.ppf``)."""
    return special.ndtri(p)


def norm_sf(x: Any) -> Any:
    """Standard normal upper tail ``P(Z > x)`` (``scipy.stats.norm.sf``)."""
    return special.ndtr(-np.asarray(x, dtype=float))


def norm_logcdf(x: Any) -> Any:
    """Log of the standard normal cdf, accurate far in the lower tail."""
    return special.log_ndtr(x)


def norm_logpdf(x: Any) -> Any:
    """Log of the standard normal density."""
    x = np.asarray(x, dtype=float)
    return -(x**2) / 2.0 - LOG_SQRT_2PI


def chi2_sf(x: Any, df: Any) -> Any:
    """Chi-squared upper tail ``P(X > x)`` on ``df`` degrees of freedom."""
    return special.chdtrc(df, x)


def _binom_valid(n: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Where a binomial's parameters make sense (whole ``n >= 0``, ``0 <= p <= 1``)."""
    with np.errstate(invalid="ignore"):
        return (n >= 0) & (n == np.floor(n)) & (p >= 0) & (p <= 1)


def binom_cdf(k: Any, n: Any, p: Any) -> np.ndarray:
    """Binomial ``P(X <= k)``: 0 below the support, 1 from ``n`` on, NaN for bad parameters."""
    k, n, p = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (k, n, p)))
    valid = _binom_valid(n, p) & ~np.isnan(k)
    inside = valid & (k >= 0) & (k < n)
    out = np.where(valid & (k >= n), 1.0, np.where(valid, 0.0, np.nan))
    k, n, p = np.floor(k[inside]), n[inside], p[inside]
    # Boost's binomial cdf, as scipy.stats computes it: 1 - I_p(k + 1, n - k)
    out[inside] = np.clip(special.betaincc(k + 1, n - k, p), 0, 1)
    return out


def binom_ppf(q: Any, n: Any, p: Any) -> np.ndarray:
    """Binomial quantile: the least ``k`` with ``binom_cdf(k) >= q`` (``q = 0`` gives -1)."""
    q, n, p = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (q, n, p)))
    valid = _binom_valid(n, p) & (q >= 0) & (q <= 1)
    lo = np.zeros(q.shape)
    hi = np.where(valid, n, 0.0)
    while (todo := lo < hi).any():
        mid = np.floor((lo + hi) / 2)
        enough = todo & (binom_cdf(mid, n, p) >= q)
        hi = np.where(enough, mid, hi)
        lo = np.where(todo & ~enough, mid + 1, lo)
    lo = np.where(q == 0, -1.0, lo)
    return np.where(valid, lo, np.nan)
