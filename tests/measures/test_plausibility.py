"""Plausibility: on a synthetic set (synth -> ingest -> measures) the national figures
fall in broad ranges around England's published ones (published/, docs/published-statistics.md)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow

# England's published figure, and the broad range a synthetic set must land in.
RANGES = {
    "rereferrals_within_12m": (0.226, 0.15, 0.32),
    "assessments_within_45wd": (0.86, 0.70, 1.0),
    "icpc_within_15wd": (0.81, 0.60, 0.97),
    "cpp_ended_2y_plus": (0.044, 0.015, 0.09),
    "cla_3plus_placements": (0.10, 0.05, 0.16),
    "cla_long_term_stability": (0.69, 0.58, 0.80),
    "cla_3plus_social_workers": (0.27, 0.12, 0.42),
    "care_leavers_suitable_accom_19_21": (0.85, 0.65, 0.97),
}


def test_synthetic_measures_in_englands_ranges(tmp_path):
    synth = pytest.importorskip("csc_outcomes.synth")
    ingest = pytest.importorskip("csc_outcomes.ingest.pipeline")
    from csc_outcomes.measures.compute import compute_measures
    from csc_outcomes.measures.inputs import MeasureInputs

    synth.generate(tmp_path / "in", 3, 11, scale=0.5, progress=False)
    inputs = MeasureInputs.from_ingest(ingest.ingest_folder(tmp_path / "in"))
    res = compute_measures(inputs, ["2025-03-31"])
    national = res.groupby("measure_id")[["numerator", "denominator"]].sum()
    problems = []
    for mid, (england, lo, hi) in RANGES.items():
        num, den = national.loc[mid]
        assert den > 0, mid
        value = num / den
        if not lo <= value <= hi:
            problems.append(f"{mid}: {value:.3f} outside [{lo}, {hi}] (England {england})")
    assert not problems, "\n".join(problems)
    # Every measure is present for every synthetic LA (all feeds are generated).
    assert res.groupby("la_code")["measure_id"].nunique().eq(26).all()
