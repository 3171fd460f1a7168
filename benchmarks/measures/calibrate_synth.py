"""Fit the synthetic generator's between-LA spreads to DfE's published LA figures.

    .nox/tests/bin/python benchmarks/measures/calibrate_synth.py

Prints ``SPREADS`` (for ``lib/csc_outcomes/synth/spread.py``) and ``SIZE_SIGMA`` (for
``synth/config.py``), and the published p10 / p50 / p90 each is fitted to: every
catalogue rate with an LA-level published figure, its latest year, and England's
figure that year; LA size is the
published child population (0 to 17). ``tests/synth/test_spread.py`` refits the same
way and fails when the stored numbers drift from the published files.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd

from csc_outcomes.measures.catalogue import CATALOGUE
from csc_outcomes.published import tidy
from csc_outcomes.synth import config, spread

Z90 = spread.Z90


@functools.cache
def published() -> pd.DataFrame:
    """Every published row (one read of the files, shared: do not modify)."""
    return tidy.published_measures()


def published_las() -> pd.DataFrame:
    """The published LA rows with a value."""
    pm = published()
    return pm[(pm["geographic_level"] == "Local authority") & pm["value"].notna()]


def england(la: pd.DataFrame) -> dict[str, float]:
    """England's published figure of each rate in ``la`` (``la_rates``), its year."""
    pm = published()
    nat = pm[pm["geographic_level"] == "National"].set_index(["measure_id", "year"])["value"]
    years = la.groupby("measure_id")["year"].first()
    return {mid: float(nat[(mid, year)]) for mid, year in years.items()}


def la_rates(la: pd.DataFrame) -> pd.DataFrame:
    """Published LA rows of every catalogue rate, latest year of each, with the LA's log
    child population."""
    la = la[la["measure_id"].map(lambda m: CATALOGUE[m].kind != "count")]
    latest = la.groupby("measure_id")["year"].transform("max")
    la = la[la["year"] == latest]
    pop = tidy.populations()
    pop = pop[pop["year"] == pop["year"].max()].set_index("area_code")["population"]
    la = la.assign(log_size=np.log(la["area_code"].map(pop).astype(float)))
    return la.dropna(subset=["log_size"])


def fits(la: pd.DataFrame, england_figures: dict[str, float]) -> dict[str, spread.Spread]:
    """One ``Spread`` per rate, in catalogue order: fitted, then refined by simulation
    to the published p10 / p50 / p90 and England figure with the generator's size
    spread (and the mechanisms' own noise, ``spread.MECHANISM_SD``)."""
    out = {}
    for mid in CATALOGUE:
        rows = la[la["measure_id"] == mid]
        if len(rows):
            values, dens = rows["value"].to_numpy(float), rows["denominator"].to_numpy(float)
            known = ~np.isnan(dens)
            first = spread.fit_spread(values[known], dens[known], rows["log_size"].to_numpy(float)[known])
            targets = np.quantile(values, [0.1, 0.5, 0.9], method=spread.QUANTILE_METHOD)
            out[mid] = spread.refine(first, targets, float(np.median(dens[known])), config.SIZE_SIGMA,
                                     england_figures[mid], spread.MECHANISM_SD.get(mid, 0.0))
    return out


def correlations(la: pd.DataFrame) -> dict[str, float]:
    """Rank correlation across LAs of each pair in ``spread.CORRELATED``."""
    wide = la.pivot_table(index="area_code", columns="measure_id", values="value").astype(float)
    out = {}
    for mid, (partner, _) in spread.CORRELATED.items():
        both = wide[[mid, partner]].dropna()
        out[mid] = spread.rank_correlation(both[mid].to_numpy(), both[partner].to_numpy())
    return out


def size_sigma(la: pd.DataFrame) -> float:
    """SD of log LA size, from the published children looked after at 31 March (p10-p90)."""
    la = la[la["measure_id"] == "cla_at_period_end"]
    v = la[la["year"] == la["year"].max()]["value"].to_numpy(float)
    q10, q90 = np.quantile(np.log(v), [0.1, 0.9])
    return float((q90 - q10) / (2 * Z90))


def main() -> None:
    published = published_las()
    la = la_rates(published)
    print("SPREADS: dict[str, Spread] = {")
    for mid, s in fits(la, england(la)).items():
        print(f'    "{mid}": Spread({s.centre:.4f}, {s.slope:.4f}, {s.sd_low:.4f}, {s.sd_high:.4f}),')
    print("}")
    print(f"SIZE_SIGMA = {size_sigma(published):.3f}")
    print("CORRELATED:", {m: round(r, 2) for m, r in correlations(la).items()})
    for mid, rows in la.groupby("measure_id", sort=False):
        q = np.quantile(rows["value"].astype(float), [0.1, 0.5, 0.9], method=spread.QUANTILE_METHOD)
        print(f"{mid:36s} {int(rows['year'].iloc[0])} p10/p50/p90 {q.round(3)}")


if __name__ == "__main__":
    main()
