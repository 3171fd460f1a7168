"""The light distribution functions equal ``scipy.stats`` (imported here, in the tests only).

Grids cover what the kit asks: funnel tails (0.001, 0.025, 0.975, 0.999) at
denominators from 0 to 100,000 and targets from 0 to 1; z-scores far into the tails;
chi-squared tails of the overdispersion test. The binomial quantile must be equal
exactly (it is a whole number) but at exact ties; the binomial cdf to 1e-11 relative
(scipy.stats promotes Boost's incomplete beta to long double, scipy.special's is in
double); the rest to 1e-13.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from csc_outcomes.stats import distributions as d

Q = np.array([0.0005, 0.001, 0.025, 0.2, 0.5, 0.8, 0.975, 0.999, 0.9995])
N = np.array([0, 1, 2, 3, 5, 8, 13, 40, 99, 250, 1_000, 4_321, 25_000, 100_000], dtype=float)
P = np.array([0.0, 1e-4, 0.01, 0.063, 0.2, 0.5, 0.77, 0.99, 1.0])


def grid() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    q, n, p = np.meshgrid(Q, N, P, indexing="ij")
    return q.ravel(), n.ravel(), p.ravel()


def test_binomial_quantile_equals_scipy_on_the_grid_ties_aside() -> None:
    """Equal everywhere but at an exact tie, ``cdf(k) == q`` (Bin(99, 1/2) at q = 1/2):
    there scipy's root finder (Boost) sometimes answers ``k + 1``; the least ``k`` with
    ``cdf(k) >= q`` is ``k``. The funnel's interpolated limit is the same either way
    (``tests/stats/test_funnel.py``)."""
    q, n, p = grid()
    ours, theirs = d.binom_ppf(q, n, p), stats.binom.ppf(q, n, p)
    tie = d.binom_cdf(ours, n, p) == q
    np.testing.assert_array_equal(ours[~tie], theirs[~tie])
    assert set(theirs[tie] - ours[tie]) <= {0.0, 1.0} and tie.sum() < 10
    assert d.binom_ppf(0.5, 99, 0.5) == 49 and d.binom_cdf(49, 99, 0.5) == 0.5


def test_binomial_cdf_equals_scipy_around_each_quantile() -> None:
    q, n, p = grid()
    k = stats.binom.ppf(q, n, p)
    for shift in (-2, -1, 0, 1, n + 1):
        np.testing.assert_allclose(d.binom_cdf(k + shift, n, p), stats.binom.cdf(k + shift, n, p),
                                   rtol=1e-11, atol=1e-300)


def test_binomial_edges_by_hand() -> None:
    # Bin(4, 0.5): cdf 1/16, 5/16, 11/16, 15/16, 1 at k = 0..4
    assert d.binom_cdf(-1, 4, 0.5) == 0.0
    assert d.binom_cdf(1.7, 4, 0.5) == pytest.approx(5 / 16, rel=1e-15)
    assert d.binom_cdf(4, 4, 0.5) == 1.0
    assert list(d.binom_ppf([0.0, 0.0625, 0.07, 0.6875, 0.69, 1.0], 4, 0.5)) == [-1, 0, 1, 2, 3, 4]
    assert np.isnan(d.binom_ppf(0.5, 4.5, 0.5)) and np.isnan(d.binom_cdf(1, 4, 1.5))
    assert np.isnan(d.binom_ppf(0.5, np.nan, 0.5))


def test_normal_functions_equal_scipy() -> None:
    x = np.concatenate([np.linspace(-40, 40, 801), [-1e3, 1e3, 0.0]])
    np.testing.assert_allclose(d.norm_sf(x), stats.norm.sf(x), rtol=1e-13, atol=0)
    np.testing.assert_allclose(d.norm_logcdf(x), stats.norm.logcdf(x), rtol=1e-13)
    np.testing.assert_allclose(d.norm_logpdf(x), stats.norm.logpdf(x), rtol=1e-13)
    p = np.concatenate([np.logspace(-300, -1, 300), np.linspace(0.1, 0.9, 81), 1 - np.logspace(-15, -1, 50)])
    np.testing.assert_allclose(d.norm_ppf(p), stats.norm.ppf(p), rtol=1e-13)
    assert d.norm_ppf(0.975) == pytest.approx(1.959963984540054, rel=1e-15)


def test_chi_squared_tail_equals_scipy() -> None:
    x, df = np.meshgrid(np.linspace(0, 400, 401), np.array([1, 2, 9, 14, 151, 152]), indexing="ij")
    np.testing.assert_allclose(d.chi2_sf(x, df), stats.chi2.sf(x, df), rtol=1e-13, atol=1e-300)
    assert d.chi2_sf(3.841458820694124, 1) == pytest.approx(0.05, rel=1e-12)
