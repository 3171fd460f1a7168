"""Funnel limits for proportions, with optional adjustment for overdispersion.

A funnel plot puts each local authority's rate ``y_i = r_i / n_i`` against its
denominator ``n_i`` with control limits around a target ``theta0`` that narrow as
``n`` grows (Spiegelhalter, "Funnel plots for comparing institutional performance",
*Statistics in Medicine* 24 (2005) 1185-1202). Three methods:

``"spiegelhalter"`` (no overdispersion)
    Normal approximation to the binomial::

        z_i = (y_i - theta0) / sqrt(theta0 (1 - theta0) / n_i)
        limits(n) = theta0 +/- z_p sqrt(theta0 (1 - theta0) / n)

    (e.g. ``theta0 = 0.2, n = 100``: 95% limits ``0.2 +/- 1.96 * 0.04 = [0.1216, 0.2784]``;
    ``z_p`` is the two-sided normal quantile, 1.959964 for 95% and 3.090232 for 99.8%).

``"multiplicative"`` (Spiegelhalter 2005, section 3.2)
    The z-scores above are winsorised at their 10th and 90th percentiles (the
    quantiles as numpy/R type 7 compute them; values beyond are set to them), and the
    overdispersion factor is the mean squared winsorised z-score::

        phi_hat = (1 / I) sum_i zw_i^2

    The limits are inflated by ``sqrt(phi)``, where ``phi = max(phi_hat, 1)``:
    underdispersion never narrows the limits, and with no overdispersion the limits are
    those of the plain method. Each unit's adjusted z-score is ``z_i / sqrt(phi)``.

``"additive"`` (random effects; Spiegelhalter 2005, section 3.3; DerSimonian and
Laird 1986; as FunnelPlotR does for proportions)
    On the variance-stabilising arcsine-square-root scale::

        Y_i = asin(sqrt(y_i)),  s_i = 1 / (2 sqrt(n_i)),  T = asin(sqrt(theta0))
        z_i = (Y_i - T) / s_i,  winsorised at 10% / 90% to zw_i,  phi_hat = mean(zw_i^2)
        w_i = 1 / s_i^2 = 4 n_i
        tau^2 = max(0, (I phi_hat - (I - 1)) / (sum w_i - sum w_i^2 / sum w_i))
        limits(n) = sin^2(T +/- z_p sqrt(1 / (4 n) + tau^2))

    with the angle clipped to [0, pi/2]. Each unit's adjusted z-score is
    ``(Y_i - T) / sqrt(s_i^2 + tau^2)``.

``target`` defaults to the pooled proportion ``sum r_i / sum n_i`` (FunnelPlotR's choice
for proportions). Units with a missing or zero denominator are kept in the output
with missing z-scores and flags, and take no part in estimating ``phi``/``tau^2``.

The result is a :class:`FunnelResult`, a DataFrame with one row per unit (its z-scores,
its limits at its own denominator and a flag per level: ``inside``, ``above`` or
``below``) and, as attributes, ``grid`` (limits along a denominator grid, for drawing),
``target``, ``phi``, ``tau2``, ``method`` and ``levels``. The columns ``target``,
``phi``, ``tau2`` and ``method`` repeat those values on every row, so a plain DataFrame
copy keeps everything needed to redraw the grid (:func:`limits_on_grid`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import numpy as np
import pandas as pd
from scipy import stats

__all__ = [
    "FunnelResult",
    "funnel_limits",
    "level_tag",
    "limits_at",
    "limits_on_grid",
    "measure_funnel",
    "winsorise",
]

Method = Literal["spiegelhalter", "multiplicative", "additive"]
METHODS: tuple[str, ...] = ("spiegelhalter", "multiplicative", "additive")


def level_tag(level: float) -> str:
    """Column suffix of a level: 0.95 -> ``"95"``, 0.998 -> ``"998"``, 0.99 -> ``"99"``."""
    pct = round(level * 100, 6)
    text = f"{pct:g}"
    return text.replace(".", "")


def _zq(level: float) -> float:
    """Two-sided normal quantile of a coverage level (0.95 -> 1.959964)."""
    return float(stats.norm.ppf(0.5 + level / 2))


def winsorise(z: np.ndarray, trim: float = 0.1) -> np.ndarray:
    """Winsorise at the ``trim`` and ``1 - trim`` quantiles (linear interpolation)."""
    z = np.asarray(z, dtype=float)
    ok = ~np.isnan(z)
    if not ok.any() or trim <= 0:
        return z.copy()
    lo, hi = np.quantile(z[ok], [trim, 1 - trim])
    return np.clip(z, lo, hi)


def limits_at(
    n: Any,
    target: float,
    level: float,
    *,
    method: Method = "spiegelhalter",
    phi: float = 1.0,
    tau2: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper limits at denominators ``n`` (arrays), clipped to [0, 1]."""
    n = np.asarray(n, dtype=float)
    zq = _zq(level)
    with np.errstate(divide="ignore", invalid="ignore"):
        if method == "additive":
            t = np.arcsin(np.sqrt(target))
            half = zq * np.sqrt(1 / (4 * n) + tau2)
            lo = np.sin(np.clip(t - half, 0, np.pi / 2)) ** 2
            hi = np.sin(np.clip(t + half, 0, np.pi / 2)) ** 2
        else:
            factor = phi if method == "multiplicative" else 1.0
            half = zq * np.sqrt(factor * target * (1 - target) / n)
            lo = np.clip(target - half, 0, 1)
            hi = np.clip(target + half, 0, 1)
    return lo, hi


