"""Funnel limits (FunnelPlotR's method for proportions) against values worked independently.

The exact binomial limits are recomputed here from ``math.comb`` sums, not scipy; the
random-effects limits from the formulas written out by hand; and each finding of the
statistics audit has its own test that the previous method failed.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from csc_outcomes.stats.funnel import (
    MIN_UNITS,
    FunnelResult,
    exact_limits,
    funnel_limits,
    limits_on_grid,
    measure_funnel,
    winsorise,
)

Z95 = 1.959964
Z998 = 3.090232


def binom_cdf(k: int, n: int, p: float) -> float:
    return sum(math.comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(k + 1))


def exact_limit_by_hand(n: int, p: float, q: float) -> float:
    """Spiegelhalter's interpolated binomial quantile: smallest k with F(k) >= q, then
    back along the step by (F(k) - q) / (F(k) - F(k - 1)); a limit is never below 0."""
    k = next(k for k in range(n + 1) if binom_cdf(k, n, p) >= q)
    f_k, f_below = binom_cdf(k, n, p), (binom_cdf(k - 1, n, p) if k else 0.0)
    return max(0.0, (k - (f_k - q) / (f_k - f_below)) / n)


def test_exact_limits_match_the_audit_and_a_hand_sum() -> None:
    # The audit's example: p0 0.873, n 50, 99.8% limits 0.6997-0.9822 (the normal
    # approximation gave 0.7275-1.000).
    lo, hi = exact_limits([50], 0.873, 0.998)
    assert (lo[0], hi[0]) == pytest.approx((0.6997, 0.9822), abs=5e-5)
    for n, p, level in [(50, 0.873, 0.998), (100, 0.2, 0.95), (7, 0.4, 0.95)]:
        lo, hi = exact_limits([n], p, level)
        assert lo[0] == pytest.approx(exact_limit_by_hand(n, p, (1 - level) / 2), abs=1e-9)
        assert hi[0] == pytest.approx(exact_limit_by_hand(n, p, (1 + level) / 2), abs=1e-9)


def test_a_high_rate_on_a_large_denominator_is_above_not_clipped_inside() -> None:
    # 99.2% of 2,806 against 87.3%: the normal upper limit was clipped at 1 and the LA
    # called "between the limits". Exact 99.8% upper limit at n 2806 is about 0.892.
    res = funnel_limits([2784, 40], [2806, 50], target=0.873)
    assert res.loc[0, "flag_998"] == "above" and res.loc[0, "upper_998"] < 0.9
    assert res.loc[1, "flag_998"] == "inside"


def test_no_overdispersion_from_a_handful_of_units() -> None:
    # Three LAs once gave phi 19.6 and a z of -8.1 read as "consistent with the average".
    res = funnel_limits([100, 400, 900], [1000, 1000, 1000])
    assert res.n_units == 3 and math.isnan(res.phi) and res.tau2 == 0
    assert "too few" in res.note
    assert res.loc[0, "flag_998"] == "below" and res.loc[2, "flag_998"] == "above"


def arcsine_z_by_hand(r: float, n: float, p0: float) -> float:
    return (math.asin(math.sqrt(r / n)) - math.asin(math.sqrt(p0))) * 2 * math.sqrt(n)


def test_no_random_effects_when_phi_is_at_most_one() -> None:
    # 20 units of n 400 at z-scores whose winsorised mean square is between
    # (I - 1) / I = 0.95 and 1: the plain DerSimonian-Laird formula gave tau2 > 0.
    n = 400
    base = np.array([-1.2, -1.1, -1.0, -0.9, -0.8, -0.7, -0.6, -0.5, -0.4, -0.3,
                     0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2])
    # Winsorised at -1.01 and 1.01 (type-7 quantiles at position 1.9 of 20), the mean
    # square of ``base`` is 2 * (2 * 1.01^2 + 1.0^2 + 0.9^2 + ... + 0.3^2) / 20 = 0.58402;
    # scaling by sqrt(0.975 / 0.58402) puts phi at 0.975, inside (0.95, 1].
    zs = base * math.sqrt(0.975 / 0.58402)
    t = math.asin(math.sqrt(0.3))
    r = np.sin(t + zs / (2 * math.sqrt(n))) ** 2 * n
    res = funnel_limits(r, np.full(20, n), target=0.3)
    zw = winsorise(np.array([arcsine_z_by_hand(x, n, 0.3) for x in r]))
    phi = float(np.mean(zw**2))
    assert (20 - 1) / 20 < phi <= 1 and res.phi == pytest.approx(phi)
    assert res.tau2 == 0


def test_random_effects_by_hand_when_overdispersed() -> None:
    rng = np.random.default_rng(5)
    n = rng.integers(200, 2000, 30).astype(float)
    r = np.round(n * np.clip(rng.normal(0.25, 0.06, 30), 0.02, 0.9))
    res = funnel_limits(r, n)
    p0 = r.sum() / n.sum()
    zw = winsorise(np.array([arcsine_z_by_hand(a, b, p0) for a, b in zip(r, n, strict=True)]))
    phi = float(np.mean(zw**2))
    w = 4 * n
    tau2 = (30 * phi - 29) / (w.sum() - (w**2).sum() / w.sum())
    assert phi > 1 and res.phi == pytest.approx(phi) and res.tau2 == pytest.approx(tau2)
    half = Z95 * math.sqrt(1 / (4 * n[0]) + tau2)
    t = math.asin(math.sqrt(p0))
    assert res.loc[0, "lower_95"] == pytest.approx(math.sin(t - half) ** 2)
    assert res.loc[0, "upper_95"] == pytest.approx(math.sin(t + half) ** 2)
    z_adj = (math.asin(math.sqrt(r[0] / n[0])) - t) / math.sqrt(1 / (4 * n[0]) + tau2)
    assert res.loc[0, "z_adjusted"] == pytest.approx(z_adj)
    assert res.loc[0, "flag_95"] == ("inside" if abs(z_adj) <= Z95 else ("above" if z_adj > 0 else "below"))


def test_minimum_units_is_fifteen() -> None:
    assert MIN_UNITS == 15
    r, n = np.array([10, 90] * 8, dtype=float), np.full(16, 100.0)
    assert funnel_limits(r[:14], n[:14]).tau2 == 0
    assert funnel_limits(r, n).tau2 > 0


def test_units_without_a_denominator_are_kept_unflagged() -> None:
    res = funnel_limits(pd.Series([1, 10, 0], index=["A", "B", "C"]),
                        pd.Series([0, 100, 40], index=["A", "B", "C"]), levels=(0.95,))
    assert isinstance(res, FunnelResult) and list(res["unit"]) == ["A", "B", "C"]
    assert res.loc["A", "flag_95"] is None and math.isnan(res.loc["A", "z"])


def test_ratios_and_bad_numbers_are_refused_with_reasons() -> None:
    measures = pd.DataFrame({"la_code": ["A", "B"], "period_end": ["2025-03-31"] * 2,
                             "measure_id": ["contacts_to_referrals"] * 2,
                             "numerator": [300, 500], "denominator": [100, 120],
                             "value": [3.0, 4.2]})
    with pytest.raises(ValueError, match="ratio, not a proportion"):
        measure_funnel(measures, "contacts_to_referrals", "2025-03-31", kind="ratio")
    with pytest.raises(ValueError, match="between 0 and its denominator"):
        funnel_limits([5], [4])
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        funnel_limits([0, 0], [10, 20])


def test_grid_is_drawn_with_the_same_limits() -> None:
    grid = limits_on_grid(0.2, [10, 5000], tau2=0.0, levels=(0.95,))
    lo, hi = exact_limits(grid["denominator"].to_numpy(), 0.2, 0.95)
    assert np.allclose(grid["lower_95"], lo) and np.allclose(grid["upper_95"], hi)
    assert grid["denominator"].is_monotonic_increasing and (grid["upper_95"] <= 1).all()


def test_exact_limits_equal_those_scipy_stats_gave() -> None:
    """The limits as computed before scipy.stats left the notebooks' imports (its binom
    ppf and cdf), on denominators 0-50,000, targets 0-1 and the kit's levels; level 0
    puts both tails at q = 1/2, where odd n with target 1/2 ties exactly."""
    from scipy import stats

    def before(n: np.ndarray, target: float, level: float) -> tuple[np.ndarray, np.ndarray]:
        out = []
        for q in ((1 - level) / 2, (1 + level) / 2):
            k = stats.binom.ppf(q, n, target)
            cdf_k, cdf_below = stats.binom.cdf(k, n, target), stats.binom.cdf(k - 1, n, target)
            with np.errstate(divide="ignore", invalid="ignore"):
                a = np.where(cdf_k > cdf_below, (cdf_k - q) / (cdf_k - cdf_below), 0.0)
                out.append(np.clip((k - a) / n, 0, 1))
        return out[0], out[1]

    n = np.unique(np.round(np.geomspace(1, 50_000, 400)))
    for target in (0.0, 0.004, 0.05, 0.21, 0.5, 0.63, 0.97, 1.0):
        for level in (0.0, 0.95, 0.998):
            for got, want in zip(exact_limits(n, target, level), before(n, target, level), strict=True):
                np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)
