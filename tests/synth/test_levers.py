"""Tests of the levers: each inverts its fitted relation (worked forward by hand)."""

from __future__ import annotations

import numpy as np
import pytest

from csc_outcomes.synth import levers
from csc_outcomes.synth.spread import expit, logit


def test_rereferral_shift_is_zero_at_the_base_and_scaled_by_the_sensitivity():
    assert levers.rereferral_shift(levers.REREF_AT_BASE) == pytest.approx(0.0)
    one_unit = float(expit(logit(levers.REREF_AT_BASE) + levers.REREF_SENSITIVITY))
    assert levers.rereferral_shift(one_unit) == pytest.approx(1.0)


def test_placement_moves_solve_both_fitted_lines():
    log_rate, log_mult = 0.1, -0.2
    a, b, c = levers.PLACEMENTS_FIT
    d, e, f = levers.STABILITY_FIT
    three_plus = float(expit(a + b * log_rate + c * log_mult))
    stable = float(expit(d + e * log_rate + f * log_mult))
    rate, mult = levers.placement_moves(three_plus, stable)
    assert np.log(rate) == pytest.approx(log_rate, abs=1e-9)
    assert np.log(mult) == pytest.approx(log_mult, abs=1e-9)


def test_placement_moves_stay_in_range_for_extreme_targets():
    rate, mult = levers.placement_moves(0.01, 0.99)
    assert np.exp(-1.6) <= rate <= np.exp(1.2) and np.exp(-1.5) <= mult <= np.exp(1.5)


def test_sw_change_rate_inverts_the_fit():
    # rate 1.0, shape 2: p = 2/3; P(0) = 4/9, P(1) = 2 * 4/9 * 1/3 = 8/27; P(2+) = 7/27
    assert levers.two_or_more(np.array(1.0)) == pytest.approx(7 / 27)
    a, b = levers.SW_FIT
    target = float(expit(a + b * logit(7 / 27)))
    assert levers.sw_change_rate(target) == pytest.approx(1.0, rel=0.01)


def test_missing_mult_inverts_the_line():
    a, b = levers.MISSING_FIT
    assert levers.missing_mult(a * 1.3 + b) == pytest.approx(1.3)


def test_care_leavers_rate_among_those_known():
    # in touch 0.92: known (YES 0.92 + NREQ 0.01) of the denominator (all but RHOM,
    # DIED: 0.99) is 0.93 / 0.99, so 50% of the denominator needs 0.5 * 0.99 / 0.93 of
    # those known
    assert levers.among_known(0.5, 0.92) == pytest.approx(0.5 * 0.99 / 0.93)


def test_attendance_mix_reproduces_both_targets():
    q, high = levers.attendance_mix(0.911, 0.206, 0.60)
    a, b, c = levers.ATTENDANCE_LOSS
    attendance = q * 0.60 + (1 - q) * high - (a + b * q + c * high)
    assert attendance == pytest.approx(0.911, abs=1e-9)
    pa = expit(levers.PERSISTENT_FIT[0] + levers.PERSISTENT_FIT[1] * q + levers.PERSISTENT_FIT[2] * high)
    assert pa == pytest.approx(0.206, abs=0.005)      # the grid of shares is 0.0025 apart
    assert 0 < q < 0.45 and high <= levers.MAX_HIGH_MEAN
