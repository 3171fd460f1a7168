"""The notebook helpers: the grid (performance and outcomes side by side), sentences,
funnels, suppression in what the reports show."""

import pandas as pd
import pytest
from attacker import attack, facts_from_views

from csc_outcomes.reporting import context as ctx
from csc_outcomes.reporting import disclosure
from csc_outcomes.reporting.model_build import fit_or_reason


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
    view = ctx.ReportView.from_measures(measures(), "SYN01", "2026-03-31", comparators=["SYN03"])
    grid = view.grid_table()
    at_risk = grid[grid["Level"] == "Children at risk of harm"]
    assert set(at_risk["Kind"]) == {"Performance", "Outcomes"}
    # a level whose outcomes are missing still shows an outcomes row, never performance alone
    in_care = grid[grid["Level"] == "Children in care"]
    assert set(in_care["Kind"]) == {"Performance", "Outcomes"}
    row = grid[grid["Measure"] == view.label("rereferrals_within_12m")].iloc[0]
    assert row["SYN01"] == "25.0%"
    assert row["Statistical neighbours"] == "20.0%"
    assert row["All LAs"] == "24.2% (3 of 4)"  # SYN02's 3 of 40 is suppressed, so not pooled
    assert view.comparator_label == "statistical neighbours"


def test_small_numbers_are_suppressed():
    view = ctx.ReportView.from_measures(measures(), "SYN02", "2026-03-31")
    assert view.shown("rereferrals_within_12m") == "c"
    assert view.shown("cla_at_period_end") == "c"
    assert "suppressed (c)" in view.sentence("rereferrals_within_12m")
    table = view.comparison_table("rereferrals_within_12m")
    mine = table[table["Local authority"] == "SYN02 (this LA)"].iloc[0]
    assert mine["Numerator"] == "c" and mine["Value"] == "c"
    counts = ctx.level_counts({"Observed": pd.Series([0] * 40 + [1] * 12 + [2] * 3)})
    assert counts["Observed"].tolist() == [40, "c", "c", 0]


def test_sentence_puts_number_in_context():
    view = ctx.ReportView.from_measures(measures(), "SYN01", "2026-03-31", la_name="Synthetic Borough 1")
    text = view.sentence("rereferrals_within_12m")
    assert "25.0% for Synthetic Borough 1" in text and "(30 of 120)" in text
    assert "2 of its 3 other LAs with figures shown" in text and "a year earlier" in text
    assert "Lower is better" in text or "better" in text
    assert "no figure" in view.sentence("care_leavers_eet_19_21")


def test_funnel_and_sentence():
    view = ctx.ReportView.from_measures(measures(), "SYN01", "2026-03-31")
    res = view.funnel("rereferrals_within_12m")
    assert res is not None
    assert "SYN01 sits" in view.funnel_sentence(res)
    assert sorted(res["unit"]) == ["SYN01", "SYN03", "SYN04"]  # SYN02 is suppressed: no point
    assert view.funnel("cla_at_period_end") is None
    two = measures()
    two = two[two["la_code"].isin(["SYN01", "SYN02"])]
    v2 = ctx.ReportView.from_measures(two, "SYN01", "2026-03-31")
    assert v2.funnel("rereferrals_within_12m") is None
    assert "no figure shown" in ctx.ReportView.from_measures(
        measures(), "SYN02", "2026-03-31").funnel_sentence(res)
    assert "at least three LAs" in v2.funnel_sentence(None)
    fig = v2.comparison_chart("rereferrals_within_12m")
    assert len(fig.axes[0].patches) == 1  # SYN02 suppressed, left out


def test_fit_or_reason_turns_errors_into_words():
    frame = pd.DataFrame({"a": range(10)})
    fit, why = fit_or_reason(lambda f: 1, frame, min_rows=30, what="the model")
    assert fit is None and "Too few records (10)" in why

    def boom(f):
        raise ValueError("singular")
    fit, why = fit_or_reason(boom, pd.DataFrame({"a": range(50)}), what="the model")
    assert fit is None and "could not be fitted" in why and "Traceback" not in why


def test_styled_and_grid_display():
    view = ctx.ReportView.from_measures(measures(), "SYN01", "2026-03-31")
    shown = ctx.grid_display(view.grid_table())
    assert shown["Level"].tolist().count("Children at risk of harm") == 1
    html = ctx.styled(shown, caption="Cap").to_html()
    assert "<caption>Cap</caption>" in html and "<table" in html


def test_load_inputs_without_warehouse(tmp_path):
    inputs, why = ctx.load_inputs(tmp_path / "none.duckdb")
    assert inputs is None and "not found" in why


def test_a_view_takes_only_released_figures():
    with pytest.raises(disclosure.DisclosureError):
        ctx.ReportView(measures(), "SYN01", "2026-03-31")


