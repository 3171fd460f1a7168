"""Counts as rates per 10,000 children, so LAs of different sizes can be compared.

A count (children looked after, referrals, plans started) says little beside England's
or a neighbour's: Birmingham has more of everything than Rutland. DfE publishes these
as rates per 10,000 children aged 0 to 17, using the population its files carry
(``published.tidy.populations``); the kit does the same, for published figures and for
the LA's own count (divided by its own published population, or by that of the real LA
it stands in for when it is synthetic).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from csc_outcomes.measures.catalogue import CATALOGUE
from csc_outcomes.reporting import disclosure

PER = 10_000


def is_count(measure_id: str) -> bool:
    """Whether the measure is a count (shown per 10,000 children beside comparators)."""
    measure = CATALOGUE.get(measure_id)
    return measure is not None and measure.kind == "count"


def per_10k(count: Any, population: Any) -> Any:
    """``count / population * 10,000`` (NaN where the population is missing or 0)."""
    pop = np.asarray(population, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.asarray(count, dtype=float) / np.where(pop > 0, pop, np.nan) * PER
    return float(out) if out.ndim == 0 else out


def with_rates(table: pd.DataFrame, populations: pd.DataFrame) -> pd.DataFrame:
    """The tidy published table with ``value`` per 10,000 children for counts.

    Each count is divided by its area's population of the same year, or of the
    nearest year the files carry (they hold populations for fewer years than counts).
    Rates and rows without a population are left as they are (counts without one
    become NaN, never a raw count beside rates).
    """
    counts = table["measure_id"].map(is_count).fillna(False).astype(bool)
    if not counts.any():
        return table
    pops = populations.dropna().astype({"year": int}).sort_values("year")
    part = table[counts].reset_index().astype({"year": int}).sort_values("year")
    joined = pd.merge_asof(part, pops, on="year", by="area_code", direction="nearest")
    joined = joined.set_index("index").sort_index()
    out = table.copy()
    out.loc[counts, "value"] = per_10k(joined["value"].to_numpy(dtype=float),
                                       joined["population"].to_numpy(dtype=float))
    return out


def display(value: Any, kind: str, per_10k_shown: bool) -> str:
    """A comparator figure for a table: a rate per 10,000 to one decimal, anything else
    as the disclosure step formats it (``x`` when missing)."""
    if per_10k_shown and value is not None and not pd.isna(value):
        return f"{float(value):,.1f}"
    return disclosure.format_value(value, kind)
