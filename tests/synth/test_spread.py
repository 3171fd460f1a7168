"""Tests of the between-LA spreads: the fit on hand-worked figures, the stored spreads
against a refit of the published files, and each LA's draw."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from csc_outcomes import paths
from csc_outcomes.synth import config, spread
from csc_outcomes.synth.spread import Z90, Spread, fit_spread

#: Logits 0.0, 0.1, ..., 1.0: 10th / 50th / 90th percentiles 0.1 / 0.5 / 0.9 exactly.
Y = np.arange(11) / 10
#: A size pattern uncorrelated with Y (symmetric about its middle).
X = (np.arange(11) - 5.0) ** 2
HUGE = np.full(11, 1e12)


def calibration_script():
    """benchmarks/measures/calibrate_synth.py, the one place the refit is written."""
    path = paths.repo_root() / "benchmarks" / "measures" / "calibrate_synth.py"
    module_spec = importlib.util.spec_from_file_location("calibrate_synth", path)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module


def test_fit_without_noise_or_size_effect():
    s = fit_spread(spread.expit(Y), HUGE, X)
    assert s.slope == pytest.approx(0.0, abs=1e-12)
    assert s.centre == pytest.approx(0.5)
    assert s.sd_low == pytest.approx(0.4 / Z90) and s.sd_high == pytest.approx(0.4 / Z90)


def test_fit_takes_the_binomial_noise_out():
    p = spread.expit(Y)
    n = 1 / (0.01 * p * (1 - p))       # logit-scale noise variance 0.01 for every LA
    s = fit_spread(p, n, X)
    assert s.sd_low == pytest.approx(np.sqrt((0.4 / Z90) ** 2 - 0.01))


def test_fit_never_shrinks_a_side_below_a_fifth():
    p = spread.expit(Y)
    s = fit_spread(p, np.full(11, 10.0), X)    # noise far above the observed spread
    assert s.sd_high == pytest.approx(0.4 / Z90 / 5)


def test_fit_separates_the_size_effect():
    x = np.linspace(-1, 1, 11)
    s = fit_spread(spread.expit(2.0 * x + 0.3), HUGE, x + 7)
    assert s.slope == pytest.approx(2.0) and s.centre == pytest.approx(0.3)
    assert s.sd_low == pytest.approx(0.0, abs=1e-6)


def test_level_uses_each_side_and_the_size():
    s = Spread(centre=-1.0, slope=0.5, sd_low=0.2, sd_high=0.4)
    assert spread.level(s, 0.0, 0.0) == pytest.approx(spread.expit(-1.0))
    assert spread.level(s, -1.0, 0.0) == pytest.approx(spread.expit(-1.2))
    assert spread.level(s, 1.0, 2.0) == pytest.approx(spread.expit(-1.0 + 1.0 + 0.4))


def test_stored_spreads_are_the_published_files_refitted():
    script = calibration_script()
    published = script.published_las()
    refit = script.fits(script.la_rates(published))
    assert list(refit) == list(spread.SPREADS)
    for mid, s in refit.items():
        stored = spread.SPREADS[mid]
        assert np.allclose([stored.centre, stored.slope, stored.sd_low, stored.sd_high],
                           [s.centre, s.slope, s.sd_low, s.sd_high], atol=1e-4), mid
    assert pytest.approx(script.size_sigma(published), abs=0.005) == config.SIZE_SIGMA
    for mid, rho in script.correlations(script.la_rates(published)).items():
        assert spread.CORRELATED[mid][1] == pytest.approx(rho, abs=0.01), mid


def test_each_la_has_its_own_levels_whatever_the_number_of_las():
    a = config.draw_profile(1, 0, 3, 1.0)
    b = config.draw_profile(1, 0, 60, 0.2)     # same LA, other run: the same levels
    c = config.draw_profile(1, 1, 3, 1.0)
    assert a.levels == b.levels and a.levels != c.levels
    assert set(a.levels) == set(spread.SPREADS)
    assert a.nfa_rate == a.levels["referrals_nfa"]
    assert a.health_check == a.levels["oc2_health_check"]


def test_levels_spread_as_the_published_ones_before_noise():
    # 1,000 LAs' levels: their 10th-90th percentile range on the logit scale is the
    # fitted spread's (sizes add the slope's part). Fails with the spreads of the old
    # generator (re-referrals all at one rate, sd 0).
    levels = np.array([config.draw_profile(3, i, 1000, 1.0).levels["rereferrals_within_12m"]
                       for i in range(1000)])
    s = spread.SPREADS["rereferrals_within_12m"]
    width = np.subtract(*np.quantile(spread.logit(levels), [0.9, 0.1]))
    expected = Z90 * np.hypot((s.sd_low + s.sd_high) / 2, s.slope * config.SIZE_SIGMA) * 2
    assert width == pytest.approx(expected, rel=0.08)
