"""Rates per 10,000 children: Hartlepool's 332 children looked after on 31 March 2025
over 21,090 children aged 0 to 17 is 157.4 (DfE publishes 157)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from csc_outcomes.reporting import rates


def test_per_10k_matches_dfe_published_rate():
    assert rates.per_10k(332, 21090) == pytest.approx(157.42, abs=0.01)
    assert round(rates.per_10k(332, 21090)) == 157
    assert np.isnan(rates.per_10k(10, 0)) and np.isnan(rates.per_10k(10, float("nan")))


def test_with_rates_converts_counts_only_using_the_nearest_population_year():
    table = pd.DataFrame({
        "area_code": ["A", "A", "A"], "year": [2013, 2025, 2025],
        "measure_id": ["referrals", "referrals", "rereferrals_within_12m"],
        "value": [100.0, 300.0, 0.25]})
    pops = pd.DataFrame({"area_code": ["A", "A"], "year": [2021, 2025], "population": [20000.0, 30000.0]})
    out = rates.with_rates(table, pops)
    assert out["value"].tolist() == pytest.approx([50.0, 100.0, 0.25])  # 2013 takes 2021's
    assert rates.is_count("referrals") and not rates.is_count("rereferrals_within_12m")


def test_display():
    assert rates.display(157.4237, "count", True) == "157.4"
    assert rates.display(0.2258, "rate", False) == "22.6%"
    assert rates.display(float("nan"), "count", True) == "x"
