"""Each LA's levels (``spread.stratified_set``) turned into the parameters of the
generator's mechanisms, so that the rates the measures find in its files are those
levels (plus the sampling noise of its own counts).

Some rates are a parameter of the generator as they stand (a health check is done
with probability ``health_check``). The others come out of a process (re-referrals of
the re-referral model, placement moves of a hazard), so each lever is a simple model of
how the measured rate moves with its parameter, fitted on synthetic runs (below).
"""

from __future__ import annotations

import numpy as np

from .spread import logit

#: Fitted on two synthetic runs at the base and with the parameters varied widely and
#: independently (30 LAs each, year ending 31 March 2026; benchmarks/measures/RESULTS.md).
#: Re-referrals: median rate at shift 0, and change of its logit per unit of shift.
REREF_AT_BASE, REREF_SENSITIVITY = 0.244, 0.91
#: logit(3+ placements) and logit(long-term stability) = a + b log(move rate) + c log(settled
#: multiplier): both rates depend on both parameters, so the pair is solved together.
#: (Stability's intercept fitted 0.827, less 0.10: the first run with the levers measured
#: stability 0.022 below its levels on average.)
PLACEMENTS_FIT = (-1.948, 0.892, 0.433)
STABILITY_FIT = (0.727, -0.605, -0.793)
#: logit(3+ social workers) = a + b logit(P(2 or more changes in a year)).
SW_FIT = (-0.543, 0.815)
#: Share of children missing in the year = a * multiplier + b.
MISSING_FIT = (0.0883, -0.0118)
#: Attendance measured = mean base - (a + b low share + c high mean) (moves, clipping).
ATTENDANCE_LOSS = (-0.155, -0.0079, 0.1798)
#: logit(persistent absence) = a + b low share + c high mean.
PERSISTENT_FIT = (15.767, 3.931, -18.018)
#: Second plans the LA's own history shows came to about 5% of plans at the base (a
#: share of 0.16 with an earlier plan elsewhere gave 20.2% second or subsequent plans).
OWN_REPEAT_PLANS = 0.05
#: Shape of the per-child social-worker change rate (``care_records.social_workers``).
SW_SHAPE = 2.0
#: Highest mean of the children who are not low attenders (the rest is clipping at 100%).
MAX_HIGH_MEAN = 0.99


def rereferral_shift(target: float) -> float:
    """Shift of the re-referral model's logit giving re-referrals ``target``."""
    return float((logit(target) - logit(REREF_AT_BASE)) / REREF_SENSITIVITY)


def prior_plan_elsewhere(target: float) -> float:
    """Share of plans with an earlier plan elsewhere that brings the LA's second or
    subsequent plans to ``target``."""
    return float(np.clip((target - OWN_REPEAT_PLANS) / (1 - OWN_REPEAT_PLANS), 0.0, 0.9))


def placement_moves(three_plus: float, stable: float) -> tuple[float, float]:
    """(mean move rate, settled-phase multiplier) giving ``three_plus`` children with 3+
    placements and ``stable`` long-term stability: the two fitted lines solved together
    (on the log scale), each kept within the range they were fitted on (and a little)."""
    a = np.array([PLACEMENTS_FIT[1:], STABILITY_FIT[1:]])
    rhs = np.array([logit(three_plus) - PLACEMENTS_FIT[0], logit(stable) - STABILITY_FIT[0]])
    log_rate, log_mult = np.linalg.solve(a, rhs)
    return float(np.exp(np.clip(log_rate, -1.6, 1.2))), float(np.exp(np.clip(log_mult, -1.5, 1.5)))


def two_or_more(rate: np.ndarray) -> np.ndarray:
    """P(2 or more changes in a year) with per-child rates Gamma(SW_SHAPE, mean rate)."""
    p = SW_SHAPE / (SW_SHAPE + rate)
    return 1 - p ** SW_SHAPE - SW_SHAPE * p ** SW_SHAPE * (1 - p)


_SW_GRID = np.exp(np.linspace(np.log(0.1), np.log(8.0), 400))


def sw_change_rate(target: float) -> float:
    """Social-worker change rate giving ``target`` children with 3+ social workers."""
    wanted = (logit(target) - SW_FIT[0]) / SW_FIT[1]
    return float(np.interp(wanted, logit(two_or_more(_SW_GRID)), _SW_GRID))


def missing_mult(target: float) -> float:
    """Multiplier of the share of children prone to go missing."""
    return float(np.clip((target - MISSING_FIT[1]) / MISSING_FIT[0], 0.1, 2.5))


_LOW_SHARES = np.linspace(0.0, 0.45, 181)


def attendance_mix(attendance: float, persistent: float, low_mean: float) -> tuple[float, float]:
    """(share of low attenders, mean of the others) giving ``attendance`` and
    ``persistent`` pupils below 90%: over a grid of shares, the high mean that gives the
    attendance (``ATTENDANCE_LOSS`` taken off), and the share whose fitted persistent
    absence is nearest the target."""
    q = _LOW_SHARES
    a, b, c = ATTENDANCE_LOSS
    high = (attendance + a + (b - low_mean) * q) / (1 - q - c)
    pa = PERSISTENT_FIT[0] + PERSISTENT_FIT[1] * q + PERSISTENT_FIT[2] * high
    miss = np.where(high <= MAX_HIGH_MEAN, np.abs(pa - logit(persistent)), np.inf)
    best = int(np.argmin(miss))
    return float(q[best]), float(min(high[best], MAX_HIGH_MEAN))


def known_share(in_touch: float) -> float:
    """Share of care leavers in the measures' denominator (all but RHOM and DIED)
    whose activity and accommodation are known (YES or NREQ): see ``returns``."""
    return (in_touch + 0.01) / (in_touch + 0.07)


def among_known(target: float, in_touch: float) -> float:
    """Probability among care leavers whose activity is known giving ``target`` of
    the whole denominator."""
    return float(np.clip(target / known_share(in_touch), 0.02, 0.99))
