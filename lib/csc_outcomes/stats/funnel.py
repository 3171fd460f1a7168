"""Funnel limits for proportions: one method, FunnelPlotR's, everywhere in the kit.

A funnel plot puts each unit's (LA's) rate ``y_i = r_i / n_i`` against its denominator
``n_i``, with control limits around a target ``p0`` that narrow as ``n`` grows
(Spiegelhalter 2005, *Statistics in Medicine* 24:1185-1202). The kit uses the method
FunnelPlotR uses for proportions (Spiegelhalter 2005, section 3.3), so a figure here
means what it means in the NHS and DfE tools analysts already read:

1. **z-scores on the arcsine scale**, where the variance of a proportion no longer
   depends on it::

       Y_i = asin(sqrt(y_i)),  T = asin(sqrt(p0)),  s_i = 1 / (2 sqrt(n_i)),
       z_i = (Y_i - T) / s_i

2. **Overdispersion** from the z-scores winsorised at their 10th and 90th
   percentiles: ``phi = mean(zw_i^2)``. It is estimated only from at least
   ``MIN_UNITS`` (15) units: from a handful of LAs it is noise (three LAs once gave
   ``phi = 19.6`` and called a z of -8.1 "consistent with the average").
3. **Random effects** (DerSimonian and Laird) only when ``phi > 1``; at ``phi <= 1``
   nothing is added (a ``tau2`` above 0 whenever ``phi > (I - 1) / I``, as a plain
   DerSimonian-Laird formula gives, would widen limits the data do not ask to widen)::

       w_i = 4 n_i,  tau2 = max(0, (I phi - (I - 1)) / (sum w - sum w^2 / sum w))

4. **Limits**: with ``tau2 > 0``, ``sin^2(T +/- z_q sqrt(1/(4n) + tau2))``; with
   ``tau2 = 0``, the exact binomial limits (Spiegelhalter 2005, appendix: the binomial
   quantile, interpolated), which are right at small denominators where the normal
   approximation is not (``p0 = 0.873, n = 50``: 99.8% limits 0.6997-0.9822, where the
   normal approximation gives 0.7275-1.0185).
5. **Flags** come from the z-score against ``z_q`` on the arcsine scale when random
   effects are added, or from the exact limits (which reach 1 only when every case is
   counted), never from a normal limit clipped at 0 or 1: an LA at 99.2% of 2,806
   against a target of 87.3% is above the limits.

Ratios (a value that may exceed 1, such as contacts per referral) are not proportions:
:func:`measure_funnel` refuses them with a clear message.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from csc_outcomes.stats.distributions import binom_cdf, binom_ppf, chi2_sf, norm_ppf

__all__ = [
    "MIN_UNITS",
    "FunnelResult",
    "exact_limits",
    "funnel_limits",
    "level_tag",
    "limits_on_grid",
    "measure_funnel",
    "winsorise",
]

#: Fewest units from which overdispersion is estimated (below it: none assumed).
MIN_UNITS = 15
#: The method's name, recorded in every result.
METHOD = "arcsine"


def level_tag(level: float) -> str:
    """Column suffix of a level: 0.95 -> ``"95"``, 0.998 -> ``"998"``, 0.99 -> ``"99"``."""
    return f"{round(level * 100, 6):g}".replace(".", "")


def z_quantile(level: float) -> float:
    """Two-sided normal quantile of a coverage level (0.95 -> 1.959964)."""
    return float(norm_ppf(0.5 + level / 2))


def winsorise(z: np.ndarray, trim: float = 0.1) -> np.ndarray:
    """Winsorise at the ``trim`` and ``1 - trim`` quantiles (linear interpolation)."""
    z = np.asarray(z, dtype=float)
    ok = ~np.isnan(z)
    if not ok.any() or trim <= 0:
        return z.copy()
    lo, hi = np.quantile(z[ok], [trim, 1 - trim])
    return np.clip(z, lo, hi)


def exact_limits(n: Any, target: float, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Exact binomial limits at denominators ``n``, interpolated (Spiegelhalter 2005).

    The limit is ``(k - a) / n`` where ``k`` is the binomial quantile of the tail
    probability and ``a`` interpolates between ``k - 1`` and ``k`` so that the limits
    move smoothly with ``n`` (kept within [0, 1]). Denominators are whole numbers of
    cases, so ``n`` is rounded (a drawing grid passes fractions).
    """
    n = np.round(np.asarray(n, dtype=float))
    out = []
    for q in ((1 - level) / 2, (1 + level) / 2):
        k = binom_ppf(q, n, target)
        cdf_k = binom_cdf(k, n, target)
        cdf_below = binom_cdf(k - 1, n, target)
        with np.errstate(divide="ignore", invalid="ignore"):
            a = np.where(cdf_k > cdf_below, (cdf_k - q) / (cdf_k - cdf_below), 0.0)
            out.append(np.clip((k - a) / n, 0, 1))
    return out[0], out[1]


