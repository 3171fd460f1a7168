"""Funnel plots over all 153 LAs' published figures, with the LA's own figure on them.

A warehouse may hold one LA: a funnel from its own LAs alone is no funnel at all. DfE
publishes each rate for every LA, so the funnel's points are the 153 LAs' published
figures for the latest year, its centre line England's published rate, and its limits
``stats.funnel``'s (FunnelPlotR's method: overdispersion estimated from the 153 LAs).
The LA's own current figure (released: a suppressed one is left off, never placed) is
then drawn on the same limits, highlighted. A real LA's own published point is left
out, so it is not drawn twice.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from csc_outcomes.measures.catalogue import CATALOGUE
from csc_outcomes.reporting import disclosure
from csc_outcomes.reporting.la_register import LA_LEVEL
from csc_outcomes.reporting.published_data import ENGLAND, Published
from csc_outcomes.stats.funnel import (
    Dispersion,
    FunnelResult,
    add_level,
    adjusted_z,
    arcsine_z,
    as_units,
    funnel_limits,
)


def published_points(pub: Published, measure_id: str, year: int,
                     leave_out: str | None) -> pd.DataFrame:
    """``area_code, numerator, denominator`` of every LA with a published figure (no symbol)."""
    rows = pub.measure(measure_id)
    rows = rows[(rows["year"] == year) & (rows["geographic_level"] == LA_LEVEL)
                & (rows["area_code"] != leave_out)]
    rows = rows.dropna(subset=["numerator", "denominator"])
    rows = rows[(rows["denominator"] > 0) & (rows["numerator"] <= rows["denominator"])]
    return rows[["area_code", "numerator", "denominator"]].astype({"numerator": float, "denominator": float})


def own_point(res: FunnelResult, row: pd.Series, la_code: str) -> pd.DataFrame:
    """The LA's own released figure on the funnel's limits, as one row of a result."""
    u = as_units([float(row["numerator"])], [float(row["denominator"])], [la_code])
    z_adj = adjusted_z(u, res.target, res.tau2)
    out = pd.DataFrame({"unit": [la_code], "numerator": u.r, "denominator": u.n, "value": u.y,
                        "target": res.target, "z": arcsine_z(u, res.target), "z_winsorised": np.nan,
                        "z_adjusted": z_adj, "tau2": res.tau2, "method": res.method})
    d = Dispersion(res.phi, res.od_p_value, res.tau2, res.note)
    for level in res.levels:
        add_level(out, u, res.target, level, d, z_adj)
    return out


def with_own(res: FunnelResult, own: pd.DataFrame) -> FunnelResult:
    """``res`` with the own row added; its grid (drawn limits) left for the plot to work
    out over every denominator, the own one included (``plots.funnel_plot``): a report's
    questions ask for two dozen funnels and draw none of them."""
    out = FunnelResult(pd.concat([pd.DataFrame(res), own], ignore_index=True))
    for name in FunnelResult._metadata:  # pandas' own list of the attributes
        setattr(out, name, getattr(res, name))
    out.grid = None
    out.attrs.update(res.attrs)
    return out


def published_funnel(view: Any, measure_id: str, pub: Published) -> FunnelResult | None:
    """Funnel over every LA's published figure for the latest year, England as target,
    with ``view``'s own released figure added; None for a count or ratio, or a measure
    DfE does not publish. ``attrs`` carry the labels the plot and sentence use."""
    found = own_on_published(view, measure_id, pub)
    if found is None:
        return None
    base, own = found
    res = base.copy()
    res.attrs["own_label"] = f"{view.name} (own figure, {view.period:%B %Y})"
    if own is not None:
        res = with_own(res, own)
    return disclosure.mark_released(res, view.threshold)


def own_on_published(view: Any, measure_id: str,
                     pub: Published) -> tuple[FunnelResult, pd.DataFrame | None] | None:
    """The published funnel (:func:`base_funnel`, shared: not to be changed) and
    ``view``'s own released figure on its limits (None when none is shown), not yet put
    together: what :func:`published_funnel` draws, and all a report's questions read of
    it (the own figure's flag) for each of its two dozen measures. None as there."""
    year = pub.latest_year(measure_id)
    if CATALOGUE[measure_id].kind != "rate" or year is None:
        return None
    base = base_funnel(pub, measure_id, year, view.la_code)
    row = view.one(measure_id)
    shown = row is not None and row["status"] == "shown" and row["denominator"] > 0
    return base, (own_point(base, row, view.la_code) if shown else None)


def base_funnel(pub: Published, measure_id: str, year: int, leave_out: str) -> FunnelResult:
    """The funnel over every LA's published figure for ``year`` but ``leave_out``'s (a
    real LA's own point is drawn as its own figure), England's published rate its target.

    The same for every synthetic LA and for each real one's every report, so worked out
    once a process and kept with the figures (``Published.worked_out``; a run's fork
    server works out every measure's before the kernels fork: :func:`warm`): a cohort
    report asks for 26 of them. Shared: callers copy before changing it."""
    published = pub.once(("published funnel's LAs", measure_id, year),
                         lambda: frozenset(published_points(pub, measure_id, year, None)["area_code"]))
    leave = leave_out if leave_out in published else None  # an LA's own point: drawn once
    return pub.once(("published funnel", measure_id, year, leave),
                    lambda: funnel_of(pub, measure_id, year, leave))


def funnel_of(pub: Published, measure_id: str, year: int, leave: str | None) -> FunnelResult:
    """:func:`base_funnel`, worked out: limits around England's published rate (the
    LAs pooled where England's is not published), labelled for the plot and sentence."""
    points = published_points(pub, measure_id, year, leave)
    england = pub.measure(measure_id)
    england = england[(england["year"] == year) & (england["area_code"] == ENGLAND)]
    target = float(england["value"].iloc[0]) if len(england) else None
    res = funnel_limits(points["numerator"], points["denominator"], target=target,
                        units=points["area_code"].to_numpy())
    res.attrs.update({"target_label": f"England average ({year}, published)" if target else
                      f"All LAs pooled ({year}, published)",
                      "points_label": f"Local authorities ({year}, published)",
                      "against": "the England average" if target else "the all-LA average"})
    return res


def warm(pub: Published) -> None:
    """Work out every published rate's funnel (:func:`base_funnel`) in this process."""
    for measure_id, info in CATALOGUE.items():
        year = pub.latest_year(measure_id)
        if info.kind == "rate" and year is not None:
            base_funnel(pub, measure_id, year, "")


def best_funnel(view: Any, measure_id: str, pub: Published) -> FunnelResult | None:
    """The published funnel (all 153 LAs) where DfE publishes the measure, else the
    funnel over the warehouse's own LAs (``ReportView.funnel``), else None."""
    res = published_funnel(view, measure_id, pub)
    return res if res is not None else view.funnel(measure_id)
