"""Slow: synthetic LAs differ from each other as DfE's published LAs do (issue 11).

The issue's whole check, 60 England-sized LAs through synth, ingest and measures against
every published LA rate's p10 / p50 / p90, costs about 10 minutes on one core (most of
it the ingest), so it is ``benchmarks/measures/bench_synth_spread.py`` and runs under
``nox -s bench`` (its results: ``benchmarks/measures/RESULTS.md``). The suite checks the
chain it rests on: the stored spreads are the published files refitted, quantiles and
England (``test_spread.py``, fast); a set of 60 LAs' levels has each distribution's
p10 / p50 / p90 (``test_spread.py``, fast); and here, that one LA written by
``generate``, read by the ingest and measured by ``compute_measures`` realises its
levels within the sampling noise of its own counts.
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


@pytest.fixture(scope="module")
def published() -> pd.DataFrame:
    """Every published LA rate with a value, latest year of each."""
    rates = [m for m in CATALOGUE if CATALOGUE[m].kind != "count"]
    pm = tidy.published_measures(measure_ids=rates)
    la = pm[(pm["geographic_level"] == "Local authority") & pm["value"].notna()]
    return la[la["year"] == la.groupby("measure_id")["year"].transform("max")]


def test_every_published_rate_has_a_spread(published):
    assert set(published["measure_id"]) == set(spread.SPREADS)


def test_one_generated_la_realises_its_levels(tmp_path):
    # one LA: the median of every distribution, size 0.84 (the median LA's)
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