def arcsine_limits(n: Any, target: float, level: float, tau2: float) -> tuple[np.ndarray, np.ndarray]:
    """Random-effects limits on the arcsine scale, the angle kept within [0, pi/2]."""
    n = np.asarray(n, dtype=float)
    t = np.arcsin(np.sqrt(target))
    with np.errstate(divide="ignore", invalid="ignore"):
        half = z_quantile(level) * np.sqrt(1 / (4 * n) + tau2)
    return (np.sin(np.clip(t - half, 0, np.pi / 2)) ** 2,
            np.sin(np.clip(t + half, 0, np.pi / 2)) ** 2)


def limits_at(n: Any, target: float, level: float, tau2: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper limits at denominators ``n``: exact when ``tau2`` is 0."""
    if tau2 > 0:
        return arcsine_limits(n, target, level, tau2)
    return exact_limits(n, target, level)


def limits_on_grid(target: float, denominators: Any, *, tau2: float = 0.0,
                   levels: Sequence[float] = (0.95, 0.998), size: int = 200) -> pd.DataFrame:
    """Limits along a grid of denominators spanning ``denominators`` (for drawing).

    The grid runs from a little below the smallest denominator to a little beyond the
    largest, evenly on a square-root scale so the funnel's curved end is smooth.
    Columns: ``denominator``, ``target``, and ``lower_<tag>``/``upper_<tag>`` per level.
    """
    d = np.asarray(pd.to_numeric(pd.Series(denominators), errors="coerce"), dtype=float)
    d = d[np.isfinite(d) & (d > 0)]
    top = float(d.max()) * 1.05 if d.size else 100.0
    bottom = min(max(1.0, float(d.min()) * 0.5) if d.size else 1.0, top / 2)
    grid = np.linspace(np.sqrt(bottom), np.sqrt(top), size) ** 2
    out = pd.DataFrame({"denominator": grid, "target": target})
    for level in levels:
        lo, hi = limits_at(grid, target, level, tau2)
        out[f"lower_{level_tag(level)}"], out[f"upper_{level_tag(level)}"] = lo, hi
    return out


class FunnelResult(pd.DataFrame):
    """Per-unit funnel results (a DataFrame) carrying the grid and the estimates.

    Attributes: ``grid`` (limits along a denominator grid; None: worked out when drawn,
    ``plots.funnel_plot``), ``target``, ``phi``
    (``nan`` when there were too few units to estimate it), ``tau2``, ``method``,
    ``levels``, ``n_units``, ``od_p_value`` (chi-squared test of ``I * phi`` on ``I - 1``
    degrees of freedom) and ``note`` (a sentence on how the limits were set).
    """

    _metadata: ClassVar[list[str]] = ["grid", "target", "phi", "tau2", "method", "levels",
                                      "n_units", "od_p_value", "note"]
    grid: pd.DataFrame | None
    target: float
    phi: float
    tau2: float
    method: str
    levels: tuple[float, ...]
    n_units: int
    od_p_value: float
    note: str

    @property
    def _constructor(self) -> type[FunnelResult]:
        return FunnelResult


@dataclass(frozen=True)
class Units:
    """Numerators ``r``, denominators ``n``, proportions ``y`` (floats; ``valid`` where
    the denominator is positive), the units' names and the index to keep."""

    r: np.ndarray
    n: np.ndarray
    y: np.ndarray
    valid: np.ndarray
    names: Any
    index: pd.Index | None


@dataclass(frozen=True)
class Dispersion:
    """How far the units spread beyond chance: ``phi``, its p-value, ``tau2``, a note."""

    phi: float
    od_p: float
    tau2: float
    note: str


def as_units(numerator: Any, denominator: Any, units: Any = None) -> Units:
    """Numerators and denominators as floats, checked: equal lengths, each numerator
    between 0 and its denominator (a ratio above 1 is not a proportion)."""
    num_s = numerator if isinstance(numerator, pd.Series) else pd.Series(numerator)
    den_s = denominator if isinstance(denominator, pd.Series) else pd.Series(denominator)
    if len(num_s) != len(den_s):
        raise ValueError("numerator and denominator differ in length")
    if units is None:
        units = num_s.index if isinstance(numerator, pd.Series) else np.arange(len(num_s))
    r = pd.to_numeric(num_s, errors="coerce").to_numpy(dtype=float)
    n = pd.to_numeric(den_s, errors="coerce").to_numpy(dtype=float)
    valid = np.isfinite(r) & np.isfinite(n) & (n > 0)
    if np.any(valid & ((r < 0) | (r > n))):
        raise ValueError("funnel limits are for proportions: every numerator must lie "
                         "between 0 and its denominator")
    with np.errstate(divide="ignore", invalid="ignore"):
        y = np.where(valid, r / n, np.nan)
    return Units(r, n, y, valid, units, num_s.index if isinstance(numerator, pd.Series) else None)


def pooled_target(u: Units, target: float | None) -> float:
    """The centre line: as given, or the pooled proportion; strictly inside (0, 1)."""
    if target is None:
        target = float(u.r[u.valid].sum() / u.n[u.valid].sum()) if u.valid.any() else float("nan")
    if not 0 < float(target) < 1:
        raise ValueError(f"the funnel's target must lie strictly between 0 and 1, not {target} "
                         "(every unit at 0% or at 100% leaves nothing to compare)")
    return float(target)


def arcsine_z(u: Units, target: float) -> np.ndarray:
    """Unadjusted z-scores on the arcsine scale (missing for units without a denominator)."""
    t = np.arcsin(np.sqrt(target))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(u.valid, (np.arcsin(np.sqrt(u.y)) - t) * 2 * np.sqrt(u.n), np.nan)


def dispersion(u: Units, zw: np.ndarray, min_units: int = MIN_UNITS) -> Dispersion:
    """``phi`` from the winsorised z-scores and the DerSimonian-Laird ``tau2`` (if ``phi > 1``)."""
    k = int(u.valid.sum())
    if k < min_units:
        return Dispersion(float("nan"), float("nan"), 0.0,
                          f"Limits assume no overdispersion: {k} units are too few to "
                          f"estimate it (at least {min_units} are needed).")
    phi = float(np.nanmean(zw**2))
    od_p = float(chi2_sf(k * phi, k - 1))
    if phi <= 1:
        return Dispersion(phi, od_p, 0.0, f"No overdispersion (phi = {phi:.2f}): exact binomial limits.")
    w = 4 * u.n[u.valid]
    tau2 = max(0.0, (k * phi - (k - 1)) / (w.sum() - (w**2).sum() / w.sum()))
    return Dispersion(phi, od_p, tau2, f"Limits widened for overdispersion (phi = {phi:.2f}, "
                                       f"tau^2 = {tau2:.4g}, random effects on the arcsine scale).")


def adjusted_z(u: Units, target: float, tau2: float) -> np.ndarray:
    """z-scores against the limits actually drawn (random effects added when ``tau2 > 0``)."""
    t = np.arcsin(np.sqrt(target))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(u.valid, (np.arcsin(np.sqrt(u.y)) - t) / np.sqrt(1 / (4 * u.n) + tau2), np.nan)


def limit_flags(u: Units, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """``above``/``below``/``inside`` against exact limits (which reach 1 only at ``k = n``,
    so reaching a limit of 1 is never "above")."""
    flag = np.where(u.y > hi, "above", np.where(u.y < lo, "below", "inside")).astype(object)
    flag[~u.valid] = None
    return flag


def z_flags(z: np.ndarray, valid: np.ndarray, level: float) -> np.ndarray:
    """``above``/``below``/``inside`` from a z-score against ``z_q``."""
    zq = z_quantile(level)
    flag = np.where(z > zq, "above", np.where(z < -zq, "below", "inside")).astype(object)
    flag[~valid] = None
    return flag


def add_level(out: pd.DataFrame, u: Units, target: float, level: float, d: Dispersion,
              z_adj: np.ndarray) -> None:
    """``lower_<tag>``, ``upper_<tag>`` and ``flag_<tag>`` for one level."""
    tag = level_tag(level)
    lo, hi = limits_at(np.where(u.valid, u.n, np.nan), target, level, d.tau2)
    out[f"lower_{tag}"] = np.where(u.valid, lo, np.nan)
    out[f"upper_{tag}"] = np.where(u.valid, hi, np.nan)
    flags = z_flags(z_adj, u.valid, level) if d.tau2 > 0 else limit_flags(u, lo, hi)
    out[f"flag_{tag}"] = pd.Series(flags, index=out.index, dtype=object)


def funnel_limits(numerator: Any, denominator: Any, *, target: float | None = None,
                  levels: Sequence[float] = (0.95, 0.998), units: Any = None,
                  trim: float = 0.1, min_units: int = MIN_UNITS,
                  grid_size: int = 200) -> FunnelResult:
    """Funnel limits, z-scores and flags for proportions ``numerator / denominator``.

    ``target`` defaults to the pooled proportion. Units without a positive denominator
    are kept, with missing z-scores, limits and flags, and take no part in the
    estimates. Returns a :class:`FunnelResult` with columns ``unit, numerator,
    denominator, value, target, z, z_winsorised, z_adjusted, tau2, method`` and, per
    level tag ``t`` (``95``, ``998``), ``lower_t, upper_t, flag_t``.
    """
    u = as_units(numerator, denominator, units)
    target = pooled_target(u, target)
    z = arcsine_z(u, target)
    zw = np.where(u.valid, winsorise(np.where(u.valid, z, np.nan), trim), np.nan)
    d = dispersion(u, zw, min_units)
    z_adj = adjusted_z(u, target, d.tau2)
    out = pd.DataFrame({"unit": np.asarray(u.names), "numerator": u.r, "denominator": u.n,
                        "value": u.y, "target": target, "z": z, "z_winsorised": zw,
                        "z_adjusted": z_adj, "tau2": d.tau2, "method": METHOD}, index=u.index)
    for level in levels:
        add_level(out, u, target, level, d, z_adj)
    result = FunnelResult(out)
    result.grid = limits_on_grid(target, u.n[u.valid], tau2=d.tau2, levels=levels, size=grid_size)
    result.target, result.phi, result.tau2, result.method = target, d.phi, d.tau2, METHOD
    result.levels, result.n_units, result.od_p_value = tuple(levels), int(u.valid.sum()), d.od_p
    result.note = d.note
    return result


def measure_funnel(measures_df: pd.DataFrame, measure_id: str, period_end: Any, *,
                   kind: str = "rate", target: float | None = None,
                   levels: Sequence[float] = (0.95, 0.998)) -> FunnelResult:
    """Funnel limits across LAs for one rate measure of the tidy measures table.

    Rows of ``measure_id`` at ``period_end`` with a positive denominator; the units are
    the ``la_code`` values. ``kind`` is the measure's kind in the catalogue: a count or
    a ratio has no funnel (``ValueError`` says why).
    """
    if kind != "rate":
        raise ValueError(f"{measure_id} is a {kind}, not a proportion: a funnel plot compares "
                         "rates, so none is drawn for it")
    df = measures_df[(measures_df["measure_id"] == measure_id)
                     & (pd.to_datetime(measures_df["period_end"]) == pd.Timestamp(period_end))]
    den = pd.to_numeric(df["denominator"], errors="coerce")
    df = df[den > 0]
    return funnel_limits(pd.to_numeric(df["numerator"], errors="coerce").to_numpy(),
                         den[den > 0].to_numpy(), target=target, levels=levels,
                         units=df["la_code"].astype(str).to_numpy())
