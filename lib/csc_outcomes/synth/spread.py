"""How synthetic LAs differ from each other: each LA's own level of every rate DfE
publishes per LA, drawn so that synthetic LAs spread as the published ones do.

Real LAs differ far more than sampling noise explains (re-referral rates from 15% to
26% between the 10th and 90th percentiles), and funnels, quartile bands and the models'
LA effects are only as realistic as that spread. Each rate has a ``Spread`` fitted to
DfE's LA-level figures (``fit_spread``): on the logit scale, a centre, a slope on the
LA's size (some rates rise with size, so England's average differs from the median LA)
and a standard deviation below and above the centre (a split normal: several rates are
skewed), with the binomial noise of the published denominators taken out, because the
generator adds its own. ``draw_levels`` draws one LA's levels; the generator's
mechanisms take them as their targets (``config.draw_profile``).

``SPREADS`` is stored, not read at generation time: the published files are read by a
later step of the flow (``published/``), which synth may not import. The numbers come
from ``benchmarks/measures/calibrate_synth.py`` (published LA figures, latest year of
each measure); ``tests/synth/test_spread.py`` refits them from the published files and
fails when they drift.
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

#: z of the 10th / 90th percentile of a standard normal.
Z90 = 1.2815515655446004
#: Values are clipped to [EDGE, 1 - EDGE] before the logit (some LAs publish 0%).
EDGE = 0.005
#: LAs per stratified block (``stratified_normals``).
BLOCK = 20
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


#: LAs simulated by ``refine`` (a fixed grid of sizes and draws, so it is deterministic).
REFINE_LAS = 4000


def refine(first: Spread, targets: np.ndarray, denominator: float, size_sigma: float,
           rounds: int = 10) -> Spread:
    """``first`` adjusted until LAs drawn from it have the published p10 / p50 / p90
    ``targets`` once counted: ``REFINE_LAS`` LAs on a grid of sizes (log-normal,
    ``size_sigma``) and draws, each rate counted out of ``denominator`` (the published
    median) times its size, with normal sampling noise. Each round moves the centre by
    the median's miss and scales each side by the ratio of the target's width to the
    simulated one (all on the logit scale). The analytic fit misses by up to 0.03 in the
    tails (noise that varies with size, skew); this closes it.
    """
    grid = np.array([_normal.inv_cdf((k + 0.5) / REFINE_LAS) for k in range(REFINE_LAS)])
    rng = np.random.default_rng(0)
    x = size_sigma * rng.permutation(grid)
    noise = rng.standard_normal(REFINE_LAS)
    den = denominator * np.exp(x)
    t10, t50, t90 = logit(targets)
    s = first
    for _ in range(rounds):
        lv = expit(s.centre + s.slope * x + np.where(grid < 0, s.sd_low, s.sd_high) * grid)
        q10, q50, q90 = np.quantile(logit(lv + np.sqrt(lv * (1 - lv) / den) * noise), [0.1, 0.5, 0.9])
        s = Spread(centre=s.centre + t50 - q50, slope=s.slope,
                   sd_low=s.sd_low * (t50 - t10) / max(q50 - q10, 1e-6),
                   sd_high=s.sd_high * (t90 - t50) / max(q90 - q50, 1e-6))
    return s


def level(spread: Spread, z: float, log_size: float) -> float:
    """The level (a proportion) of an LA ``z`` standard deviations from the centre."""
    sd = spread.sd_low if z < 0 else spread.sd_high
    return float(expit(spread.centre + spread.slope * log_size + z * sd))


def stratified_normals(seed: int, index: int, k: int) -> np.ndarray:
    """``k`` standard normals for LA ``index``, stratified across LAs.

    LAs come in blocks of ``BLOCK`` (by index); within a block each of the ``k``
    dimensions is cut into ``BLOCK`` equally likely strata, and each LA takes one stratum
    of each (a random permutation per block and dimension: a Latin hypercube), at a
    random point in it. So any few blocks of LAs cover each distribution evenly (60 LAs'
    10th percentile is not at the mercy of 6 draws), while an LA's draws still depend
    only on the seed and its index, never on how many LAs are generated.
    """
    block, j = divmod(index, BLOCK)
    perms = np.argsort(np.random.default_rng(np.random.SeedSequence([seed, block, 97, 0])).random((k, BLOCK)),
                       axis=1)
    u = np.random.default_rng(np.random.SeedSequence([seed, index, 97, 1])).random(k)
    return np.array([_normal.inv_cdf(x) for x in (perms[:, j] + u) / BLOCK])


def draw_levels(z: np.ndarray, log_size: float) -> dict[str, float]:
    """One LA's level of every rate in ``SPREADS``, from one standard normal each (in
    ``SPREADS`` order); a rate in ``CORRELATED`` leans on its partner's draw."""
    by_rate = dict(zip(SPREADS, z, strict=True))
    for mid, (partner, rho) in CORRELATED.items():
        by_rate[mid] = rho * by_rate[partner] + np.sqrt(1 - rho**2) * by_rate[mid]
    return {m: level(s, float(by_rate[m]), log_size) for m, s in SPREADS.items()}


def rank_correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman's correlation of two rates across LAs (their ranks' correlation)."""
    ra, rb = (np.argsort(np.argsort(v)).astype(float) for v in (a, b))
    return float(np.corrcoef(ra, rb)[0, 1])


# Written by benchmarks/measures/calibrate_synth.py from published/ (DfE, OGL v3.0):
# LA figures of the latest year of each rate (2025; 2024 for social workers and missing),
# size = child population 2025; fitted (fit_spread), then refined (refine) with
# config.SIZE_SIGMA. Spread(centre, slope, sd_low, sd_high) on the logit scale.
SPREADS: dict[str, Spread] = {
    "rereferrals_within_12m": Spread(-1.3852, 0.2267, 0.2309, 0.2270),
    "referrals_nfa": Spread(-3.0221, -0.2080, 1.7693, 0.9635),
    "cpp_second_or_subsequent": Spread(-1.1160, 0.0709, 0.3973, 0.2116),
    "cla_3plus_placements": Spread(-2.1433, 0.0525, 0.2968, 0.2038),
    "cla_long_term_stability": Spread(0.8174, -0.0989, 0.3060, 0.1491),
    "cla_3plus_social_workers": Spread(-1.0239, 0.1935, 0.5651, 0.3781),
    "cla_missing": Spread(-2.0575, -0.0218, 0.3141, 0.2480),
    "oc2_health_check": Spread(2.4699, -0.4432, 0.5889, 1.0361),
    "oc2_teeth_check": Spread(1.5868, -0.2336, 0.7325, 0.8190),
    "oc2_immunisations": Spread(1.7494, -0.0776, 0.7464, 1.0950),
    "oc2_sdq_recorded": Spread(1.7121, -0.3684, 1.1029, 1.7634),
    "care_leavers_eet_19_21": Spread(0.1626, -0.1073, 0.2256, 0.3248),
    "care_leavers_suitable_accom_19_21": Spread(2.3042, -0.1778, 0.5327, 0.4748),
    "cla_attendance_rate": Spread(2.3313, 0.0745, 0.2963, 0.1855),
    "cla_persistent_absence": Spread(-1.3531, -0.0356, 0.1954, 0.2118),
}
#: Rates whose LA levels go together in the published figures (the same script, rank
#: correlation across LAs; only pairs beyond +-0.45): rate -> (partner, correlation).
CORRELATED: dict[str, tuple[str, float]] = {
    "cla_persistent_absence": ("cla_attendance_rate", -0.83),
    "care_leavers_suitable_accom_19_21": ("care_leavers_eet_19_21", 0.48),
}
