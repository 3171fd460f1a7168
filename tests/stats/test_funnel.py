"""Funnel limits: hand-worked values for each method, and their shape."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from csc_outcomes.stats.funnel import FunnelResult, funnel_limits, limits_on_grid, winsorise

Z95 = 1.959964
Z998 = 3.090232

# z-scores worked by hand below; sorted they are [-4, -2, -1, -0.6, 0, 0.4, 1, 1.4, 2, 5].
# numpy/R type-7 quantiles of 10 values: 10th percentile at position 0.9 between -4 and
# -2 -> -2.2; 90th at position 8.1 between 2 and 5 -> 2.3. Winsorised:
# [-2.2, -2, -1, -0.6, 0, 0.4, 1, 1.4, 2, 2.3]; sum of squares
# 4.84 + 4 + 1 + 0.36 + 0 + 0.16 + 1 + 1.96 + 4 + 5.29 = 22.61 -> phi = 2.261.
Z_HAND = np.array([-4, -2, -1, -0.6, 0, 0.4, 1, 1.4, 2, 5])
PHI_HAND = 2.261


def test_spiegelhalter_hand_worked_limits():
    res = funnel_limits([20], [100], target=0.2)
    assert res.loc[0, "lower_95"] == pytest.approx(0.1216, abs=5e-5)
    assert res.loc[0, "upper_95"] == pytest.approx(0.2784, abs=5e-5)
    half998 = Z998 * math.sqrt(0.2 * 0.8 / 100)
    assert res.loc[0, "upper_998"] == pytest.approx(0.2 + half998, abs=1e-6)
    assert res.loc[0, "z"] == 0 and res.loc[0, "flag_95"] == "inside"
    assert res.phi == 1 and res.tau2 == 0


def test_flags_and_z_scores():
    # target 0.2, n=100: sd 0.04. 30/100 -> z 2.5 (above 95%, inside 99.8%); 5/100 -> z -3.75
    res = funnel_limits([30, 5, 21], [100, 100, 100], target=0.2)
    assert res["z"].tolist() == pytest.approx([2.5, -3.75, 0.25])
    assert res["flag_95"].tolist() == ["above", "below", "inside"]
    assert res["flag_998"].tolist() == ["inside", "below", "inside"]


def test_default_target_is_pooled_and_units_from_index():
    num = pd.Series([10, 30], index=["SYN01", "SYN02"])
    den = pd.Series([100, 100], index=["SYN01", "SYN02"])
    res = funnel_limits(num, den)
    assert res.target == pytest.approx(0.2)
    assert res["unit"].tolist() == ["SYN01", "SYN02"]
    assert isinstance(res, FunnelResult) and isinstance(res, pd.DataFrame)


def test_winsorise_hand_example():
    w = winsorise(Z_HAND, 0.1)
    assert w.tolist() == pytest.approx([-2.2, -2, -1, -0.6, 0, 0.4, 1, 1.4, 2, 2.3])


def test_multiplicative_phi_by_hand():
    n = np.full(10, 100)
    num = 50 + 5 * Z_HAND  # target 0.5, sd 0.05: y = 0.5 + 0.05 z, so r = 50 + 5 z
    res = funnel_limits(num, n, target=0.5, method="multiplicative")
    assert res["z"].to_numpy() == pytest.approx(Z_HAND)
    assert res.phi == pytest.approx(PHI_HAND)
    assert res["phi"].iloc[0] == pytest.approx(PHI_HAND)
    half = Z95 * math.sqrt(PHI_HAND * 0.25 / 100)  # 1.959964 * 0.0751831 = 0.147356
    assert half == pytest.approx(0.147356, abs=1e-6)
    assert res.loc[0, "lower_95"] == pytest.approx(0.5 - half, abs=1e-6)
    assert res.loc[0, "upper_95"] == pytest.approx(0.5 + half, abs=1e-6)
    assert res["z_adjusted"].to_numpy() == pytest.approx(Z_HAND / math.sqrt(PHI_HAND))
    # z = 5 is outside the plain 99.8% limits but inside the inflated ones? 5/1.504 = 3.33 -> still above
    assert res["flag_998"].iloc[-1] == "above"
    assert res["flag_95"].iloc[1] == "inside"  # z = -2 is inside once inflated


def test_additive_tau2_by_hand_on_arcsine_scale():
    # target 0.5 -> T = pi/4; n = 100 -> s = 1/20; choose y so the arcsine z-scores are Z_HAND
    n = np.full(10, 100.0)
    y = np.sin(math.pi / 4 + Z_HAND / 20) ** 2
    res = funnel_limits(y * n, n, target=0.5, method="additive")
    assert res["z"].to_numpy() == pytest.approx(Z_HAND)
    # w = 4n = 400 each: sum w = 4000, sum w^2 / sum w = 400 -> denominator 3600
    tau2 = (10 * PHI_HAND - 9) / 3600  # = 0.0037806
    assert res.tau2 == pytest.approx(tau2)
    assert tau2 == pytest.approx(0.0037806, abs=1e-7)
    a = Z95 * math.sqrt(1 / 400 + tau2)
    # sin^2(pi/4 +/- a) = (1 +/- sin 2a) / 2
    assert res.loc[0, "upper_95"] == pytest.approx((1 + math.sin(2 * a)) / 2, abs=1e-6)
    assert res.loc[0, "lower_95"] == pytest.approx((1 - math.sin(2 * a)) / 2, abs=1e-6)
    assert res["z_adjusted"].to_numpy() == pytest.approx(Z_HAND * 0.05 / math.sqrt(0.0025 + tau2))


def test_no_overdispersion_gives_phi_one_and_tau_zero():
    n = np.array([50, 100, 200, 400, 800])
    res_m = funnel_limits(0.3 * n, n, target=0.3, method="multiplicative")
    res_a = funnel_limits(0.3 * n, n, target=0.3, method="additive")
    assert res_m.phi == 1.0 and res_m.phi_hat == 0.0
    assert res_a.tau2 == 0.0
    plain = funnel_limits(0.3 * n, n, target=0.3)
    assert res_m["upper_95"].to_numpy() == pytest.approx(plain["upper_95"].to_numpy())


def test_binomial_data_show_little_overdispersion():
    rng = np.random.default_rng(20250331)
    n = rng.integers(100, 2000, size=300)
    r = rng.binomial(n, 0.25)
    res = funnel_limits(r, n, target=0.25, method="multiplicative")
    assert 1.0 <= res.phi < 1.2
    res_a = funnel_limits(r, n, target=0.25, method="additive")
    assert res_a.tau2 < 2e-4
    assert res_a.od_p_value > 0.001


def test_overdispersed_data_widen_limits():
    rng = np.random.default_rng(7)
    n = rng.integers(100, 2000, size=150)
    r = rng.binomial(n, rng.beta(25, 75, size=150))
    plain = funnel_limits(r, n)
    mult = funnel_limits(r, n, method="multiplicative")
    add = funnel_limits(r, n, method="additive")
    assert mult.phi > 2 and add.tau2 > 0
    assert (mult["upper_998"] > plain["upper_998"]).all()
    assert (add["upper_998"] > plain["upper_998"]).all()
    assert (plain["flag_998"] != "inside").sum() > (add["flag_998"] != "inside").sum()


@pytest.mark.parametrize("method", ["spiegelhalter", "multiplicative", "additive"])
def test_limits_narrow_monotonically_with_n(method):
    grid = limits_on_grid(0.2, [10, 5000], method=method, phi=2.0, tau2=0.001)
    grid = grid[grid["lower_95"] > 0]
    width95 = (grid["upper_95"] - grid["lower_95"]).to_numpy()
    width998 = (grid["upper_998"] - grid["lower_998"]).to_numpy()
    assert (np.diff(width95) < 0).all()
    assert (np.diff(width998) < 0).all()
    assert (width998 > width95).all()
    assert np.diff(grid["denominator"].to_numpy()).min() > 0


def test_additive_limits_level_off_at_tau():
    grid = limits_on_grid(0.5, [1e7], method="additive", tau2=0.01)
    half = (grid["upper_95"] - grid["lower_95"]).iloc[-1] / 2
    assert half == pytest.approx(math.sin(2 * Z95 * 0.1) / 2, abs=1e-4)


def test_grid_attached_and_zero_denominator_kept():
    res = funnel_limits([1, 10, 0], [0, 100, 40], levels=(0.95,))
    assert pd.isna(res.loc[0, "z"]) and pd.isna(res.loc[0, "flag_95"])
    assert list(res.grid.columns) == ["denominator", "target", "lower_95", "upper_95"]
    sub = res[res["flag_95"].notna()]
    assert sub.grid is res.grid  # metadata survives filtering


def test_bad_input_raises():
    with pytest.raises(ValueError):
        funnel_limits([5], [4])
    with pytest.raises(ValueError):
        funnel_limits([1], [10], method="poisson")


def test_measure_funnel_from_the_tidy_table():
    from csc_outcomes.stats.funnel import measure_funnel

    m = pd.DataFrame(
        {
            "la_code": ["SYN01", "SYN02", "SYN03", "SYN01"],
            "period_end": pd.to_datetime(["2025-03-31"] * 3 + ["2024-03-31"]),
            "measure_id": "rr",
            "numerator": [20, 30, 0, 5],
            "denominator": [100, 100, 0, 50],
            "value": [0.2, 0.3, None, 0.1],
        }
    )
    res = measure_funnel(m, "rr", "2025-03-31", method="spiegelhalter")
    assert res["unit"].tolist() == ["SYN01", "SYN02"]
    assert res.target == pytest.approx(0.25)
