"""How synthetic LAs differ from each other: each LA's own level of every rate DfE
publishes per LA, drawn so that synthetic LAs spread as the published ones do.

Real LAs differ far more than sampling noise explains (re-referral rates from 15% to
26% between the 10th and 90th percentiles), and funnels, quartile bands and the models'
LA effects are only as realistic as that spread. Each rate has a ``Spread`` fitted to
DfE's LA-level figures (``fit_spread``, then ``refine``): on the logit scale, a centre,
a slope on the LA's size and a standard deviation below and above the centre (a split
normal: several rates are skewed), with the binomial noise of the published
denominators taken out, because the generator adds its own. ``refine`` sets them so
that LAs drawn from the spread, once counted, have the published p10 / p50 / p90 AND
England's published figure, which DfE computes over children (numerators over
denominators), so it differs from the median LA where big LAs differ (SDQ recorded:
median LA 0.853, England 0.782): the slope on size is what carries that.

A set of LAs is drawn together, stratified (``stratified_set``): the sizes, and each
rate's levels, are the ``n`` quantiles ``(k + 0.5) / n`` of their distributions, shared
out at random through the ranks of plain draws (Iman-Conover), so an LA's levels still
go with its size and correlated rates with each other. Why: drawn independently, the
10th percentile of 60 LAs rests on about 6 draws, and its sampling error (0.02-0.05
on the long-tailed rates) is the issue's whole tolerance; stratified, only the counts'
own noise is left. The price: an LA's size and levels depend on how many LAs are
generated with it (its other draws do not).

``SPREADS`` is stored, not read at generation time: the published files are read by a
later step of the flow (``published/``), which synth may not import. The numbers come
from ``benchmarks/measures/calibrate_synth.py`` (published LA figures, latest year of
each measure); ``tests/synth/test_spread.py`` refits them from the published files and
fails when they drift.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

#: z of the 10th / 90th percentile of a standard normal.
Z90 = 1.2815515655446004
#: Quantile definition of LA figures, published and synthetic alike (``np.quantile``'s
#: ``method``): Hazen's, value ``k`` of ``n`` sorted at ``(k + 0.5) / n``, the one under
#: which LAs stratified at those quantiles (``stratified_set``) have their distribution's
#: p10 / p50 / p90. numpy's default (``(n - 1) p``) puts 60 such LAs' p10 at their
#: distribution's 10.7th percentile (SDQ recorded: about 0.01 high).
QUANTILE_METHOD = "hazen"
#: Values are clipped to [EDGE, 1 - EDGE] before the logit (some LAs publish 0%).
EDGE = 0.005
_normal = NormalDist()


@dataclass(frozen=True)
class Spread:
    """One rate's between-LA distribution on the logit scale (noise removed)."""

    centre: float   # logit of the level of an LA of median size
    slope: float    # change of that logit per unit of log(size / median size)
    sd_low: float   # SD below the centre
    sd_high: float  # SD above the centre


def logit(p: np.ndarray | float) -> np.ndarray:
    """The log-odds of ``p``, clipped away from 0 and 1."""
    q = np.clip(np.asarray(p, dtype=float), EDGE, 1 - EDGE)
    return np.log(q / (1 - q))


def expit(x: np.ndarray | float) -> np.ndarray:
    """The logistic function."""
    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=float)))


def fit_spread(values: np.ndarray, denominators: np.ndarray, log_size: np.ndarray) -> Spread:
    """Fit a ``Spread`` to published LA values.

    ``log_size`` is each LA's log size relative to the median LA (log of child
    population over the median). The slope is the least-squares slope of the logit on
    it; the centre and the two SDs are the median and the 10th / 90th percentiles of the
    residuals. The binomial variance of a median-sized denominator (on the logit scale,
    ``1 / (n p (1 - p))``) is taken from each side's variance, as the generator's own
    counts add it back; a side never shrinks below a fifth of what was observed.
    """
    y = logit(values)
    x = np.asarray(log_size, dtype=float) - np.median(log_size)
    slope = float(np.cov(x, y)[0, 1] / np.var(x, ddof=1))
    resid = y - slope * x
    q10, q50, q90 = np.quantile(resid, [0.1, 0.5, 0.9])
    p = np.clip(np.asarray(values, dtype=float), EDGE, 1 - EDGE)
    noise = float(np.median(1.0 / (np.asarray(denominators, dtype=float) * p * (1 - p))))

    def side(width: float) -> float:
        observed = (width / Z90) ** 2
        return float(np.sqrt(max(observed - noise, observed / 25)))

    return Spread(centre=float(q50), slope=slope, sd_low=side(q50 - q10), sd_high=side(q90 - q50))


