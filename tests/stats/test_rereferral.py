"""A stored re-referral fit reads back without statsmodels, with the same odds ratios."""

from __future__ import annotations

import io
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from csc_outcomes.stats import rereferral

READ_BACK = """
import pickle, sys
fit = pickle.load(open(sys.argv[1], "rb"))
print(fit.odds_ratios().to_json(orient="split", double_precision=15))
print(sorted(m for m in sys.modules if m.split(".")[0] == "statsmodels"))
"""


def closures(n: int = 3000, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    group = rng.choice(["nfa", "0", "1", "2", "3"], size=n)
    months = rng.gamma(2.0, 4.0, n)
    y = (rng.random(n) < 1 / (1 + np.exp(0.5 + 0.04 * months))).astype(int)
    return pd.DataFrame({"la_code": rng.choice(["E1", "E2"], size=n),
                         "LAchildID": [f"C{i % 2000}" for i in range(n)],
                         "level_group": group, "length_months": months, "rereferred": y})


def test_a_pickled_fit_reads_back_without_statsmodels(tmp_path: Path) -> None:
    """The pooled re-referral fit is stored with pickle and loaded by every LA's
    notebook; its statsmodels result made each one import statsmodels (seconds)."""
    fit = rereferral.fit_rereferral(closures(), cluster="LAchildID")
    (tmp_path / "fit.pkl").write_bytes(pickle.dumps(fit))
    out = subprocess.run([sys.executable, "-c", READ_BACK, str(tmp_path / "fit.pkl")],
                         capture_output=True, text=True, check=True).stdout.splitlines()
    assert out[1] == "[]"
    back = pd.read_json(io.StringIO(out[0]), orient="split")
    pd.testing.assert_frame_equal(back.reset_index(drop=True), fit.odds_ratios(), rtol=1e-12)
    assert fit.result.model is not None  # the fit in hand keeps its statsmodels result