def limits_on_grid(
    target: float,
    denominators: Any,
    *,
    method: Method = "spiegelhalter",
    phi: float = 1.0,
    tau2: float = 0.0,
    levels: Sequence[float] = (0.95, 0.998),
    size: int = 200,
) -> pd.DataFrame:
    """Limits along a grid of denominators spanning ``denominators`` (for plotting).

    The grid runs from 1 (or a little below the smallest denominator) to a little beyond
    the largest, evenly on a square-root scale so the funnel's curved end is smooth.
    Columns: ``denominator``, ``target``, and ``lower_<tag>``/``upper_<tag>`` per level.
    """
    d = np.asarray(pd.to_numeric(pd.Series(denominators), errors="coerce"), dtype=float)
    d = d[np.isfinite(d) & (d > 0)]
    top = float(d.max()) * 1.05 if d.size else 100.0
    bottom = max(1.0, float(d.min()) * 0.5) if d.size else 1.0
    bottom = min(bottom, top / 2)
    grid = np.linspace(np.sqrt(bottom), np.sqrt(top), size) ** 2
    out = pd.DataFrame({"denominator": grid, "target": target})
    for level in levels:
        lo, hi = limits_at(grid, target, level, method=method, phi=phi, tau2=tau2)
        out[f"lower_{level_tag(level)}"] = lo
        out[f"upper_{level_tag(level)}"] = hi
    return out


class FunnelResult(pd.DataFrame):
    """Per-unit funnel results (a DataFrame) carrying the grid and the estimates.

    Attributes: ``grid`` (DataFrame of limits along a denominator grid), ``target``,
    ``phi``, ``phi_hat``, ``tau2``, ``method``, ``levels``, ``od_p_value`` (chi-squared
    test of ``I * phi_hat`` on ``I - 1`` degrees of freedom: small values signal
    overdispersion).
    """

    #: Attributes pandas carries over to frames derived from this one.
    _metadata: ClassVar[list[str]] = ["grid", "target", "phi", "phi_hat", "tau2", "method",
                                      "levels", "od_p_value"]
    grid: pd.DataFrame
    target: float
    phi: float
    phi_hat: float
    tau2: float
    method: str
    levels: tuple[float, ...]
    od_p_value: float

    @property
    def _constructor(self):
        return FunnelResult


