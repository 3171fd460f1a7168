"""The three models recover known effects from data simulated in their own forms."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from csc_outcomes.stats import proportionality as prop
from csc_outcomes.stats import rereferral, stability

BETA = np.array([0.45, 0.85, 0.75, 0.55, 0.30, 0.40, 1.20, 1.00])
PREV = np.array([0.12, 0.12, 0.18, 0.30, 0.12, 0.22, 0.10, 0.10])
CUTS = np.array([1.20, 2.55, 3.85])
CODES = ["1B", "2B", "3A", "3B", "4A", "4B", "11A", "24A"]


def _simulate_ordered(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = (rng.random((n, 8)) < PREV).astype(int)
    latent = x @ BETA + rng.logistic(size=n)
    level = np.searchsorted(CUTS, latent)  # 0..3
    df = pd.DataFrame(x, columns=[f"factor_{c}" for c in CODES])
    df["level"] = level
    df["la_code"] = "SYN01"
    return df


@pytest.fixture(scope="module")
def ordered_fit():
    df = _simulate_ordered(12000, 11)
    return prop.fit_ordered_logit(df), df


#: How many standard errors an estimate may sit from the truth.
K = 4.0


def test_ordered_logit_recovers_coefficients_and_cutpoints(ordered_fit):
    fit, _ = ordered_fit
    table = prop.odds_ratio_table(fit)
    assert table["term"].tolist() == [f"factor_{c}" for c in CODES]
    assert (np.abs(table["coef"].to_numpy() - BETA) < K * table["se"].to_numpy()).all()
    cut_se = fit.result.bse[[f"cut_{k}" for k in range(3)]].to_numpy()
    assert (np.abs(fit.cutpoints - CUTS) < K * cut_se).all()
    assert (table["odds_ratio"] > 1).all()
    assert table.loc[0, "label"] == "Factor 1B"


def test_the_same_check_fails_when_half_the_care_entries_are_missed(ordered_fit):
    _, df = ordered_fit
    damaged = df.copy()
    care = damaged.index[damaged["level"] == 3]
    damaged.loc[care[::2], "level"] = 2
    fit = prop.fit_ordered_logit(damaged)
    cut_se = fit.result.bse[[f"cut_{k}" for k in range(3)]].to_numpy()
    assert (np.abs(fit.cutpoints - CUTS) >= K * cut_se).any()


def test_ordered_logit_with_la_effects():
    a = _simulate_ordered(4000, 1)
    b = _simulate_ordered(4000, 2)
    b["la_code"] = "SYN02"
    rng = np.random.default_rng(5)
    # shift SYN02 upwards by re-simulating its latent with +0.5
    x = b[[f"factor_{c}" for c in CODES]].to_numpy()
    b["level"] = np.searchsorted(CUTS, x @ BETA + 0.5 + rng.logistic(size=len(b)))
    fit = prop.fit_ordered_logit(pd.concat([a, b], ignore_index=True), la_effects=True)
    assert fit.la_terms == ["la_SYN02"]
    full = prop.odds_ratio_table(fit, include_la=True).set_index("term")
    assert abs(full.loc["la_SYN02", "coef"] - 0.5) < K * full.loc["la_SYN02", "se"]
    assert "la_SYN02" not in prop.odds_ratio_table(fit)["term"].tolist()


def test_factor_selection_drops_rare_columns():
    df = _simulate_ordered(500, 3)
    df["factor_99"] = 0
    df.loc[:2, "factor_99"] = 1
    fit = prop.fit_ordered_logit(df)
    assert "factor_99" not in fit.factors and len(fit.factors) == 8


A_REREF = -0.55
B_LEVEL = {"nfa": 0.25, "0": 0.0, "1": -0.35, "2": -0.60, "3": -0.90}
B_MONTHS = -0.04


def _simulate_closures(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    group = rng.choice(list(B_LEVEL), size=n, p=[0.15, 0.35, 0.25, 0.15, 0.10])
    months = np.where(group == "nfa", rng.uniform(0, 0.5, n), rng.gamma(2.0, 4.0, n))
    eta = A_REREF + np.array([B_LEVEL[g] for g in group]) + B_MONTHS * months
    y = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(int)
    level = np.where(group == "nfa", "0", group).astype(int)
    return pd.DataFrame({"la_code": "SYN01", "LAchildID": [f"C{i}" for i in range(n)],
                         "level": level, "level_group": group, "length_months": months,
                         "rereferred": y})


def test_rereferral_logit_recovers_coefficients():
    df = _simulate_closures(30000, 7)
    fit = rereferral.fit_rereferral(df, cluster="LAchildID")
    params, se = fit.result.params, fit.result.bse
    assert abs(params["const"] - A_REREF) < K * se["const"]
    for g in ("nfa", "1", "2", "3"):
        assert abs(params[f"level_{g}"] - B_LEVEL[g]) < K * se[f"level_{g}"]
    assert abs(params["length_months"] - B_MONTHS) < K * se["length_months"]
    table = fit.odds_ratios()
    assert "const" not in table["term"].tolist()
    assert table.set_index("term").loc["level_3", "odds_ratio"] < 1


def test_rereferral_linear_level():
    rng = np.random.default_rng(2)
    n = 20000
    level = rng.integers(0, 4, n)
    months = rng.gamma(2.0, 4.0, n)
    eta = -0.5 - 0.3 * level - 0.04 * months
    y = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(int)
    df = pd.DataFrame({"level": level, "length_months": months, "rereferred": y})
    fit = rereferral.fit_rereferral(df, level="linear")
    assert fit.result.params["level"] == pytest.approx(-0.3, abs=0.06)


def simulate_terms(seed: int, n_children: int = 1500, terms: int = 6,
                   base_mean: float = 0.935) -> pd.DataFrame:
    """The generator's attendance model: child base + slope * moves + noise, capped at 1."""
    rng = np.random.default_rng(seed)
    base = rng.normal(base_mean, 0.035, n_children)
    child = np.repeat(np.arange(n_children), terms)
    moves = rng.poisson(0.6, child.size)
    att = np.minimum(base[child] - 0.03 * moves + rng.normal(0, 0.025, child.size), 1.0)
    return pd.DataFrame({"la_code": "SYN01", "CHILD": child.astype(str), "moves": moves,
                         "attendance": att})


