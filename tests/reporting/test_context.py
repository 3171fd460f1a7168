"""The notebook helpers: the grid (performance and outcomes side by side), sentences,
funnels, suppression in what the reports show."""

import pandas as pd

from csc_outcomes.reporting import context as ctx


def measures():
    rows = []
    for la, (num, den, count) in {"SYN01": (30, 120, 60), "SYN02": (3, 40, 4),
                                  "SYN03": (20, 100, 80), "SYN04": (25, 90, 70)}.items():
        for p, k in (("2025-03-31", 0.9), ("2026-03-31", 1.0)):
            rows += [(la, p, "rereferrals_within_12m", num, den, num / den),
                     (la, p, "cin_closures_sustained_12m", int(den * 0.7 * k), den, 0.7 * k),
                     (la, p, "cla_at_period_end", count, None, float(count))]
    df = pd.DataFrame(rows, columns=["la_code", "period_end", "measure_id", "numerator",
                                     "denominator", "value"])
    df["period_end"] = pd.to_datetime(df["period_end"])
    return df


def test_grid_shows_performance_and_outcomes_side_by_side():
    view = ctx.ReportView(measures(), "SYN01", "2026-03-31", comparators=["SYN03"])
    grid = view.grid_table()
    at_risk = grid[grid["Level"] == "Children at risk of harm"]
    assert set(at_risk["Kind"]) == {"Performance", "Outcomes"}
    # a level whose outcomes are missing still shows an outcomes row, never performance alone
    in_care = grid[grid["Level"] == "Children in care"]
    assert set(in_care["Kind"]) == {"Performance", "Outcomes"}
    row = grid[grid["Measure"] == view.label("rereferrals_within_12m")].iloc[0]
    assert row["SYN01"] == "25.0%"
    assert row["Statistical neighbours"] == "20.0%"
    assert view.comparator_label == "statistical neighbours"


def test_small_numbers_are_suppressed():
    view = ctx.ReportView(measures(), "SYN02", "2026-03-31")
    assert view.shown("rereferrals_within_12m") == "c"
    assert view.shown("cla_at_period_end") == "c"
    assert "suppressed (c)" in view.sentence("rereferrals_within_12m")
    table = view.comparison_table("rereferrals_within_12m")
    mine = table[table["Local authority"] == "SYN02 (this LA)"].iloc[0]
    assert mine["Numerator"] == "c" and mine["Value"] == "c"
    counts = ctx.suppressed_counts(pd.DataFrame({"comparison": ["above", "in line", "below"],
                                                 "count": [3, 40, 12]}))
    assert counts["count"].tolist()[0] == "c" and counts["count"].tolist()[2] == "c"


def test_sentence_puts_number_in_context():
    view = ctx.ReportView(measures(), "SYN01", "2026-03-31", la_name="Synthetic Borough 1")
    text = view.sentence("rereferrals_within_12m")
    assert "25.0% for Synthetic Borough 1" in text and "(30 of 120)" in text
    assert "other LAs" in text and "a year earlier" in text
    assert "Lower is better" in text or "better" in text
    assert "no figure" in view.sentence("care_leavers_eet_19_21")


def test_funnel_and_sentence():
    view = ctx.ReportView(measures(), "SYN01", "2026-03-31")
    res = view.funnel("rereferrals_within_12m")
    assert res is not None
    assert "SYN01 sits" in view.funnel_sentence(res)
    assert view.funnel("cla_at_period_end") is None
    two = measures()
    two = two[two["la_code"].isin(["SYN01", "SYN02"])]
    v2 = ctx.ReportView(two, "SYN01", "2026-03-31")
    assert v2.funnel("rereferrals_within_12m") is None
    assert "at least three LAs" in v2.funnel_sentence(None)
    fig = v2.comparison_chart("rereferrals_within_12m")
    assert len(fig.axes[0].patches) == 1  # SYN02 suppressed, left out


def test_fit_or_reason_turns_errors_into_words():
    frame = pd.DataFrame({"a": range(10)})
    fit, why = ctx.fit_or_reason(lambda f: 1, frame, min_rows=30, what="the model")
    assert fit is None and "Too few records (10)" in why

    def boom(f):
        raise ValueError("singular")
    fit, why = ctx.fit_or_reason(boom, pd.DataFrame({"a": range(50)}), what="the model")
    assert fit is None and "could not be fitted" in why and "Traceback" not in why


def test_styled_and_grid_display():
    view = ctx.ReportView(measures(), "SYN01", "2026-03-31")
    shown = ctx.grid_display(view.grid_table())
    assert shown["Level"].tolist().count("Children at risk of harm") == 1
    html = ctx.styled(shown, caption="Cap").to_html()
    assert "<caption>Cap</caption>" in html and "<table" in html


def test_load_inputs_without_warehouse(tmp_path):
    inputs, why = ctx.load_inputs(tmp_path / "none.duckdb")
    assert inputs is None and "not found" in why