#: LAs simulated by ``refine`` and ``marginal_quantiles`` (a fixed grid of sizes and
#: draws, so both are deterministic).
REFINE_LAS = 4000
#: Noise the generator's mechanisms add to a rate beyond its counts' binomial noise (SD,
#: as a proportion): an LA's re-referral rate also follows its NFA share and referral
#: mix (measured - level over 60 generated LAs: SD 0.020, of which 0.007 is the counts').
MECHANISM_SD: dict[str, float] = {"rereferrals_within_12m": 0.019}


def logit_levels(s: Spread, z: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Logit levels of LAs ``z`` standard deviations (each side its own) from the centre,
    of log size ``x`` relative to the median LA."""
    z = np.asarray(z, dtype=float)
    return s.centre + s.slope * np.asarray(x, dtype=float) + np.where(z < 0, s.sd_low, s.sd_high) * z


@functools.cache
def size_grid(size_sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """(log size relative to the median LA, standard normal draw) of ``REFINE_LAS`` LAs:
    both evenly spread quantiles, paired at random (fixed). Read-only (cached)."""
    grid = np.array([_normal.inv_cdf((k + 0.5) / REFINE_LAS) for k in range(REFINE_LAS)])
    x = size_sigma * np.random.default_rng(0).permutation(grid)
    x.flags.writeable = grid.flags.writeable = False
    return x, grid


def england(s: Spread, size_sigma: float) -> float:
    """England's figure of LAs drawn from ``s``: their levels weighted by their size (as
    DfE weights LAs, by their denominators, which grow with size)."""
    x, z = size_grid(size_sigma)
    return float(np.average(expit(logit_levels(s, z, x)), weights=np.exp(x)))


def refine(first: Spread, targets: np.ndarray, denominator: float, size_sigma: float,
           england_target: float | None = None, extra_sd: float = 0.0, rounds: int = 40) -> Spread:
    """``first`` adjusted until LAs drawn from it have the published p10 / p50 / p90
    ``targets`` once counted, and England's figure ``england_target``.

    ``REFINE_LAS`` LAs on a grid of sizes (log-normal, ``size_sigma``) and draws, each
    rate counted out of ``denominator`` (the published median) times its size, with
    normal sampling noise (plus ``extra_sd``, the mechanisms' own). Each round moves the
    centre by the median's miss, scales each side by the ratio of the target's width to
    the simulated one (all on the logit scale), and moves the size slope by a Newton
    step on England's miss: the median LA and England differ through skew and through
    levels that go with size, and the slope is what sets the second (the fitted slope
    on child population left England's figures up to 0.016 off: long-term stability
    0.670 against 0.685, re-referrals 0.216 against 0.226). The analytic fit misses by up to
    0.03 in the tails (noise that varies with size, skew); this closes it.
    """
    x, grid = size_grid(size_sigma)
    noise = np.random.default_rng(1).standard_normal(REFINE_LAS)
    den = denominator * np.exp(x)
    t10, t50, t90 = logit(targets)
    s = first
    for _ in range(rounds):
        lv = expit(logit_levels(s, grid, x))
        sd = np.sqrt(lv * (1 - lv) / den + extra_sd**2)
        q10, q50, q90 = np.quantile(logit(lv + sd * noise), [0.1, 0.5, 0.9])
        s = Spread(centre=s.centre + t50 - q50, slope=s.slope,
                   sd_low=s.sd_low * (t50 - t10) / max(q50 - q10, 1e-6),
                   sd_high=s.sd_high * (t90 - t50) / max(q90 - q50, 1e-6))
        if england_target is not None:
            now = logit(england(s, size_sigma))
            step = logit(england(Spread(s.centre, s.slope + 0.01, s.sd_low, s.sd_high), size_sigma)) - now
            if abs(step) > 1e-12:   # levels all at an edge: the slope cannot move England
                s = Spread(s.centre, s.slope + 0.01 * (logit(england_target) - now) / step, s.sd_low, s.sd_high)
    return s


def marginal_quantiles(s: Spread, size_sigma: float, u: np.ndarray) -> np.ndarray:
    """Logit levels at quantiles ``u`` of the levels of all LAs (sizes included)."""
    x, z = size_grid(size_sigma)
    return np.quantile(logit_levels(s, z, x), u)


@functools.cache
def stratified_set(seed: int, n_las: int, size_sigma: float) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """(log size relative to the median LA, {rate: level}) of a set of ``n_las`` LAs.

    Stratified (a Latin hypercube): the sizes are the ``n_las`` quantiles
    ``(k + 0.5) / n_las`` of their log-normal, and each rate's levels the same quantiles
    of its distribution over all LAs (``marginal_quantiles``), so that 60 LAs' 10th
    percentile is where it should be, not at the mercy of 6 draws. Which LA gets which
    is random, through ranks (Iman-Conover): sizes by a permutation; each rate's
    levels in the order of a plain draw (``logit_levels`` of standard normals and the
    LA's size), so an LA's levels still go with its size by the slope, and the rates in
    ``CORRELATED`` with their partners. Arrays are read-only (cached).
    """
    rng = np.random.default_rng(np.random.SeedSequence([seed, n_las, 97]))
    u = (np.arange(n_las) + 0.5) / n_las
    x = size_sigma * np.array([_normal.inv_cdf(q) for q in rng.permutation(u)])
    z = dict(zip(SPREADS, rng.standard_normal((len(SPREADS), n_las)), strict=True))
    for mid, (partner, rho) in CORRELATED.items():
        z[mid] = rho * z[partner] + np.sqrt(1 - rho**2) * z[mid]
    levels = {}
    for mid, s in SPREADS.items():
        rank = np.argsort(np.argsort(logit_levels(s, z[mid], x)))
        levels[mid] = expit(marginal_quantiles(s, size_sigma, u)[rank])
        levels[mid].flags.writeable = False
    x.flags.writeable = False
    return x, levels


def rank_correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman's correlation of two rates across LAs (their ranks' correlation)."""
    ra, rb = (np.argsort(np.argsort(v)).astype(float) for v in (a, b))
    return float(np.corrcoef(ra, rb)[0, 1])


# Written by benchmarks/measures/calibrate_synth.py from published/ (DfE, OGL v3.0):
# LA figures of the latest year of each rate (2025; 2024 for social workers and missing),
# size = child population 2025; fitted (fit_spread), then refined (refine) with
# config.SIZE_SIGMA to the published p10 / p50 / p90 and England figure.
# Spread(centre, slope, sd_low, sd_high) on the logit scale.
SPREADS: dict[str, Spread] = {
    "rereferrals_within_12m": Spread(-1.4313, 0.3868, 0.0116, 0.1255),
    "referrals_nfa": Spread(-3.0441, 0.2239, 1.7383, 0.9680),
    "cpp_second_or_subsequent": Spread(-1.1157, 0.0917, 0.3820, 0.2193),
    "cla_3plus_placements": Spread(-2.1389, -0.0052, 0.2866, 0.2026),
    "cla_long_term_stability": Spread(0.7711, 0.0907, 0.2532, 0.2265),
    "cla_3plus_social_workers": Spread(-1.0326, 0.0699, 0.5503, 0.4111),
    "cla_missing": Spread(-2.0651, -0.0500, 0.2910, 0.2533),
    "oc2_health_check": Spread(2.4706, -0.4924, 0.5980, 0.9922),
    "oc2_teeth_check": Spread(1.5723, 0.0154, 0.7292, 0.8512),
    "oc2_immunisations": Spread(1.7483, 0.1016, 0.7515, 1.1256),
    "oc2_sdq_recorded": Spread(1.6978, -0.5721, 1.0418, 1.7457),
    "care_leavers_eet_19_21": Spread(0.1568, -0.1024, 0.2121, 0.3340),
    "care_leavers_suitable_accom_19_21": Spread(2.3281, -0.3686, 0.5144, 0.4020),
    "cla_attendance_rate": Spread(2.3340, 0.1500, 0.2918, 0.1773),
    "cla_persistent_absence": Spread(-1.3387, -0.1029, 0.1931, 0.1904),
}
#: Rates whose LA levels go together in the published figures (the same script, rank
#: correlation across LAs; only pairs beyond +-0.45): rate -> (partner, correlation).
CORRELATED: dict[str, tuple[str, float]] = {
    "cla_persistent_absence": ("cla_attendance_rate", -0.83),
    "care_leavers_suitable_accom_19_21": ("care_leavers_eet_19_21", 0.48),
}