def three_las(rows):
    """SYN01-03, each the others' neighbour, at two periods (a year apart)."""
    out = []
    for p in ("2025-03-31", "2026-03-31"):
        out += [(la, p, m, n, den, v) for la, m, n, den, v in rows]
    return pd.DataFrame(out, columns=["la_code", "period_end", "measure_id", "numerator",
                                      "denominator", "value"])


def views(frame, las=("SYN01", "SYN02", "SYN03")):
    return [ctx.ReportView.from_measures(frame, la, "2026-03-31",
                                         comparators=[c for c in las if c != la]) for la in las]


def test_neighbour_and_all_la_pools_give_no_suppressed_count_back():
    """Finding: SYN02's page showed its neighbours at 7.1% of 49+121 and all LAs at 7.0%
    of 201; with SYN03's 9 of 121 that gave SYN01 = 3 and SYN02 = 2."""
    m = "cla_3plus_placements"
    frame = three_las([("SYN01", m, 3, 49, 3 / 49), ("SYN02", m, 2, 31, 2 / 31),
                       ("SYN03", m, 9, 121, 9 / 121)])
    vs = views(frame)
    assert vs[1].grid_table(levels=["in_care"]).iloc[0]["Statistical neighbours"] == "7.4% (1 of 2)"
    assert attack(*facts_from_views(vs, [m])) == []


def test_complement_of_a_shown_rate_is_not_revealed():
    """Finding: "90.0% (9 of 10)" revealed a count of 1."""
    m = "cla_long_term_stability"
    frame = three_las([("SYN01", m, 9, 10, 0.9), ("SYN02", m, 30, 40, 0.75),
                       ("SYN03", m, 50, 60, 50 / 60)])
    vs = views(frame)
    assert "(9 of 10)" not in vs[0].sentence(m) and "suppressed (c)" in vs[0].sentence(m)
    assert attack(*facts_from_views(vs, [m])) == []


def test_neighbour_means_do_not_pin_a_suppressed_count():
    """Finding: neighbour means pinned a suppressed cla_started to 5."""
    m = "cla_started"
    frame = three_las([("SYN01", m, 30, None, 30.0), ("SYN02", m, 5, None, 5.0),
                       ("SYN03", m, 40, None, 40.0)])
    vs = views(frame)
    assert vs[0].shown(m, "SYN02") == "c"
    assert attack(*facts_from_views(vs, [m])) == []


def test_the_year_earlier_column_goes_through_the_same_release():
    m = "cla_long_term_stability"
    frame = three_las([("SYN01", m, 30, 40, 0.75), ("SYN02", m, 30, 40, 0.75),
                       ("SYN03", m, 30, 40, 0.75)])
    frame.loc[(frame["la_code"] == "SYN01") & (frame["period_end"] == "2025-03-31"),
              ["numerator", "denominator", "value"]] = [38, 40, 0.95]
    view = views(frame)[0]
    row = view.grid_table(levels=["in_care"]).iloc[-1]
    assert row["A year earlier"] == "c"
    assert "year earlier" not in view.sentence(m)


@pytest.mark.parametrize("measure_id", ["assessments_within_45wd", "icpc_within_15wd"])
def test_timeliness_is_never_called_better_when_higher(measure_id):
    # a complex family may rightly take longer than 45 working days
    m = pd.DataFrame([("SYN01", "2026-03-31", measure_id, 150, 200, 0.75)],
                     columns=["la_code", "period_end", "measure_id", "numerator", "denominator", "value"])
    words = ctx.ReportView.from_measures(m, "SYN01", "2026-03-31").sentence(measure_id)
    assert "75.0%" in words and "Higher is better" not in words
    assert "Neither higher nor lower is better in itself" in words


def test_grid_display_writes_each_kind_once_per_level():
    """The second row of every level repeated its kind ("Performance" twice): the
    levels were blanked before the kinds' blocks were found."""
    grid = pd.DataFrame({
        "Level": ["At risk", "At risk", "At risk", "At risk", "In care", "In care"],
        "Kind": ["Performance", "Performance", "Performance", "Outcomes", "Performance", "Outcomes"],
        "Measure": ["a", "b", "c", "d", "e", "f"]})
    shown = ctx.grid_display(grid)
    assert shown["Level"].tolist() == ["At risk", "", "", "", "In care", ""]
    assert shown["Kind"].tolist() == ["Performance", "", "", "Outcomes", "Performance", "Outcomes"]
    assert shown["Measure"].tolist() == list("abcdef")


def test_model_table_shows_plain_names():
    coefs = pd.DataFrame({"term": ["moves"], "label": ["Placement moves"], "coef": [-0.0213],
                          "se": [0.004], "ci_lower": [-0.029], "ci_upper": [-0.0135],
                          "p_value": [0.0001]})
    html = ctx.model_table(coefs, caption="Attendance model", precision=4).to_html()
    for raw in ("coef", "ci_lower", "ci_upper", "p_value", ">term<", ">moves<", "Standard error"):
        assert raw not in html, raw
    for plain in ("Term", "Estimate", "95% CI lower", "95% CI upper", ">p<", "Placement moves",
                  "-0.0213"):
        assert plain in html, plain
    ors = pd.DataFrame({"label": ["Domestic abuse"], "odds_ratio": [1.52], "ci_lower": [1.1],
                        "ci_upper": [2.0]})
    shown = ctx.model_table(ors, caption="c", label="Assessment factor", precision=2).data
    assert list(shown.columns) == ["Assessment factor", "Odds ratio", "95% CI lower", "95% CI upper"]


