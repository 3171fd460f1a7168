"""Slow: frames built from ingested synthetic data recover the generator's true effects.

The generator (``csc_outcomes.synth.generate``) writes the files and the ingest
(``csc_outcomes.ingest.pipeline.ingest_folder``) reads them. The truth is read from
``synth_truth.json`` (``models.proportionality``, ``models.rereferral``,
``models.attendance``).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    from csc_outcomes import synth
    from csc_outcomes.ingest import pipeline as ingest

    out = tmp_path_factory.mktemp("synth")
    synth.generate(out, n_las=3, seed=20250331, scale=0.5)
    truth = json.loads((Path(out) / "synth_truth.json").read_text(encoding="utf-8"))["models"]
    tables = ingest.ingest_folder(out).tables
    last = pd.to_datetime(tables["cin_episodes"]["CINreferralDate"]).max()
    year = last.year if (last.month, last.day) >= (3, 31) else last.year - 1
    return truth, tables, pd.Timestamp(f"{year}-03-31")


def test_proportionality_recovers_factor_effects(synthetic):
    from csc_outcomes.stats import frames, proportionality

    truth, tables, pe = synthetic
    t = truth["proportionality"]
    frame = frames.assessment_frame(tables, pe, years=3)
    codes = list(t["betas"])
    fit = proportionality.fit_ordered_logit(frame, [f"factor_{c}" for c in codes], la_effects=True)
    table = proportionality.odds_ratio_table(fit, include_la=True).set_index("term")
    err = {c: table.loc[f"factor_{c}", "coef"] - t["betas"][c] for c in codes}
    assert max(abs(e) for e in err.values()) < 0.2, err
    # LA terms are relative to the first LA; cut-points absorb that LA's effect
    las = sorted(t["la_effects"])
    for la in las[1:]:
        true = t["la_effects"][la] - t["la_effects"][las[0]]
        assert table.loc[f"la_{la}", "coef"] == pytest.approx(true, abs=0.15), la
    cuts = np.asarray(t["cutpoints"]) - t["la_effects"][las[0]]
    assert np.abs(fit.cutpoints - cuts).max() < 0.2


def test_rereferral_recovers_level_and_length_effects(synthetic):
    from csc_outcomes.stats import frames, rereferral

    truth, tables, pe = synthetic
    t = truth["rereferral"]
    frame = frames.closure_frame(tables, pe, years=3)
    frame = frame[(frame["age_at_closure"].fillna(0) < 17) & (frame["ReasonForClosure"] != "RC1")]
    fit = rereferral.fit_rereferral(frame, cluster="LAchildID")
    p = fit.result.params
    assert p["const"] == pytest.approx(t["a"] + t["b_level"]["0"], abs=0.15)
    for g in ("nfa", "1", "2", "3"):
        assert p[f"level_{g}"] == pytest.approx(t["b_level"][g] - t["b_level"]["0"], abs=0.2), g
    assert p["length_months"] == pytest.approx(t["b_months"], abs=0.01)


def test_stability_recovers_attendance_slope(synthetic):
    from csc_outcomes.stats import frames, stability

    truth, tables, pe = synthetic
    t = truth["attendance"]
    frame = frames.attendance_frame(tables, pe, years=3)
    assert frame["term_start"].min() >= pd.Timestamp(t["recoverable_from"])
    fit = stability.fit_stability(frame)
    assert fit.result.params["moves"] == pytest.approx(-t["delta"], abs=0.006)
    assert fit.result.params["const"] == pytest.approx(t["base_mean"], abs=0.02)
