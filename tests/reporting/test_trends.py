"""A trend for every measure: own released figures beside published years.

England's 2013 re-referral rate, read from the c1 file: 137,300 re-referrals of
657,800 referrals."""

from __future__ import annotations

import csv

import pandas as pd
import pytest

from csc_outcomes import paths
from csc_outcomes.reporting import context as ctx
from csc_outcomes.reporting import trends
from csc_outcomes.reporting.published_data import load_published

COLS = ["la_code", "period_end", "measure_id", "numerator", "denominator", "value"]


@pytest.fixture(scope="module")
def pub():
    return load_published()


def england_2013() -> float:
    with open(paths.published_dir() / "c1_children_in_need_referrals_and_rereferrals_2013_to_2025.csv",
              encoding="utf-8-sig") as fh:
        row = next(r for r in csv.DictReader(fh)
                   if r["time_period"] == "2013" and r["geographic_level"] == "National")
    return int(row["rereferral_count"]) / int(row["referral_count"])


@pytest.fixture
def view():
    rows = [("SYN01", "2025-03-31", "rereferrals_within_12m", 50, 200, 0.25),
            ("SYN01", "2025-09-30", "rereferrals_within_12m", 3, 200, 0.015),   # suppressed
            ("SYN01", "2026-03-31", "rereferrals_within_12m", 60, 200, 0.3),
            ("SYN01", "2026-03-31", "cla_at_period_end", 100, None, 100.0),
            ("SYN01", "2026-03-31", "assessments_within_45wd", 150, 200, 0.75)]
    return ctx.ReportView.from_measures(pd.DataFrame(rows, columns=COLS), "SYN01", "2026-03-31",
                                        la_name="Synthetia")


def test_every_measure_has_its_published_years_and_own_series(view, pub):
    frame = trends.trend_frame(view, pub, like="E06000001")
    rr = frame[frame["measure_id"] == "rereferrals_within_12m"]
    eng = rr[rr["series"] == "England (published)"].set_index("period_end")["value"]
    assert len(eng) == 13 and eng[pd.Timestamp("2013-03-31")] == pytest.approx(england_2013())
    assert len(rr[rr["series"] == "Hartlepool (published)"]) == 13
    assert len(rr[rr["series"] == "Statistical neighbours' median (published)"]) == 13
    own = rr[rr["series"] == "Synthetia (own figures)"]
    assert own["value"].iloc[[0, 2]].tolist() == pytest.approx([0.25, 0.3])
    assert own["value"].isna().tolist() == [False, True, False]  # the suppressed one is a gap
    # a synthetic LA has no population of its own: no own rate per 10,000 for a count
    cla = frame[frame["measure_id"] == "cla_at_period_end"]
    assert "Synthetia (own figures)" not in set(cla["series"]) and len(cla)
    # not published: own series only, still a trend
    assert set(frame.loc[frame["measure_id"] == "assessments_within_45wd", "series"]) == {"Synthetia (own figures)"}
    levels = trends.by_level(frame)
    assert list(levels) == ["Children at risk of harm", "Children in care", "Children leaving care"]
    assert set(levels["Children in care"]["measure_id"]) >= {"cla_at_period_end", "cla_3plus_placements"}


def test_without_a_real_la_counts_have_no_own_rate(view, pub):
    frame = trends.trend_frame(view, pub)
    cla = frame[frame["measure_id"] == "cla_at_period_end"]
    assert set(cla["series"]) == {"England (published)"}


def test_a_real_la_counts_are_per_10000_children(pub):
    m = pd.DataFrame([("E06000001", "2026-03-31", "cla_at_period_end", 332, None, 332.0)], columns=COLS)
    view = ctx.ReportView.from_measures(m, "E06000001", "2026-03-31", la_name="Hartlepool")
    frame = trends.trend_frame(view, pub, measure_ids=["cla_at_period_end"])
    own = frame[frame["series"] == "Hartlepool (own figures)"]
    assert own["value"].item() == pytest.approx(332 / 21090 * 10_000)  # DfE publishes 157
    published = frame[frame["series"] == "Hartlepool (published)"].set_index("period_end")["value"]
    assert published[pd.Timestamp("2025-03-31")] == pytest.approx(332 / 21090 * 10_000)


def test_every_series_has_a_role_whatever_the_la_is_called(view, pub):
    frame = trends.trend_frame(view, pub, like="E06000001")
    roles = {s: trends.series_role(s) for s in frame["series"].unique()}
    assert roles == {"Synthetia (own figures)": trends.OWN,
                     "Hartlepool (published)": trends.LA_PUBLISHED,
                     "England (published)": trends.ENGLAND_ROLE,
                     "Statistical neighbours' median (published)": trends.NEIGHBOURS}
    assert trends.series_role("SYN01") == trends.OTHER
