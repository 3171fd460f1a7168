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

from .spread import expit, logit

#: Fitted on two synthetic runs at the base and with the parameters varied widely and
#: independently (30 LAs each, year ending 31 March 2026; benchmarks/measures/RESULTS.md).
#: Re-referrals: median rate at shift 0, and change of its logit per unit of shift.
REREF_AT_BASE, REREF_SENSITIVITY = 0.244, 0.91
#: logit(3+ placements) and logit(long-term stability) = a + b log(move rate) + c log(settled
#: multiplier) + d log(multiplier)^2 + e log(rate)^2: fitted on single LAs' histories
#: (size 3.8; seeds 1, 2, 5-8) over move rates 0.25-2.0 and log multipliers -1.2 to 0.5,
#: residuals at their sampling noise (``benchmarks/measures/fit_placement_lever.py``,
#: ``benchmarks/measures/RESULTS.md``). Straight lines left stability 0.02-0.03 high at the
#: ends of that range. Intercepts as fitted (-1.924, 0.750) less 0.078 and 0.022: two sets
#: of 60 LAs drawn as ``generate`` draws them (seeds 1, 7) measured that far below the
#: lines on the logit scale (their other parameters differ from the fitting LAs').
PLACEMENTS_FIT = (-2.002, 0.700, 0.431, 0.125, -0.228)
STABILITY_FIT = (0.728, -0.661, -0.756, 0.129, 0.063)
#: The even settled hazard h (moves a year, ``LAProfile.settled_extra``): stability times
#: exp(-1.966 h) (about two years' exposure, 95% of moves to a new carer, as expected),
#: 3+ placements + 0.152 h; fitted on the same runs with h 0.1-0.3 at the highest multiplier.
EXTRA_STABILITY, EXTRA_THREE_PLUS = 1.966, 0.152
#: Range of the log multiplier and of the log move rate the lever chooses from (the
#: multiplier's fitted range, a little further down where it only lowers moves).
MIN_LOG_MULT, MAX_LOG_MULT = -1.5, 0.5
LOG_RATE_RANGE = (-1.6, 1.2)
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


def placement_fit(log_rate: np.ndarray, log_mult: np.ndarray,
                  extra: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(3+ placements, long-term stability) the fitted model expects of an LA with
    mean move rate ``exp(log_rate)``, settled-phase multiplier ``exp(log_mult)`` and
    even settled hazard ``extra``."""
    def line(fit: tuple[float, ...]) -> np.ndarray:
        a, b, c, d, e = fit
        return np.asarray(expit(a + b * log_rate + c * log_mult + d * log_mult**2 + e * log_rate**2))

    return (line(PLACEMENTS_FIT) + EXTRA_THREE_PLUS * extra,
            line(STABILITY_FIT) * np.exp(-EXTRA_STABILITY * extra))


def _placement_grid() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every (log rate, log multiplier, extra) the lever chooses from: the multiplier
    up to ``MAX_LOG_MULT`` with no even hazard, then the even hazard at that multiplier."""
    extra = np.linspace(0.0, 0.8, 321)     # 0.0025 apart
    below = np.arange(MIN_LOG_MULT, MAX_LOG_MULT, 0.01)
    log_mult = np.r_[below, np.full(len(extra), MAX_LOG_MULT)]
    extra = np.r_[np.zeros(len(below)), extra]
    log_rate = np.arange(LOG_RATE_RANGE[0], LOG_RATE_RANGE[1] + 1e-9, 0.01)
    return (np.repeat(log_rate, len(log_mult)), np.tile(log_mult, len(log_rate)),
            np.tile(extra, len(log_rate)))


_PLACEMENT_GRID = _placement_grid()
_PLACEMENT_PREDICTED = placement_fit(*_PLACEMENT_GRID)


def placement_moves(three_plus: float, stable: float) -> tuple[float, float, float]:
    """(mean move rate, settled-phase multiplier, even settled hazard) giving
    ``three_plus`` children with 3+ placements and ``stable`` long-term stability: the
    point of ``_placement_grid`` whose fitted rates (``placement_fit``) are nearest on
    the logit scale. The multiplier alone cannot take stability below about 0.6
    without too many 3+ placements (it adds moves to the children who already move),
    so it stays within its fitted range and lower stability comes from the even hazard
    (``cla._settled_extra_moves``): from about the median LA's level down."""
    three, stab = _PLACEMENT_PREDICTED
    miss = (logit(three) - logit(three_plus)) ** 2 + (logit(stab) - logit(stable)) ** 2
    best = int(np.argmin(miss))
    log_rate, log_mult, extra = (float(g[best]) for g in _PLACEMENT_GRID)
    return float(np.exp(log_rate)), float(np.exp(log_mult)), extra


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
