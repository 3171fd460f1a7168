"""Tests of the levers: each inverts its fitted relation (worked forward by hand); and
one LA given the lowest long-term stability a set of 60 draws realises it through the
generator's own mechanism (its history measured in memory: about 4 s)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from csc_outcomes.measures import stability
from csc_outcomes.measures.periods import make_periods
from csc_outcomes.synth import config, history, levers
from csc_outcomes.synth.spread import expit, logit


def test_rereferral_shift_is_zero_at_the_base_and_scaled_by_the_sensitivity():
    assert levers.rereferral_shift(levers.REREF_AT_BASE) == pytest.approx(0.0)
    one_unit = float(expit(logit(levers.REREF_AT_BASE) + levers.REREF_SENSITIVITY))
    assert levers.rereferral_shift(one_unit) == pytest.approx(1.0)


def test_placement_moves_invert_the_fitted_model_on_the_multiplier():
    # forward: the model's rates at log rate 0.1, log multiplier -0.2, no even hazard;
    # back: the same point, to the grid's step (0.01 on both logs)
    three_plus, stable = levers.placement_fit(np.array(0.1), np.array(-0.2), np.array(0.0))
    rate, mult, extra = levers.placement_moves(float(three_plus), float(stable))
    assert np.log(rate) == pytest.approx(0.1, abs=0.011)
    assert np.log(mult) == pytest.approx(-0.2, abs=0.011)
    assert extra == 0.0


def test_placement_moves_take_low_stability_from_the_even_hazard():
    # forward at the highest multiplier with an even hazard of 0.15 moves a year:
    # stability is the line's times exp(-1.966 * 0.15) = 0.745 of it, 3+ placements
    # the line's plus 0.152 * 0.15 = 0.0228
    lr, lm = np.log(0.3), levers.MAX_LOG_MULT
    three0, stable0 = levers.placement_fit(np.array(lr), np.array(lm), np.array(0.0))
    three_plus, stable = levers.placement_fit(np.array(lr), np.array(lm), np.array(0.15))
    assert float(stable) == pytest.approx(float(stable0) * 0.7446, abs=1e-4)
    assert float(three_plus) == pytest.approx(float(three0) + 0.0228)
    rate, mult, extra = levers.placement_moves(float(three_plus), float(stable))
    assert np.log(mult) == pytest.approx(lm)
    assert extra == pytest.approx(0.15, abs=0.003)      # the hazard's grid is 0.0025 apart
    assert np.log(rate) == pytest.approx(lr, abs=0.011)


def test_placement_moves_stay_in_range_for_extreme_targets():
    for three_plus, stable in ((0.01, 0.99), (0.4, 0.3), (0.01, 0.3)):
        rate, mult, extra = levers.placement_moves(three_plus, stable)
        assert np.exp(levers.LOG_RATE_RANGE[0]) - 1e-9 <= rate <= np.exp(levers.LOG_RATE_RANGE[1]) + 1e-9
        assert np.exp(levers.MIN_LOG_MULT) - 1e-9 <= mult <= np.exp(levers.MAX_LOG_MULT) + 1e-9
        assert 0.0 <= extra <= 0.8


def placement_rates(h: history.History) -> dict[str, tuple[float, float]]:
    """(numerator, denominator) of 3+ placements and long-term stability at 31 March
    2026, by the measures' own functions on the history's episodes (no files written)."""
    e, code = h.episodes, h.prof.code
    eps = pd.DataFrame({"la_code": code, "CHILD": h.child_id[e["child"].to_numpy()],
                        **{c: e[c] for c in ("DECOM", "DEC", "RNE", "LS", "PLACE", "URN", "PL_POST")}})
    header = pd.DataFrame({"la_code": code, "CHILD": h.child_id, "DOB": h.kids.dob, "UPN": "x"})
    periods = make_periods(["2026-03-31"])
    out = {}
    for mid, f in (("cla_3plus_placements", stability.cla_3plus_placements),
                   ("cla_long_term_stability", stability.cla_long_term_stability)):
        r = f({"episodes": eps, "header": header}, periods)
        out[mid] = (float(r["numerator"].iloc[0]), float(r["denominator"].iloc[0]))
    return out


def test_an_la_given_low_stability_realises_it():
    # The lowest levels a set of 60 LAs draws (seed 2026's lowest stability: 0.535 with
    # 3+ placements 0.085). The multiplier alone, as before, gave about 0.65 here. An
    # LA of 3.8 England-sized LAs' volume has about 650 children in stability's
    # denominator (SE 0.020) and 1,600 in 3+ placements' (SE 0.007): each within
    # 3 SE plus 0.01 (the lever's fitted lines are not exact).
    prof = config.draw_profile(11, 0, 1, 1.0)
    prof.levels.update(cla_3plus_placements=0.085, cla_long_term_stability=0.535)
    config.apply_levels(prof)
    prof.size = 3.8
    got = placement_rates(history.build(prof, 11, 2024, 2026))
    for mid, (num, den) in got.items():
        level = prof.levels[mid]
        assert abs(num / den - level) <= 3 * np.sqrt(level * (1 - level) / den) + 0.01, (mid, num / den, den)


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
