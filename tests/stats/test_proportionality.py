"""Proportionality: observed against expected from a needs-only model, by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from csc_outcomes.stats import proportionality as prop
from csc_outcomes.stats.ordinal import OrdinalFit, patterns


def fixed_fit(frame: pd.DataFrame, beta: float, cuts: list[float]) -> prop.ProportionalityFit:
    """A fit with chosen parameters (no estimation), so expectations can be worked by hand."""
    names = ["factor_1"]
    index = names + [f"cut_{k}" for k in range(len(cuts))]
    params = pd.Series([beta, *cuts], index=index)
    result = OrdinalFit(names, params, pd.DataFrame(np.eye(len(index)) * 0.01, index=index, columns=index),
                        len(cuts) + 1, len(frame), len(frame), 0.0, "robust",
                        patterns(frame[names].to_numpy(), frame["level"].to_numpy()))
    return prop.ProportionalityFit(result, names, [], list(range(len(cuts) + 1)), frame)


def test_expected_counts_are_sums_of_probabilities() -> None:
    # LA A: two assessments without the factor, one with; LA B: one with.
    # beta 1, cut-points -1, 0, 1. P(level <= k | x) = F(c_k - x).
    frame = pd.DataFrame({"la_code": ["A", "A", "A", "B"], "factor_1": [0, 0, 1, 1],
                          "level": [0, 3, 2, 3], "LAchildID": ["1", "2", "3", "4"]})
    fit = fixed_fit(frame, 1.0, [-1.0, 0.0, 1.0])

    def F(t: float) -> float:
        return 1 / (1 + math.exp(-t))

    # x = 0: P(3) = 1 - F(1) = 0.268941; P(>=2) = 1 - F(0) = 0.5
    # x = 1: P(3) = 1 - F(0) = 0.5;      P(>=2) = 1 - F(-1) = 0.731059
    out = prop.expected_by_la(fit).set_index(["la_code", "outcome"])
    care = out.loc[("A", "Looked after")]
    assert care["expected"] == pytest.approx(2 * (1 - F(1)) + (1 - F(0)))
    assert care["observed"] == 1
    var = 2 * (1 - F(1)) * F(1) + 0.25
    assert care["variance"] == pytest.approx(var)
    assert care["z"] == pytest.approx((1 - care["expected"]) / math.sqrt(var))
    high = out.loc[("A", "Plan or care")]
    assert high["expected"] == pytest.approx(2 * 0.5 + (1 - F(-1)))
    assert high["observed"] == 2 and high["assessments"] == 3
    assert high["ratio"] == pytest.approx(2 / high["expected"])
    assert out.loc[("B", "Plan or care"), "expected"] == pytest.approx(1 - F(-1))


def test_expected_counts_add_up_to_assessments() -> None:
    rng = np.random.default_rng(2)
    n = 3000
    frame = pd.DataFrame({"la_code": rng.choice(["A", "B", "C"], n),
                          "LAchildID": rng.integers(0, 2500, n).astype(str),
                          "factor_1": (rng.random(n) < 0.4).astype(int),
                          "factor_2": (rng.random(n) < 0.3).astype(int)})
    latent = frame[["factor_1", "factor_2"]].to_numpy() @ [1.0, 0.6] + rng.logistic(size=n)
    frame["level"] = np.searchsorted([-0.3, 0.8, 2.0], latent)
    fit = prop.fit_ordered_logit(frame)
    out = prop.expected_by_la(fit)
    per_level = out[out["outcome"] != "Plan or care"]
    totals = per_level.groupby("la_code")[["observed", "expected"]].sum()
    assert np.allclose(totals["expected"], totals["observed"])
    # with no LA effect in the data no LA is beyond the 99.8% limits
    assert (out["flag_998"] == "inside").all()


def test_a_needs_only_model_reveals_an_la_that_intervenes_more() -> None:
    rng = np.random.default_rng(9)
    n = 6000
    la = rng.choice(["A", "B", "C", "D"], n)
    shift = pd.Series({"A": 0.0, "B": 0.0, "C": 0.0, "D": 0.8})[la].to_numpy()
    frame = pd.DataFrame({"la_code": la, "LAchildID": np.arange(n).astype(str),
                          "factor_1": (rng.random(n) < 0.4).astype(int)})
    frame["level"] = np.searchsorted([-0.3, 0.8, 2.0], frame["factor_1"] * 1.0 + shift
                                     + rng.logistic(size=n))
    out = prop.expected_by_la(prop.fit_ordered_logit(frame)).set_index(["la_code", "outcome"])
    assert out.loc[("D", "Plan or care"), "flag_998"] == "above"
    assert out.loc[("D", "Plan or care"), "ratio"] > 1.2
    # with the LA's own effect in the model the difference is absorbed: the wrong model
    with_la = prop.fit_ordered_logit(frame, la_effects=True)
    proba = with_la.result.predict_proba(with_la.exog().to_numpy())
    d = (frame["la_code"] == "D").to_numpy()
    expected_d = proba[d][:, 2:].sum()
    observed_d = (frame.loc[d, "level"] >= 2).sum()
    assert abs(observed_d / expected_d - 1) < 0.05


def test_odds_ratios_are_clustered_by_child() -> None:
    rng = np.random.default_rng(4)
    n = 2000
    base = pd.DataFrame({"la_code": "A", "LAchildID": np.arange(n).astype(str),
                         "factor_1": (rng.random(n) < 0.4).astype(int)})
    base["level"] = np.searchsorted([-0.3, 0.8, 2.0], base["factor_1"] + rng.logistic(size=n))
    twice = pd.concat([base, base], ignore_index=True)
    table = prop.odds_ratio_table(prop.fit_ordered_logit(twice)).set_index("term")
    once = prop.odds_ratio_table(prop.fit_ordered_logit(base)).set_index("term")
    assert table.loc["factor_1", "se"] == pytest.approx(once.loc["factor_1", "se"], rel=0.02)
    assert list(table.columns[:4]) == ["label", "odds_ratio", "ci_lower", "ci_upper"]


def test_the_ratios_kept_with_a_fit_are_those_worked_out_again() -> None:
    """Each LA's report shows every LA's ratio: worked out once when fitted (``by_la``),
    kept with the pooled fit, and given back as a copy (a report changing it leaves the
    kept one alone); other levels or another frame are worked out afresh."""
    rng = np.random.default_rng(3)
    n = 800
    frame = pd.DataFrame({"la_code": rng.choice(["A", "B", "C"], n),
                          "LAchildID": np.arange(n).astype(str),
                          "factor_1": (rng.random(n) < 0.5).astype(int)})
    frame["level"] = np.searchsorted([-0.3, 0.8, 2.0], frame["factor_1"] + rng.logistic(size=n))
    fit = prop.fit_ordered_logit(frame)
    assert fit.by_la is not None
    kept = prop.expected_by_la(fit)
    fresh = prop.expected_by_la(prop.ProportionalityFit(fit.result, fit.factors, fit.la_terms,
                                                        fit.levels, fit.frame))
    pd.testing.assert_frame_equal(kept, fresh)
    kept.loc[0, "ratio"] = -1.0
    assert prop.expected_by_la(fit).loc[0, "ratio"] == fresh.loc[0, "ratio"]
    assert "lower_90" in prop.expected_by_la(fit, levels=(0.90,)).columns
