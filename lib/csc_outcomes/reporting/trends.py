"""A trend for every measure: the published years beside the LA's own series.

DfE publishes up to 13 years of each measure; an LA's own returns give it a series of
period ends (monthly when the measures table holds them). A trend sets, per measure:
the LA's own released figures (a suppressed one is a gap, never a number), the LA's
published figures (or, for a synthetic LA, those of the real LA it stands in for),
England's and the median of its ten statistical neighbours. Counts are per 10,000
children throughout (:mod:`reporting.rates`), so the lines share one scale.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from csc_outcomes.measures.catalogue import CATALOGUE, LEVELS
from csc_outcomes.reporting import disclosure, rates
from csc_outcomes.reporting.benchmarks import report_year
from csc_outcomes.reporting.published_data import ENGLAND, Published

COLUMNS = ["measure_id", "series", "period_end", "value"]

#: What each series of a trend is. Charts colour a series by its role, never by the
#: order it comes in, so England or the LA's own figures keep one colour in every figure.
OWN, LA_PUBLISHED, NEIGHBOURS, ENGLAND_ROLE, OTHER = (
    "own", "la_published", "neighbours", "england", "other")
ENGLAND_LABEL = "England (published)"
NEIGHBOURS_LABEL = "Statistical neighbours' median (published)"
_OWN_SUFFIX = " (own figures)"
_PUBLISHED_SUFFIX = " (published)"


def series_role(series: str) -> str:
    """The role of a trend series from its label (:data:`OWN`, :data:`LA_PUBLISHED`,
    :data:`NEIGHBOURS`, :data:`ENGLAND_ROLE`, or :data:`OTHER` for a label this module
    did not write), so a chart can give each role the same colour in every figure."""
    if series == ENGLAND_LABEL:
        return ENGLAND_ROLE
    if series == NEIGHBOURS_LABEL:
        return NEIGHBOURS
    if series.endswith(_OWN_SUFFIX):
        return OWN
    if series.endswith(_PUBLISHED_SUFFIX):
        return LA_PUBLISHED
    return OTHER


def own_series(view: Any, measure_id: str, pub: Published, stand_in: str | None,
               r: pd.DataFrame) -> pd.DataFrame:
    """The LA's released figures (``r``: the view's released rows of the LA and measure)
    over its period ends, missing (a gap in the line) where not shown; counts per 10,000
    children, which needs the LA's own population: none for a synthetic LA (the LA it
    stands in for is another size)."""
    values = r["value"].astype(float).where(r["status"] == "shown")
    if rates.is_count(measure_id):
        if stand_in != view.la_code:
            return pd.DataFrame(columns=COLUMNS)
        pops = [pub.population(view.la_code, report_year(p)) for p in r["period_end"]]
        values = pd.Series(rates.per_10k(values.to_numpy(), pops), index=r.index)
    return pd.DataFrame({"measure_id": measure_id, "series": f"{view.name}{_OWN_SUFFIX}",
                         "period_end": r["period_end"], "value": values})


def published_series(pub: Published, measure_id: str, stand_in: str | None) -> pd.DataFrame:
    """The published years for England, the LA (or the LA it stands in for) and the
    median of its statistical neighbours: worked out once a process for each stand-in
    (``Published.once``; shared, so callers copy before changing it)."""
    return pub.once(("published series", measure_id, stand_in),
                    lambda: _published_series(pub, measure_id, stand_in))


def _published_series(pub: Published, measure_id: str, stand_in: str | None) -> pd.DataFrame:
    rows = pub.rated_measure(measure_id).dropna(subset=["value"])
    parts = [(rows[rows["area_code"] == ENGLAND], ENGLAND_LABEL)]
    if stand_in is not None:
        label = f"{pub.area_name(stand_in)}{_PUBLISHED_SUFFIX}"
        near = rows[rows["area_code"].isin(pub.neighbours_of(stand_in))]
        parts += [(rows[rows["area_code"] == stand_in], label),
                  (pd.DataFrame(near.groupby("year", as_index=False)["value"].median()),
                   NEIGHBOURS_LABEL)]
    out = [pd.DataFrame({"measure_id": measure_id, "series": label,
                         "period_end": pd.to_datetime(part["year"].astype(int).astype(str) + "-03-31"),
                         "value": part["value"].astype(float)}) for part, label in parts if len(part)]
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame(columns=COLUMNS)


def trend_frame(view: Any, pub: Published, like: str | None = None,
                measure_ids: list[str] | None = None) -> pd.DataFrame:
    """``measure_id, series, period_end, value`` for each measure (default: every
    catalogue measure the LA or the published files have), released for charts."""
    stand_in = pub.stand_in(view.la_code, like)
    mine = view.released[view.released["la_code"] == view.la_code]
    by_measure = {str(m): rows for m, rows in mine.groupby("measure_id", sort=False)}
    ids = measure_ids or [m for m in CATALOGUE if m in by_measure or pub.latest_year(m) is not None]
    parts = [p for m in ids
             for p in (own_series(view, m, pub, stand_in, by_measure.get(m, mine.iloc[:0])),
                       published_series(pub, m, stand_in)) if len(p)]
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=COLUMNS)
    return disclosure.mark_released(out[COLUMNS], view.threshold)


def by_level(frame: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The trend frame split by level (children at risk of harm, in care, leaving care),
    one chart each: small multiples stay readable at a dozen panels."""
    level = frame["measure_id"].map(lambda m: CATALOGUE[m].level)
    out = {}
    for key, label in LEVELS.items():
        part = frame[level == key]
        if len(part):
            out[label] = disclosure.mark_released(part.copy(), disclosure.require_released(frame, "trends"))
    return out
