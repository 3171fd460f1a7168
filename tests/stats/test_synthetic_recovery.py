"""Slow: the models recover the generator's true effects, within standard errors.

The generator (``csc_outcomes.synth.generate``) writes the files, the ingest reads
them, and each model is fitted on the frames the reports use. The truth is read from
``synth_truth.json``. Every check is in units of the estimate's own (cluster-robust)
standard error, so it tightens as the data grow; each has a twin showing that the
same check fails on a wrong model or on damaged data (so the check is not vacuous).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from csc_outcomes import synth
from csc_outcomes.ingest import pipeline as ingest
from csc_outcomes.stats import frames, proportionality, rereferral, stability

pytestmark = pytest.mark.slow

#: How many standard errors an estimate may sit from the truth (about 1 in 15,000
#: under normality: the checks fail on bias, not on chance).
K = 4.0


def off_by(estimate: float, se: float, truth: float) -> float:
    """How many standard errors ``estimate`` is from ``truth``."""
    return abs(estimate - truth) / se


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    out = tmp_path_factory.mktemp("synth")
    synth.generate(out, n_las=3, seed=20250331, scale=0.5)
    truth = json.loads((Path(out) / "synth_truth.json").read_text(encoding="utf-8"))["models"]
    tables = ingest.ingest_folder(out).tables
    last = pd.to_datetime(tables["cin_episodes"]["CINreferralDate"]).max()
    year = last.year if (last.month, last.day) >= (3, 31) else last.year - 1
    return truth, tables, pd.Timestamp(f"{year}-03-31")


def proportionality_misses(frame: pd.DataFrame, t: dict) -> dict[str, float]:
    """Standard errors between each estimate and the truth (betas, LA terms, cut-points)."""
    codes = list(t["betas"])
    fit = proportionality.fit_ordered_logit(frame, [f"factor_{c}" for c in codes], la_effects=True)
    p, se = fit.result.params, fit.result.bse
    misses = {c: off_by(p[f"factor_{c}"], se[f"factor_{c}"], t["betas"][c]) for c in codes}
    las = sorted(t["la_effects"])
    for la in las[1:]:
        true = t["la_effects"][la] - t["la_effects"][las[0]]
        misses[la] = off_by(p[f"la_{la}"], se[f"la_{la}"], true)
    for k, cut in enumerate(np.asarray(t["cutpoints"]) - t["la_effects"][las[0]]):
        misses[f"cut_{k}"] = off_by(p[f"cut_{k}"], se[f"cut_{k}"], cut)
    return misses


def test_proportionality_recovers_factor_effects(synthetic):
    truth, tables, pe = synthetic
    frame = frames.assessment_frame(tables, pe, years=3)
    misses = proportionality_misses(frame, truth["proportionality"])
    assert max(misses.values()) < K, misses


def test_proportionality_check_fails_when_half_the_care_entries_are_missed(synthetic):
    truth, tables, pe = synthetic
    frame = frames.assessment_frame(tables, pe, years=3)
    care = frame.index[frame["level"] == 3]
    frame.loc[care[::2], "level"] = 2
    assert max(proportionality_misses(frame, truth["proportionality"]).values()) > K


def rereferral_misses(frame: pd.DataFrame, t: dict) -> dict[str, float]:
    """With LA terms, as the generator made it: each LA has its own shift (its level of
    the published spread), so the constant is ``a`` + the first LA's shift and each LA
    term the difference of shifts (a model without them estimates a weighted mean of the
    shifts, which moves with how the LAs happen to be drawn)."""
    fit = rereferral.fit_rereferral(frame, cluster="LAchildID", la_effects=True)
    p, se = fit.result.params, fit.result.bse
    las = sorted(t["la_shifts"])
    first = t["la_shifts"][las[0]]
    misses = {"const": off_by(p["const"], se["const"], t["a"] + t["b_level"]["0"] + first),
              "months": off_by(p["length_months"], se["length_months"], t["b_months"])}
    for la in las[1:]:
        misses[la] = off_by(p[f"la_{la}"], se[f"la_{la}"], t["la_shifts"][la] - first)
    for g in ("nfa", "1", "2", "3"):
        misses[g] = off_by(p[f"level_{g}"], se[f"level_{g}"], t["b_level"][g] - t["b_level"]["0"])
    return misses


def test_rereferral_recovers_level_and_length_effects(synthetic):
    truth, tables, pe = synthetic
    frame = frames.closure_frame(tables, pe, years=3)
    misses = rereferral_misses(frame, truth["rereferral"])
    assert max(misses.values()) < K, misses


def test_rereferral_check_fails_on_a_model_without_episode_length(synthetic):
    # Longer episodes reach higher levels: leaving length out biases the level effects.
    truth, tables, pe = synthetic
    t = truth["rereferral"]
    frame = frames.closure_frame(tables, pe, years=3)
    fit = rereferral.fit_rereferral(frame, cluster="LAchildID", la_effects=False, covariates=())
    p, se = fit.result.params, fit.result.bse
    misses = [off_by(p[f"level_{g}"], se[f"level_{g}"], t["b_level"][g] - t["b_level"]["0"])
              for g in ("nfa", "1", "2", "3")]
    assert max(misses) > K


def test_stability_recovers_attendance_slope(synthetic):
    truth, tables, pe = synthetic
    t = truth["attendance"]
    frame = frames.attendance_frame(tables, pe, years=3)
    assert frame["term_start"].min() >= pd.Timestamp(t["recoverable_from"])
    fit = stability.fit_stability(frame).result
    assert off_by(fit.params["moves"], fit.bse["moves"], -t["delta"]) < K
    assert off_by(fit.params["const"], fit.bse["const"], pseudo_true_constant(frame, t)) < K


def pseudo_true_constant(frame: pd.DataFrame, t: dict, copies: int = 20) -> float:
    """The constant the censored model reaches on unlimited data from the generator.

    Each LA's children are a mixture (a share of low attenders), which the model's one
    normal does not describe: its constant is not the mixture's mean (``base_mean``)
    but what maximum likelihood converges to. Found independently of the data's
    attendance: ``copies`` x the frame's rows, each with its LA and moves, attendance drawn
    afresh from the truth file's mechanism, clipped as the generator clips it.
    """
    rng = np.random.default_rng(7)
    rows = pd.concat([frame[["la_code", "moves"]]] * copies, ignore_index=True)
    la = rows["la_code"].astype(str)
    low = rng.random(len(rows)) < la.map(t["la_low_shares"]).to_numpy()
    base = np.where(low, rng.normal(t["low_mean"], t["low_sd"], len(rows)),
                    rng.normal(la.map(t["la_high_means"]).to_numpy(), t["base_sd"]))
    y = base - t["delta"] * rows["moves"].to_numpy() + rng.normal(0, t["noise_sd"], len(rows))
    x = pd.DataFrame({"const": 1.0, "moves": rows["moves"].astype(float)})
    sim = stability.fit_censored(x, pd.Series(np.clip(y, 0.2, 1.0)),
                                 cluster=None)
    return float(sim.params["const"])