@dataclass(frozen=True)
class _Units:
    """The units' numerators ``r``, denominators ``n`` and proportions ``y`` (floats;
    ``valid`` where the denominator is positive), their names and the index to keep."""

    r: np.ndarray
    n: np.ndarray
    y: np.ndarray
    valid: np.ndarray
    names: Any
    index: pd.Index | None


@dataclass(frozen=True)
class _Dispersion:
    """Overdispersion estimates: ``phi_hat`` (mean squared winsorised z), its
    chi-squared p-value, and the ``phi`` and ``tau2`` the method applies."""

    phi_hat: float
    od_p: float
    phi: float
    tau2: float


def funnel_limits(
    numerator: Any,
    denominator: Any,
    *,
    target: float | None = None,
    method: Method = "spiegelhalter",
    levels: Sequence[float] = (0.95, 0.998),
    units: Any = None,
    trim: float = 0.1,
    grid_size: int = 200,
) -> FunnelResult:
    """Funnel limits, z-scores and flags for proportions ``numerator / denominator``.

    ``numerator``/``denominator``: array-likes of equal length (Series keep their index;
    ``units`` names the units, defaulting to a Series' index). ``target``: the centre
    line, by default the pooled proportion. ``method``: ``"spiegelhalter"``,
    ``"multiplicative"`` or ``"additive"`` (formulas in the module docstring).
    ``levels``: coverage of the limits (two-sided). ``trim``: winsorising fraction at
    each end (0.1 as in Spiegelhalter 2005 and FunnelPlotR).

    Returns a :class:`FunnelResult` with columns ``unit, numerator, denominator, value,
    target, z, z_winsorised, z_adjusted, phi, tau2, method`` and, per level tag ``t``
    (``95``, ``998``), ``lower_t, upper_t, flag_t`` (``inside``/``above``/``below``;
    missing for units without a denominator). ``z`` is the unadjusted z-score on the
    method's scale (binomial for spiegelhalter/multiplicative, arcsine for additive);
    ``z_adjusted`` is the z-score against the (possibly inflated) limits.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, not {method!r}")
    u = _units(numerator, denominator, units)
    target = _target(u, target)
    z = _z_scores(u, target, method)
    zw = np.where(u.valid, winsorise(np.where(u.valid, z, np.nan), trim), np.nan)
    d = _dispersion(u, zw, method)
    out = pd.DataFrame(
        {
            "unit": np.asarray(u.names),
            "numerator": u.r,
            "denominator": u.n,
            "value": u.y,
            "target": target,
            "z": z,
            "z_winsorised": zw,
            "z_adjusted": _adjusted_z(u, z, target, method, d),
            "phi": d.phi,
            "tau2": d.tau2,
            "method": method,
        },
        index=u.index,
    )
    for level in levels:
        _add_limits(out, u, target, level, method, d)
    result = FunnelResult(out)
    result.grid = limits_on_grid(
        target, u.n[u.valid], method=method, phi=d.phi, tau2=d.tau2, levels=levels, size=grid_size
    )
    result.target = target
    result.phi = d.phi
    result.phi_hat = d.phi_hat
    result.tau2 = d.tau2
    result.method = method
    result.levels = tuple(levels)
    result.od_p_value = d.od_p
    return result


def _units(numerator: Any, denominator: Any, units: Any) -> _Units:
    """Numerators and denominators as floats, checked: equal lengths, and each
    numerator between 0 and its (positive) denominator."""
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
        raise ValueError("numerators must lie between 0 and their denominators")
    with np.errstate(divide="ignore", invalid="ignore"):
        y = np.where(valid, r / n, np.nan)
    return _Units(r=r, n=n, y=y, valid=valid, names=units,
                  index=num_s.index if isinstance(numerator, pd.Series) else None)


def _target(u: _Units, target: float | None) -> float:
    """The centre line: as given, or the pooled proportion; strictly inside (0, 1)."""
    if target is None:
        target = float(u.r[u.valid].sum() / u.n[u.valid].sum()) if u.valid.any() else float("nan")
    target = float(target)
    if not 0 < target < 1:
        raise ValueError(f"target must lie strictly between 0 and 1, not {target}")
    return target


def _z_scores(u: _Units, target: float, method: Method) -> np.ndarray:
    """Unadjusted z-scores: arcsine scale for ``additive``, binomial otherwise."""
    with np.errstate(divide="ignore", invalid="ignore"):
        if method == "additive":
            t = np.arcsin(np.sqrt(target))
            s = 1 / (2 * np.sqrt(u.n))
            return np.where(u.valid, (np.arcsin(np.sqrt(u.y)) - t) / s, np.nan)
        return np.where(u.valid, (u.y - target) / np.sqrt(target * (1 - target) / u.n), np.nan)


def _dispersion(u: _Units, zw: np.ndarray, method: Method) -> _Dispersion:
    """``phi_hat`` from the winsorised z-scores; ``phi`` (multiplicative, never below 1)
    or the DerSimonian-Laird ``tau2`` (additive)."""
    k = int(u.valid.sum())
    phi_hat = float(np.nanmean(zw**2)) if k else float("nan")
    od_p = float(stats.chi2.sf(k * phi_hat, k - 1)) if k > 1 else float("nan")
    phi, tau2 = 1.0, 0.0
    if method == "multiplicative" and k:
        phi = max(phi_hat, 1.0)
    elif method == "additive" and k > 1:
        w = 4 * u.n[u.valid]
        denom = w.sum() - (w**2).sum() / w.sum()
        tau2 = max(0.0, (k * phi_hat - (k - 1)) / denom) if denom > 0 else 0.0
    return _Dispersion(phi_hat=phi_hat, od_p=od_p, phi=phi, tau2=tau2)


def _adjusted_z(u: _Units, z: np.ndarray, target: float, method: Method, d: _Dispersion) -> np.ndarray:
    """z-scores against the (possibly inflated) limits."""
    with np.errstate(divide="ignore", invalid="ignore"):
        if method == "additive":
            t = np.arcsin(np.sqrt(target))
            return np.where(
                u.valid, (np.arcsin(np.sqrt(u.y)) - t) / np.sqrt(1 / (4 * u.n) + d.tau2), np.nan
            )
        return z / np.sqrt(d.phi)


def _add_limits(out: pd.DataFrame, u: _Units, target: float, level: float, method: Method,
                d: _Dispersion) -> None:
    """Add ``lower_<tag>``, ``upper_<tag>`` and ``flag_<tag>`` for one level to ``out``."""
    tag = level_tag(level)
    lo, hi = limits_at(np.where(u.valid, u.n, np.nan), target, level,
                       method=method, phi=d.phi, tau2=d.tau2)
    out[f"lower_{tag}"] = np.where(u.valid, lo, np.nan)
    out[f"upper_{tag}"] = np.where(u.valid, hi, np.nan)
    flag = np.where(u.y > hi, "above", np.where(u.y < lo, "below", "inside")).astype(object)
    flag[~u.valid] = None
    out[f"flag_{tag}"] = pd.Series(flag, index=out.index, dtype=object)


def measure_funnel(
    measures_df: pd.DataFrame,
    measure_id: str,
    period_end: Any,
    *,
    method: Method = "additive",
    target: float | None = None,
    levels: Sequence[float] = (0.95, 0.998),
) -> FunnelResult:
    """Funnel limits across LAs for one rate measure of the tidy measures table.

    Rows of ``measure_id`` at ``period_end`` with a positive denominator; the units are
    the ``la_code`` values (so ``funnel_plot(result, highlight=la_code)`` works).
    """
    df = measures_df[
        (measures_df["measure_id"] == measure_id)
        & (pd.to_datetime(measures_df["period_end"]) == pd.Timestamp(period_end))
    ]
    den = pd.to_numeric(df["denominator"], errors="coerce")
    df = df[den > 0]
    return funnel_limits(
        pd.to_numeric(df["numerator"], errors="coerce").to_numpy(),
        pd.to_numeric(df["denominator"], errors="coerce").to_numpy(),
        target=target, method=method, levels=levels, units=df["la_code"].astype(str).to_numpy(),
    )
