"""The fast ordered logit equals statsmodels' fit, and its derivatives are exact."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.miscmodels.ordinal_model import OrderedModel

from csc_outcomes.stats import ordinal


def simulate(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = pd.DataFrame((rng.random((n, 5)) < 0.3).astype(float), columns=[f"f{i}" for i in range(5)])
    latent = x.to_numpy() @ np.array([0.8, -0.5, 1.2, 0.0, 0.4]) + rng.logistic(size=n)
    return x, np.searchsorted(np.array([-0.5, 0.7, 2.0]), latent)


def test_estimates_equal_a_reference_fit_to_1e6() -> None:
    x, y = simulate(3000, 3)
    fit = ordinal.fit_ordinal(x, y)
    ref = OrderedModel(pd.Series(pd.Categorical(y, ordered=True)), x, distr="logit").fit(
        method="newton", maxiter=200, disp=False)
    ref_cuts = np.asarray(ref.model.transform_threshold_params(ref.params))[1:-1]
    assert fit.beta.to_numpy() == pytest.approx(ref.params[:5].to_numpy(), rel=1e-6, abs=1e-8)
    assert fit.cutpoints == pytest.approx(ref_cuts, rel=1e-6)
    assert fit.loglik == pytest.approx(ref.llf, rel=1e-10)


def test_gradient_and_hessian_match_finite_differences() -> None:
    x, y = simulate(400, 8)
    p = ordinal.patterns(x.to_numpy(), y)
    theta = np.array([0.3, -0.2, 0.5, 0.1, 0.0, -0.4, 0.6, 1.9])

    def loglik(t: np.ndarray) -> float:
        return float(p.weight @ ordinal.pieces(t[:5], t[5:], p).loglik)

    q = ordinal.pieces(theta[:5], theta[5:], p)
    grad = p.weight @ ordinal.scores(theta[:5], theta[5:], p, q)
    hess = ordinal.hessian(theta[:5], theta[5:], p, q)
    h = 1e-5
    for j in range(len(theta)):
        e = np.zeros_like(theta)
        e[j] = h
        assert grad[j] == pytest.approx((loglik(theta + e) - loglik(theta - e)) / (2 * h), rel=1e-5, abs=1e-6)
        num = (p.weight @ ordinal.scores((theta + e)[:5], (theta + e)[5:], p)
               - p.weight @ ordinal.scores((theta - e)[:5], (theta - e)[5:], p)) / (2 * h)
        assert hess[:, j] == pytest.approx(num, rel=1e-4, abs=1e-4)


def test_clustered_errors_grow_when_children_repeat() -> None:
    # Each child assessed twice with the same record: a naive fit counts twice the
    # information there is; clustering by child gives back about sqrt(2) wider errors.
    x, y = simulate(2000, 4)
    doubled = pd.concat([x, x], ignore_index=True)
    yy = np.concatenate([y, y])
    child = np.concatenate([np.arange(2000), np.arange(2000)])
    naive = ordinal.fit_ordinal(doubled, yy)
    clustered = ordinal.fit_ordinal(doubled, yy, cluster=child)
    ratio = (clustered.bse / naive.bse).iloc[:5].to_numpy()
    assert ratio == pytest.approx(np.sqrt(2), rel=0.05)
    assert clustered.n_clusters == 2000


def test_a_missing_level_is_refused() -> None:
    x, y = simulate(200, 1)
    with pytest.raises(ValueError, match="each present"):
        ordinal.fit_ordinal(x, np.where(y == 1, 2, y))
