"""Tests of the between-LA spreads: the fit on hand-worked figures, the stored spreads
against a refit of the published files, and each LA's draw."""

from __future__ import annotations

import functools
import importlib.util
from statistics import NormalDist

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


@functools.cache
def calibration_script():
    """benchmarks/measures/calibrate_synth.py, the one place the refit is written (loaded
    once: it keeps the published files it read)."""
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


def test_logit_levels_use_each_side_and_the_size():
    s = Spread(centre=-1.0, slope=0.5, sd_low=0.2, sd_high=0.4)
    got = spread.logit_levels(s, np.array([0.0, -1.0, 1.0]), np.array([0.0, 0.0, 2.0]))
    assert got == pytest.approx([-1.0, -1.2, -1.0 + 1.0 + 0.4])


def test_refine_reaches_the_quantiles_and_england():
    # Symmetric targets (median 0.5) with England at 0.55: only LAs whose levels rise
    # with size give that, so the slope must turn positive while the quantiles hold.
    targets = spread.expit(np.array([-0.64, 0.0, 0.64]))
    s = spread.refine(Spread(0.0, 0.0, 0.5, 0.5), targets, 1e9, 0.6, england_target=0.55)
    assert s.slope > 0.1
    assert spread.england(s, 0.6) == pytest.approx(0.55, abs=1e-4)
    x, z = spread.size_grid(0.6)
    got = np.quantile(spread.expit(spread.logit_levels(s, z, x)), [0.1, 0.5, 0.9])
    assert got == pytest.approx(targets, abs=2e-3)


def test_stored_spreads_are_the_published_files_refitted():
    script = calibration_script()
    published = script.published_las()
    la = script.la_rates(published)
    refit = script.fits(la, script.england(la))
    assert list(refit) == list(spread.SPREADS)
    for mid, s in refit.items():
        stored = spread.SPREADS[mid]
        assert np.allclose([stored.centre, stored.slope, stored.sd_low, stored.sd_high],
                           [s.centre, s.slope, s.sd_low, s.sd_high], atol=1e-4), mid
    assert pytest.approx(script.size_sigma(published), abs=0.005) == config.SIZE_SIGMA
    for mid, rho in script.correlations(script.la_rates(published)).items():
        assert spread.CORRELATED[mid][1] == pytest.approx(rho, abs=0.01), mid


def test_stored_spreads_give_englands_published_figures():
    # England is the LAs' figures weighted by their denominators, so it differs from the
    # median LA (SDQ recorded: median 0.853, England 0.782); the spreads before this
    # change gave SDQ's England 0.05 low and re-referrals' 0.02 low.
    script = calibration_script()
    published = script.england(script.la_rates(script.published_las()))
    for mid, s in spread.SPREADS.items():
        assert spread.england(s, config.SIZE_SIGMA) == pytest.approx(published[mid], abs=0.002), mid


def test_a_set_of_las_is_drawn_together():
    a = config.draw_profile(1, 0, 3, 1.0)
    assert a.levels == config.draw_profile(1, 0, 3, 0.2).levels    # same set, other scale
    assert a.levels != config.draw_profile(1, 1, 3, 1.0).levels
    assert a.levels != config.draw_profile(1, 0, 4, 1.0).levels    # another set
    assert set(a.levels) == set(spread.SPREADS)
    assert a.nfa_rate == a.levels["referrals_nfa"]
    assert a.health_check == a.levels["oc2_health_check"]


def test_sixty_las_have_their_distributions_quantiles():
    # Stratified: the 60 sizes are the log-normal's quantiles (k + 0.5) / 60 exactly, and
    # each rate's 60 levels have the p10 / p50 / p90 of its distribution over all LAs
    # (Hazen's quantiles; to the interpolation between strata). Last session's draws (a
    # Latin hypercube per block of 20 LAs, size apart) missed them by up to 0.05.
    profiles = [config.draw_profile(5, i, 60, 1.0) for i in range(60)]
    log_size = np.sort(np.log([p.size for p in profiles])) + config.SIZE_SIGMA**2 / 2
    u = (np.arange(60) + 0.5) / 60
    assert log_size == pytest.approx([config.SIZE_SIGMA * NormalDist().inv_cdf(q) for q in u])
    for mid, s in spread.SPREADS.items():
        got = np.quantile([p.levels[mid] for p in profiles], [0.1, 0.5, 0.9], method=spread.QUANTILE_METHOD)
        want = spread.expit(spread.marginal_quantiles(s, config.SIZE_SIGMA, np.array([0.1, 0.5, 0.9])))
        assert got == pytest.approx(want, abs=0.003), mid


def test_levels_go_with_size_and_with_their_partners():
    # Ranks from plain draws (Iman-Conover): a rate's levels follow its slope on size,
    # and correlated rates keep their published rank correlation.
    log_size, levels = spread.stratified_set(3, 1000, config.SIZE_SIGMA)
    s = spread.SPREADS["oc2_sdq_recorded"]       # slope -0.57: big LAs record fewer SDQs
    assert s.slope < -0.3 and spread.rank_correlation(log_size, levels["oc2_sdq_recorded"]) < -0.2
    for mid, (partner, rho) in spread.CORRELATED.items():
        assert spread.rank_correlation(levels[mid], levels[partner]) == pytest.approx(rho, abs=0.06), mid