def test_the_comparator_header_keeps_la_in_capitals():
    """Without neighbours the column is "Other LAs": ``str.capitalize`` made it "Other las"."""
    view = ctx.ReportView.from_measures(measures(), "SYN01", "2026-03-31")
    grid = view.grid_table()
    assert "Other LAs" in grid.columns and "Other las" not in grid.columns


# ---------------------------------------------------------------- what notebooks import
#: Modules that cost a report notebook seconds to import and that its cells do not need:
#: statsmodels is imported where a model is fitted (the run's pooled-model stage), the
#: ingest pipeline (pandera) where a warehouse is written, papermill where notebooks are
#: run (issue 9: a notebook at most 2x the floor of a trivial one).
HEAVY = ("scipy.stats", "seaborn", "statsmodels", "matplotlib.pyplot", "pandera", "papermill")


def notebook_imports() -> list[str]:
    """Every import statement of the report notebooks' code cells, as written (what the
    warm kernels' server imports, ``warm_kernels.notebook_imports``)."""
    from csc_outcomes import paths
    from csc_outcomes.reporting.warm_kernels import notebook_imports as imports_of

    return imports_of(sorted(paths.notebooks_dir().glob("*.ipynb")))


def test_the_notebooks_imports_leave_the_heavy_libraries_out() -> None:
    """Import what every report notebook imports, in a fresh interpreter, and list what
    came in: none of ``HEAVY`` may (the import lines are today's cells, not a list kept
    by hand). Before issue 9 all six came in."""
    import subprocess
    import sys

    imports = notebook_imports()
    assert any("reporting.sections import" in i for i in imports)  # the list is real
    code = "\n".join([*imports, "import sys",
                      f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))"])
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", f"imported by the notebooks' cells: {out.stdout}"


def test_show_figure_closes_a_pyplot_figure_and_takes_a_plain_one(monkeypatch) -> None:
    """context no longer imports pyplot; a figure made with pyplot is still closed once
    shown (else Jupyter shows it again, without alt text), and a plain Figure is shown."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    shown: list[tuple[bytes, dict]] = []
    monkeypatch.setattr(ctx.outputs, "show", lambda obj, metadata: shown.append((obj.data, metadata)))
    fig = plt.figure()
    fig.add_subplot().plot([0, 1], [1, 0])
    ctx.show_figure(fig, "a line")
    assert not plt.fignum_exists(fig.number)
    plain = Figure()
    plain.add_subplot().bar([0, 1], [2, 3])
    ctx.show_figure(plain, "two bars")
    assert [m["image/png"]["alt"] for _, m in shown] == ["a line", "two bars"]
    assert all(data.startswith(b"\x89PNG") for data, _ in shown)


def test_the_las_funnel_is_worked_out_once_for_the_same_figures_and_again_when_they_change(
        monkeypatch):
    """Every LA's report asks for the funnel over all LAs' shown figures: worked out once
    a process for the same figures, each report given its own copy (what one report
    changes reaches no other), worked out again when one figure differs, and never
    carrying a suppressed LA."""
    monkeypatch.setattr(ctx, "_FUNNELS", {})
    worked = []
    real = ctx.funnel_limits
    monkeypatch.setattr(ctx, "funnel_limits", lambda *a, **k: worked.append(1) or real(*a, **k))
    first = ctx.ReportView.from_measures(measures(), "SYN01", "2026-03-31").funnel("rereferrals_within_12m")
    first.attrs["own_label"] = "SYN01's own"
    first["note"] = "SYN01's"
    other = ctx.ReportView.from_measures(measures(), "SYN03", "2026-03-31").funnel("rereferrals_within_12m")
    assert len(worked) == 1 and other is not first
    assert "note" not in other.columns and "own_label" not in other.attrs
    assert sorted(other["unit"]) == ["SYN01", "SYN03", "SYN04"]
    assert other.target == first.target and disclosure.MARK in other.attrs
    changed = measures()
    at = (changed["la_code"] == "SYN04") & (changed["measure_id"] == "rereferrals_within_12m")
    changed.loc[at, ["numerator", "value"]] = [45, 0.5]
    again = ctx.ReportView.from_measures(changed, "SYN01", "2026-03-31").funnel("rereferrals_within_12m")
    assert len(worked) == 2
    assert again.set_index("unit").loc["SYN04", "numerator"] == 45
    assert other.set_index("unit").loc["SYN04", "numerator"] == 25