def test_stability_recovers_the_slope_within_standard_errors():
    df = simulate_terms(9, n_children=3000, base_mean=0.96)
    assert (df["attendance"] == 1).mean() > 0.1  # terms at full attendance
    fit = stability.fit_stability(df)
    table = fit.coef_table().set_index("term")
    # within 3 cluster-robust standard errors of the truth
    assert abs(table.loc["moves", "coef"] + 0.03) < 3 * table.loc["moves", "se"]
    assert abs(table.loc["const", "coef"] - 0.96) < 3 * table.loc["const", "se"]
    assert table.loc["moves", "ci_lower"] < -0.03 < table.loc["moves", "ci_upper"]
    assert fit.result.n_censored == int((df["attendance"] == 1).sum())


def test_a_straight_line_through_capped_attendance_misses_the_slope():
    """The wrong model (OLS) fails the same check: its interval excludes the truth."""
    import statsmodels.api as sm

    df = simulate_terms(9, n_children=3000, base_mean=0.96)
    ols = sm.OLS(df["attendance"], sm.add_constant(df["moves"].astype(float))).fit(
        cov_type="cluster", cov_kwds={"groups": pd.factorize(df["CHILD"])[0]})
    assert abs(ols.params["moves"] + 0.03) > 3 * ols.bse["moves"]


def test_stability_errors_are_clustered_by_child():
    df = simulate_terms(3)
    clustered = stability.fit_stability(df).result
    unclustered = stability.fit_censored(
        pd.DataFrame({"const": 1.0, "moves": df["moves"].astype(float)}), df["attendance"])
    # terms of one child share its base attendance: the intercept's error is wider
    assert clustered.bse["const"] > 1.5 * unclustered.bse["const"]
    assert clustered.n_clusters == 1500


def test_coef_plot_accepts_model_tables(ordered_fit):
    import matplotlib

    matplotlib.use("Agg")
    from csc_outcomes.reporting import plots

    fig = plots.coef_plot(prop.odds_ratio_table(ordered_fit[0]))
    assert len(fig.axes[0].get_yticklabels()) == 8
