"""Funnels over all LAs' published figures, with the LA's own current figure on them.

Independent check of the own point's limits: with random effects (``tau2 > 0``) the
limits are ``sin^2(asin(sqrt(p0)) +/- z sqrt(1/(4n) + tau2))`` (Spiegelhalter 2005),
computed here from the formula, not from ``stats.funnel``. England's 2025 re-referral
rate (the centre line) is 142,900 / 632,830 (c1 file, read by hand).
"""

from __future__ import annotations

import csv

import numpy as np
import pandas as pd
import pytest

from csc_outcomes import paths
from csc_outcomes.reporting import context as ctx
from csc_outcomes.reporting import published_funnel
from csc_outcomes.reporting.published_data import load_published

PERIOD = "2026-03-31"
C1 = "c1_children_in_need_referrals_and_rereferrals_2013_to_2025.csv"


@pytest.fixture(scope="module")
def pub():
    return load_published()


def view_of(num: int, den: int, la: str = "SYN01") -> ctx.ReportView:
    """A warehouse with one LA."""
    m = pd.DataFrame([(la, PERIOD, "rereferrals_within_12m", num, den, num / den),
                      (la, PERIOD, "referrals", den, None, float(den))],
                     columns=["la_code", "period_end", "measure_id", "numerator", "denominator", "value"])
    return ctx.ReportView.from_measures(m, la, PERIOD, la_name="Synthetia")


def numeric_la_rows_2025() -> int:
    """LA rows of the c1 file for 2025 with both counts published (no symbol), read directly."""
    with open(paths.published_dir() / C1, encoding="utf-8-sig") as fh:
        return sum(1 for r in csv.DictReader(fh)
                   if r["time_period"] == "2025" and r["geographic_level"] == "Local authority"
                   and r["rereferral_count"].isdigit() and r["referral_count"].isdigit())


def test_single_la_gets_a_funnel_over_every_published_la(pub):
    view = view_of(50, 200)
    assert view.funnel("rereferrals_within_12m") is None  # one LA: no funnel of its own
    res = published_funnel.best_funnel(view, "rereferrals_within_12m", pub)
    assert res.target == pytest.approx(142900 / 632830)
    assert res.n_units == numeric_la_rows_2025() and res.n_units >= 150
    assert res.attrs["target_label"].startswith("England average")
    own = res[res["unit"] == "SYN01"].iloc[0]
    t, half = np.arcsin(np.sqrt(res.target)), 1.959964 * np.sqrt(1 / 800 + res.tau2)
    assert res.tau2 > 0
    assert own["lower_95"] == pytest.approx(np.sin(t - half) ** 2, rel=1e-5)
    assert own["upper_95"] == pytest.approx(np.sin(t + half) ** 2, rel=1e-5)
    assert own["flag_95"] == "inside"
    words = view.funnel_sentence(res)
    assert "within the 95% limits" in words and "England average of 22.6%" in words
    assert "2.4 percentage points above" in words


def test_far_outside_is_said_so(pub):
    view = view_of(190, 200)
    res = published_funnel.published_funnel(view, "rereferrals_within_12m", pub)
    assert res[res["unit"] == "SYN01"]["flag_998"].item() == "above"
    assert "above the outer (99.8%) limits" in view.funnel_sentence(res)


def test_a_suppressed_own_figure_is_not_placed(pub):
    view = view_of(3, 200)
    res = published_funnel.published_funnel(view, "rereferrals_within_12m", pub)
    assert "SYN01" not in set(res["unit"])
    words = view.funnel_sentence(res)
    assert "not placed" in words and "limits" not in words


def test_a_real_la_is_drawn_once(pub):
    view = view_of(536, 2020, la="E06000001")
    res = published_funnel.published_funnel(view, "rereferrals_within_12m", pub)
    assert (res["unit"] == "E06000001").sum() == 1


def test_counts_and_unpublished_measures(pub):
    view = view_of(50, 200)
    assert published_funnel.published_funnel(view, "referrals", pub) is None
    assert published_funnel.published_funnel(view, "assessments_within_45wd", pub) is None


def test_the_published_part_is_worked_out_once_and_no_report_changes_it(pub):
    """Every LA's report asks for the same 153-LA funnel (a cohort report 26 of them): it
    is worked out once a process (or in the run's fork server) and copied for each report,
    so one LA's own point, label or release mark never reaches another LA's funnel."""
    first = published_funnel.published_funnel(view_of(50, 200, "SYN01"), "rereferrals_within_12m", pub)
    second = published_funnel.published_funnel(view_of(190, 200, "SYN02"), "rereferrals_within_12m", pub)
    assert set(second["unit"]) - set(first["unit"]) == {"SYN02"}
    assert "SYN01" not in set(second["unit"])
    year = pub.latest_year("rereferrals_within_12m")
    base = published_funnel.base_funnel(pub, "rereferrals_within_12m", year, "SYN03")
    assert base is published_funnel.base_funnel(pub, "rereferrals_within_12m", year, "SYN01")
    assert "own_label" not in base.attrs and len(base) == len(first) - 1
    assert not {"SYN01", "SYN02"} & set(base["unit"])
    assert second.attrs["own_label"].startswith("Synthetia") and second.grid is None
    real = next(iter(sorted(pub.la_codes())))  # a real LA's own published point is left out
    left_out = published_funnel.base_funnel(pub, "rereferrals_within_12m", year, real)
    assert left_out is not base and real not in set(left_out["unit"])


def test_the_drawn_limits_reach_the_las_own_denominator(pub):
    """The grid is left for the plot to work out; it must still span the own point."""
    from csc_outcomes.reporting import plots

    view = view_of(50_000, 200_000)  # far beyond any LA's referrals
    res = published_funnel.published_funnel(view, "rereferrals_within_12m", pub)
    fig = plots.funnel_plot(res, highlight="SYN01")
    reach = max(line.get_xdata().max() for line in fig.axes[0].get_lines())
    assert reach >= 200_000
