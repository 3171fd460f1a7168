"""Slow: synthetic LAs differ from each other as DfE's published LAs do (issue 11).

Two halves, so that CI pays for one generated LA, not sixty:

- ``test_sixty_las_spread_as_published``: runs of 60 England-sized LAs drawn exactly as
  ``generate`` draws them (``config.draw_profile``: size and each rate's level), each
  rate counted out of a denominator the size of a real LA's of that size (the published
  median denominator, scaled by the LA's size), against every published LA-level rate's
  p10 / p50 / p90, read from ``published/``.
- ``test_one_generated_la_realises_its_levels``: one LA written by ``generate``, read by
  the ingest and measured by ``compute_measures``: each rate is its profile's level,
  within the sampling noise of its own counts. Together: the real generator's LAs
  spread as published.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from csc_outcomes import synth
from csc_outcomes.ingest import pipeline as ingest
from csc_outcomes.measures.catalogue import CATALOGUE
from csc_outcomes.measures.compute import compute_measures
from csc_outcomes.measures.inputs import MeasureInputs
from csc_outcomes.published import tidy
from csc_outcomes.synth import config, spread

pytestmark = pytest.mark.slow

N_LAS = 60
RUNS = 10
#: The issue's tolerance, and the wider one where the published figure is a whole
#: percent and small (a rounding step is then a large share of it).
TOLERANCE, ROUNDED_SMALL = 0.02, 0.03


@pytest.fixture(scope="module")
def published() -> pd.DataFrame:
    """Every published LA rate with a value, latest year of each."""
    rates = [m for m in CATALOGUE if CATALOGUE[m].kind != "count"]
    pm = tidy.published_measures(measure_ids=rates)
    la = pm[(pm["geographic_level"] == "Local authority") & pm["value"].notna()]
    return la[la["year"] == la.groupby("measure_id")["year"].transform("max")]


def tolerance(published_quantile: float) -> float:
    """The issue's tolerance: 0.03 where the published figure is a whole percent and
    small (below 15%, as the issue's 7% / 10% / 14%), else 0.02."""
    whole = abs(100 * published_quantile - round(100 * published_quantile)) < 1e-9
    return ROUNDED_SMALL if whole and published_quantile < 0.15 else TOLERANCE


def test_every_published_rate_has_a_spread(published):
    assert set(published["measure_id"]) == set(spread.SPREADS)


def test_sixty_las_spread_as_published(published):
    # Ten runs of 60 LAs (seeds 0-9, as ``generate(n_las=60, seed=k)`` draws them),
    # pooled: one set of 60 has quantiles whose own sampling error (each LA's counts
    # are noisy) is about the tolerance, so 19 sets in 20 miss at least one of the 45
    # checks by chance while the generator's distribution matches (RESULTS.md).
    profiles = [config.draw_profile(seed, i, N_LAS, 1.0) for seed in range(RUNS) for i in range(N_LAS)]
    size = np.array([p.size for p in profiles])
    median_size = np.exp(-config.SIZE_SIGMA**2 / 2)
    rng = np.random.default_rng(11)
    problems = []
    for mid, rows in published.groupby("measure_id"):
        level = np.array([p.levels[mid] for p in profiles])
        n = np.maximum(np.round(rows["denominator"].median() * size / median_size), 1)
        value = rng.binomial(n.astype(np.int64), level) / n
        target = np.quantile(rows["value"].astype(float), [0.1, 0.5, 0.9])
        got = np.quantile(value, [0.1, 0.5, 0.9])
        for t, g, name in zip(target, got, ("p10", "p50", "p90"), strict=True):
            if abs(g - t) > tolerance(t):
                problems.append(f"{mid} {name}: synthetic {g:.3f}, published {t:.3f}")
    assert not problems, "\n".join(problems)


def test_one_generated_la_realises_its_levels(tmp_path):
    # seed 8: an LA of about England's average size (0.99)
    synth.generate(tmp_path, n_las=1, seed=8, first_year=2024, last_year=2026, progress=False)
    prof = config.draw_profile(8, 0, 1, 1.0)
    res = compute_measures(MeasureInputs.from_ingest(ingest.ingest_folder(tmp_path)), ["2026-03-31"])
    res = res.set_index("measure_id")
    problems = []
    for mid, level in prof.levels.items():
        num, den = float(res.loc[mid, "numerator"]), float(res.loc[mid, "denominator"])
        if mid == "cla_attendance_rate":
            # sessions are not independent: children's attendance varies with an SD of
            # about 0.12 (low attenders among them), so the noise is that over pupils
            se = 0.12 / np.sqrt(float(res.loc["cla_persistent_absence", "denominator"]))
        else:
            se = np.sqrt(level * (1 - level) / den)
        if abs(num / den - level) > 3 * se + 0.01:
            problems.append(f"{mid}: measured {num / den:.3f} of {den:.0f}, level {level:.3f}")
    assert not problems, "\n".join(problems)
