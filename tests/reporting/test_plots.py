"""Standard charts: each returns a Figure with the expected artists, and no label 1-5."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure

from csc_outcomes.measures.catalogue import GROUPS, LEVELS
from csc_outcomes.reporting import context as ctx
from csc_outcomes.reporting import disclosure, plots

SMALL = {"1", "2", "3", "4", "5"}


def _label_texts(fig: Figure) -> list[str]:
    """Every text drawn as a label (titles, annotations, bar labels, legends, notes),
    not the axis tick labels (which are the scale, not data)."""
    texts = [t.get_text() for t in fig.texts]
    for ax in fig.axes:
        texts += [t.get_text() for t in ax.texts]
        texts += [ax.get_title(loc) for loc in ("left", "center", "right")]
        texts += [ax.get_xlabel(), ax.get_ylabel()]
        leg = ax.get_legend()
        if leg is not None:
            texts += [t.get_text() for t in leg.get_texts()]
    return [t.strip() for t in texts if t and t.strip()]


def _no_small_labels(fig: Figure) -> None:
    bad = [t for t in _label_texts(fig) if t.replace(",", "") in SMALL]
    assert bad == [], bad


@pytest.fixture(scope="module")
def measures() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    rows = []
    pes = pd.to_datetime(["2022-03-31", "2023-03-31", "2024-03-31", "2025-03-31"])
    for i in range(1, 13):
        la = f"SYN{i:02d}"
        for pe in pes:
            den = int(rng.integers(60, 400))
            num = int(rng.binomial(den, 0.22))
            rows.append((la, pe, "rereferrals_within_12m", num, den, num / den))
            cnt = int(rng.integers(20, 90))
            rows.append((la, pe, "referrals", cnt, np.nan, cnt))
            rows.append((la, pe, "cla_long_term_stability", 30, 40, 0.75))
    df = pd.DataFrame(rows, columns=["la_code", "period_end", "measure_id", "numerator", "denominator", "value"])
    # plant small numbers for SYN01
    small_rate = (df.la_code == "SYN01") & (df.measure_id == "rereferrals_within_12m") & (df.period_end == pes[1])
    df.loc[small_rate, ["numerator", "denominator", "value"]] = [3, 40, 3 / 40]
    small_count = (df.la_code == "SYN01") & (df.measure_id == "referrals") & (df.period_end == pes[-1])
    df.loc[small_count, ["numerator", "value"]] = [4, 4]
    return df


@pytest.fixture(scope="module")
def released(measures) -> pd.DataFrame:
    return disclosure.release(measures)


def test_set_theme_uses_colour_blind_palette():
    plots.set_theme()
    cycle = matplotlib.rcParams["axes.prop_cycle"].by_key()["color"]
    assert [c.lower() for c in cycle[:3]] == [c.lower() for c in plots.PALETTE[:3]]


def test_trend_chart(released):
    fig = plots.trend_chart(released, "rereferrals_within_12m", "SYN01", reference=True)
    assert isinstance(fig, Figure) and len(fig.axes) == 1
    ax = fig.axes[0]
    labels = [line.get_label() for line in ax.get_lines()]
    assert "SYN01" in labels and "All LAs with figures shown (pooled)" in labels
    main = next(line for line in ax.get_lines() if line.get_label() == "SYN01")
    y = np.asarray(main.get_ydata(), dtype=float)
    assert len(y) == 4 and np.isnan(y[1])  # the small numerator leaves a gap
    assert any("suppressed" in t for t in _label_texts(fig))
    _no_small_labels(fig)


def test_trend_chart_hides_small_counts(released):
    fig = plots.trend_chart(released, "referrals", "SYN01")
    main = fig.axes[0].get_lines()[0]
    y = np.asarray(main.get_ydata(), dtype=float)
    assert np.isnan(y[-1])
    _no_small_labels(fig)
    # the latest plotted value is labelled, and it is not the suppressed count
    assert any(t == f"{int(y[-2]):,}" for t in _label_texts(fig))


def test_trend_chart_reference_pools_only_shown_figures(measures, released):
    fig = plots.trend_chart(released, "rereferrals_within_12m", "SYN02", reference=True)
    ref = next(line for line in fig.axes[0].get_lines() if "pooled" in line.get_label())
    second = measures[(measures.period_end == "2023-03-31")
                      & (measures.measure_id == "rereferrals_within_12m")
                      & (measures.la_code != "SYN01")]  # SYN01's 3 of 40 is suppressed
    assert ref.get_ydata()[1] == pytest.approx(second.numerator.sum() / second.denominator.sum())


def test_trend_chart_with_reference_series(released):
    ref = pd.Series([0.2, 0.21, 0.22, 0.23], index=pd.to_datetime(["2022-03-31", "2023-03-31", "2024-03-31", "2025-03-31"]))
    fig = plots.trend_chart(released, "rereferrals_within_12m", "SYN02", reference=ref, reference_label="England")
    assert "England" in [line.get_label() for line in fig.axes[0].get_lines()]


def test_funnel_plot(measures):
    last = measures[measures.period_end == "2025-03-31"].copy()
    small = (last.la_code == "SYN05") & (last.measure_id == "rereferrals_within_12m")
    last.loc[small, ["numerator", "denominator", "value"]] = [2, 30, 2 / 30]  # not drawn
    view = ctx.ReportView.from_measures(last, "SYN03", "2025-03-31")
    res = view.funnel("rereferrals_within_12m")
    fig = plots.funnel_plot(res, highlight="SYN03")
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    scatters = [c for c in ax.collections if isinstance(c, PathCollection)]
    n_points = sum(len(c.get_offsets()) for c in scatters)
    assert n_points == 11
    assert "SYN03" in [t.get_text() for t in ax.texts]
    lines = {line.get_label() for line in ax.get_lines()}
    assert {"Target: all LAs pooled", "95% limits", "99.8% limits"} <= lines
    _no_small_labels(fig)


def test_funnel_plot_refuses_a_funnel_of_raw_rows(measures):
    from csc_outcomes.stats.funnel import funnel_limits

    last = measures[(measures.period_end == "2025-03-31") & (measures.measure_id == "rereferrals_within_12m")]
    with pytest.raises(disclosure.DisclosureError):
        plots.funnel_plot(funnel_limits(last["numerator"], last["denominator"]))


def test_level_bars_labels_suppressed_counts():
    table = disclosure.suppress_table(pd.DataFrame({"Number": [120, 40, 3, 0]}), rows=False)
    fig = plots.level_bars(table)
    ax = fig.axes[0]
    assert len(ax.patches) == 4
    heights = [p.get_height() for p in ax.patches]
    assert heights == [120, 0, 0, 0]  # 3 and, so the total does not give it, 40
    texts = [t.get_text() for t in ax.texts]
    assert texts == ["120", "c", "c", "0"]
    assert [t.get_text() for t in ax.get_xticklabels()] == list(plots.LEVEL_LABELS.values())
    _no_small_labels(fig)


def test_level_bars_grouped_from_level_counts():
    counts = ctx.level_counts({"Observed": pd.Series([0] * 30 + [1] * 12 + [2] * 8 + [3] * 2),
                               "Predicted": pd.Series([0] * 28 + [1] * 15 + [2] * 9)})
    fig = plots.level_bars(counts)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert texts == ["30", "12", "c", "c", "28", "15", "9", "0"]
    assert len(fig.axes[0].patches) == 8
    _no_small_labels(fig)


def test_level_bars_refuse_raw_counts_and_child_level_frames():
    """Finding: bars drawn from raw counts gave a c as 141 - 96 - 41 - 0 = 4."""
    with pytest.raises(disclosure.DisclosureError, match="released"):
        plots.level_bars(pd.DataFrame({"Observed": [96, 41, 4, 0]}))
    rows = disclosure.mark_released(pd.DataFrame({"LAchildID": ["a", "b"], "level": [0, 1]}), 5)
    with pytest.raises(disclosure.DisclosureError, match="child-level"):
        plots.level_bars(rows)


def test_charts_refuse_more_rows_than_units(released):
    doubled = disclosure.mark_released(pd.concat([released, released]), 5)
    with pytest.raises(disclosure.DisclosureError, match="rows for"):
        plots.trend_chart(doubled, "referrals", "SYN01")
    with pytest.raises(disclosure.DisclosureError, match="released"):
        plots.outcome_grid(_unmarked(released), "SYN01", "2025-03-31")


def _unmarked(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    out.attrs.clear()
    return out


def test_outcome_grid(released):
    fig = plots.outcome_grid(released, "SYN01", "2025-03-31")
    assert len(fig.axes) == 6
    titles = [ax.get_title() for ax in fig.axes[:3]]
    assert titles == list(plots.LEVELS.values())  # the registry's levels, in order
    all_text = _label_texts(fig)
    assert "c" in all_text  # the planted count of 4 referrals is suppressed
    assert "75.0%" in all_text
    _no_small_labels(fig)


def test_coef_plot():
    table = pd.DataFrame(
        {
            "term": ["f1", "f2", "f3"],
            "label": ["Domestic abuse", "Mental health", "Alcohol"],
            "odds_ratio": [1.5, 0.8, 2.2],
            "ci_lower": [1.1, 0.6, 1.5],
            "ci_upper": [2.0, 1.1, 3.1],
        }
    )
    fig = plots.coef_plot(table)
    ax = fig.axes[0]
    assert ax.get_xscale() == "log"
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Mental health", "Domestic abuse", "Alcohol"]
    lines = ax.get_lines()
    assert any(len(line.get_xdata()) == 2 and np.allclose(line.get_xdata(), [1, 1]) for line in lines)  # reference at 1
    _no_small_labels(fig)


def test_figures_are_not_registered_with_pyplot(measures):
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    plots.level_bars(disclosure.suppress_table(pd.DataFrame({"n": [10, 10, 10, 10]})))
    assert plt.get_fignums() == before


def test_funnel_plot_legend_names_the_england_average_and_the_own_figure():
    from csc_outcomes.reporting import published_funnel
    from csc_outcomes.reporting.published_data import load_published

    m = pd.DataFrame([("SYN01", "2026-03-31", "rereferrals_within_12m", 50, 200, 0.25)],
                     columns=["la_code", "period_end", "measure_id", "numerator", "denominator", "value"])
    view = ctx.ReportView.from_measures(m, "SYN01", "2026-03-31", la_name="Synthetia")
    fig = plots.funnel_plot(published_funnel.published_funnel(view, "rereferrals_within_12m",
                                                              load_published()), highlight="SYN01")
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert "England average (2025, published)" in legend
    assert "Local authorities (2025, published)" in legend
    assert "Synthetia (own figure, March 2026)" in legend


def test_trend_panels_one_panel_per_measure(released):
    from csc_outcomes.reporting import trends

    frame = released[released["status"] == "shown"].rename(columns={"la_code": "series"})
    frame = disclosure.mark_released(frame[trends.COLUMNS].copy(), 5)
    fig = plots.trend_panels(frame, title="Trends")
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == frame["measure_id"].nunique()
    with pytest.raises(disclosure.DisclosureError):
        plots.trend_panels(pd.DataFrame(frame), title="raw")


def test_percent_ticks_keep_the_half_percent():
    """2.5% was labelled "2%" (PercentFormatter with no decimals)."""
    fmt = plots.PercentTicks()
    assert fmt.format_ticks([0.0, 0.025, 0.05, 0.075]) == ["0.0%", "2.5%", "5.0%", "7.5%"]
    assert fmt.format_ticks([0.0, 0.1, 0.2]) == ["0%", "10%", "20%"]
    assert fmt.format_ticks([0.0, 0.0125, 0.025]) == ["0.00%", "1.25%", "2.50%"]


def _visible_xticks(fig):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig).draw()
    ax = fig.axes[0]
    lo, hi = ax.get_xlim()
    return [t.get_text() for t in ax.get_xticklabels()
            if t.get_text() and lo <= t.get_position()[0] <= hi]


def test_coef_plot_has_several_ticks_on_a_narrow_ratio_range():
    """Odds ratios between 0.8 and 1.3 got one tick ("1") on the log axis."""
    table = pd.DataFrame({"term": ["a", "b"], "label": ["A", "B"], "odds_ratio": [0.9, 1.15],
                          "ci_lower": [0.82, 1.02], "ci_upper": [0.99, 1.28]})
    ticks = _visible_xticks(plots.coef_plot(table))
    assert len(ticks) >= 3, ticks
    wide = table.assign(ci_lower=[0.05, 1.0], ci_upper=[0.9, 30.0])
    assert len(_visible_xticks(plots.coef_plot(wide))) >= 3
    # a near-zero estimate (a level with almost no re-referrals) spans ten decades
    extreme = table.assign(odds_ratio=[2e-9, 1.06], ci_lower=[1e-10, 0.99], ci_upper=[4e-8, 7.7])
    assert len(_visible_xticks(plots.coef_plot(extreme))) >= 3


def test_outcome_grid_table_is_text_with_full_labels(released):
    grid = plots.outcome_grid_table(released, "SYN01", "2025-03-31")
    assert list(grid.index) == list(LEVELS.values())
    assert list(grid.columns) == list(GROUPS.values())
    performance_at_risk = grid.loc[LEVELS["at_risk"], GROUPS["performance"]]
    assert "<strong>c</strong> Referrals" in performance_at_risk  # the planted 4 is suppressed
    assert "Re-referrals within 12 months" in performance_at_risk
    assert "<strong>75.0%</strong> Long-term placement stability" in grid.loc[
        LEVELS["in_care"], GROUPS["outcome"]]
    assert grid.loc[LEVELS["leaving_care"], GROUPS["performance"]] == "<em>no measures</em>"
    assert not any("\u2026" in cell for cell in grid.to_numpy().ravel())  # nothing cut short
    with pytest.raises(disclosure.DisclosureError, match="released"):
        plots.outcome_grid_table(_unmarked(released), "SYN01", "2025-03-31")


def _trend_frame(rows: list[tuple[str, str, str, float]]) -> pd.DataFrame:
    from csc_outcomes.reporting import trends

    frame = pd.DataFrame(rows, columns=trends.COLUMNS)
    frame["period_end"] = pd.to_datetime(frame["period_end"])
    return disclosure.mark_released(frame, 5)


def _drawn(fig: Figure):
    """Draw a figure on an Agg canvas (a bare ``Figure`` has none) and return the renderer,
    so text positions are those of the saved image."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return canvas.get_renderer()


def _line_colours(fig: Figure) -> dict[str, str]:
    """The colour of each series' line, from the figure's legend."""
    import matplotlib.colors as mcolors

    handles = fig.legends[0].legend_handles
    return {h.get_label(): mcolors.to_hex(h.get_color()) for h in handles}


def test_trend_panels_give_a_series_role_one_colour_in_every_figure():
    """In "Children leaving care" the own series came first and took England's blue:
    colours went by first appearance. Now by role, with every line in its legend."""
    eng, own = "England (published)", "Synthetia (own figures)"
    near, hart = "Statistical neighbours' median (published)", "Hartlepool (published)"
    first = _trend_frame([("rereferrals_within_12m", eng, "2024-03-31", 0.2),
                          ("rereferrals_within_12m", own, "2025-03-31", 0.3),
                          ("rereferrals_within_12m", near, "2024-03-31", 0.25)])
    second = _trend_frame([("care_leavers_eet_19_21", own, "2025-03-31", 0.5),
                           ("care_leavers_eet_19_21", hart, "2024-03-31", 0.4),
                           ("care_leavers_eet_19_21", eng, "2024-03-31", 0.55)])
    a = _line_colours(plots.trend_panels(first, title="a"))
    b = _line_colours(plots.trend_panels(second, title="b"))
    assert a[eng] == b[eng] and a[own] == b[own]
    assert len({a[eng], a[own], a[near], b[hart]}) == 4
    fig = plots.trend_panels(second, title="b")
    drawn = {line.get_label(): line.get_color() for line in fig.axes[0].get_lines()}
    assert drawn[own] == plots._ROLE_STYLES["own"]["color"]


def test_an_empty_trend_panel_says_no_figures_and_has_no_date_axis():
    """A measure whose figures are all suppressed or missing drew a 1970 date axis."""
    frame = _trend_frame([("rereferrals_within_12m", "England (published)", "2024-03-31", 0.2),
                          ("icpc_within_15wd", "Synthetia (own figures)", "2025-03-31", np.nan)])
    fig = plots.trend_panels(frame, title="t")
    _drawn(fig)
    empty = fig.axes[1]
    ticks = [t.get_text() for t in empty.get_xticklabels() + empty.get_yticklabels()]
    assert not any("1970" in t or "Jan-01" in t for t in ticks), ticks
    assert empty.get_xticks().size == 0
    assert [t.get_text() for t in empty.texts] == ["no figures"]
    assert fig.axes[0].get_xticks().size > 0


def _title_text(ax):
    """The title's text artist, wherever the theme puts it (the kit's is on the left)."""
    from matplotlib.text import Text

    wanted = next(t for t in (ax.get_title(loc) for loc in ("left", "center", "right")) if t)
    return next(c for c in ax.get_children() if isinstance(c, Text) and c.get_text() == wanted)


@pytest.mark.parametrize("theme", [False, True])
def test_trend_panel_titles_do_not_overlap(theme):
    """Long titles ("Assessments completed within 45 working days") ran into the next
    panel's, at the report's theme and size and in a PDF."""
    ids = ["assessments_within_45wd", "icpc_within_15wd", "cpp_started", "cpp_ended_2y_plus",
           "care_leavers_eet_19_21", "cpp_second_or_subsequent"]
    frame = _trend_frame([(m, "England (published)", y, 0.5)
                          for m in ids for y in ("2023-03-31", "2024-03-31")])
    with matplotlib.rc_context():
        if theme:
            plots.set_theme()
        fig = plots.trend_panels(frame, title="Children at risk of harm: trends")
        renderer = _drawn(fig)
        boxes = [_title_text(ax).get_window_extent(renderer) for ax in fig.axes
                 if ax.get_visible()]
        panels = [ax.get_window_extent(renderer) for ax in fig.axes if ax.get_visible()]
    assert len(boxes) == len(ids)
    for i, box in enumerate(boxes):
        for j, other in enumerate(boxes):
            if i < j:
                assert not box.overlaps(other), (i, j)
        for j, panel in enumerate(panels):
            if i != j:
                assert not box.overlaps(panel), (i, j)


def test_funnel_legend_is_outside_the_axes_and_the_la_stands_out(measures):
    """The legend sat over the points and the highlighted LA's label was lost among them."""
    last = measures[measures.period_end == "2025-03-31"]
    view = ctx.ReportView.from_measures(last, "SYN03", "2025-03-31")
    fig = plots.funnel_plot(view.funnel("rereferrals_within_12m"), highlight="SYN03")
    renderer = _drawn(fig)
    ax = fig.axes[0]
    legend_box = ax.get_legend().get_window_extent(renderer)
    assert legend_box.y1 < ax.get_window_extent(renderer).y0  # wholly below the axes
    assert legend_box.y0 >= 0  # and still in the figure
    label = next(t for t in ax.texts if t.get_text() == "SYN03")
    assert label.get_bbox_patch() is not None
    points = [c for c in ax.collections if isinstance(c, PathCollection)]
    own = next(c for c in points if c.get_label() != "Local authorities")
    rest = next(c for c in points if c.get_label() == "Local authorities")
    assert own.get_sizes()[0] >= 4 * rest.get_sizes()[0]
    assert label.get_zorder() > own.get_zorder() > rest.get_zorder()


def test_coef_plot_draws_limits_that_exclude_the_estimate():
    """Observed/expected ratios come with 95% limits around 1: an LA above its upper limit
    made errorbar raise "'xerr' must not contain negative values" (the report failed)."""
    ratios = pd.DataFrame({"label": ["E1", "E2", "E3"], "ratio": [1.6, 0.95, 0.5],
                           "ci_lower": [0.8, 0.7, 0.75], "ci_upper": [1.25, 1.4, 1.3]})
    fig = plots.coef_plot(ratios, estimate="ratio", reference=1.0, log_scale=False)
    ax = fig.axes[0]
    points = [line for line in ax.get_lines() if line.get_marker() == "o"]
    assert len(points) == 1 and sorted(points[0].get_xdata()) == [0.5, 0.95, 1.6]
    bars = [seg for coll in ax.collections for seg in coll.get_segments()]
    assert sorted((round(s[0][0], 9), round(s[1][0], 9)) for s in bars) == [
        (0.7, 1.4), (0.75, 1.3), (0.8, 1.25)]  # each interval from its own ends


def test_theme_is_seaborns_without_importing_seaborn():
    """set_theme writes seaborn's theme out (a notebook no longer imports seaborn, which
    costs seconds): the rcParams equal those of seaborn's own set_theme with the kit's
    arguments, all but its "rocket" image colormap, which no chart uses."""
    import seaborn as sns

    with matplotlib.rc_context():
        sns.set_theme(context="notebook", style="whitegrid", palette=plots.PALETTE,
                      font="DejaVu Sans", font_scale=1.1, rc=plots.KIT_RC)
        seaborns = dict(matplotlib.rcParams)
    with matplotlib.rc_context():
        plots.set_theme()
        ours = dict(matplotlib.rcParams)
    differ = {k for k in seaborns if seaborns[k] != ours[k]}
    assert differ == {"image.cmap"}, {k: (seaborns[k], ours[k]) for k in differ}


def test_trend_panels_leave_out_a_series_with_no_figure_shown():
    """An LA whose own figures were all suppressed for a level's measures stopped the
    cohort report (KeyError: 'SYN01 (own figures)'): its series had rows, all empty, and
    no style. Now it is not drawn and not in the legend; the other series are."""
    eng, own = "England (published)", "Synthetia (own figures)"
    frame = _trend_frame([("rereferrals_within_12m", eng, "2024-03-31", 0.2),
                          ("rereferrals_within_12m", own, "2025-03-31", float("nan")),
                          ("rereferrals_within_12m", own, "2026-03-31", float("nan"))])
    fig = plots.trend_panels(frame, title="a")
    assert [line.get_label() for line in fig.axes[0].get_lines()] == [eng]
    assert set(_line_colours(fig)) == {eng}


def test_trend_panels_placed_by_hand_keep_every_title_label_and_legend_inside():
    """The panels are placed by hand (``panel_layout``), not measured by constrained layout:
    every catalogue measure's title (up to three wrapped lines), every tick label, the
    figure's title and its legend must still lie inside the figure and clear of each other,
    with four series (two legend rows) and the report's theme."""
    from csc_outcomes.measures.catalogue import CATALOGUE

    series = ["England (published)", "Synthetia (own figures)", "Hartlepool (published)",
              "Statistical neighbours' median (published)"]
    frame = _trend_frame([(m, s, y, 0.125) for m in CATALOGUE for s in series
                          for y in ("2019-03-31", "2025-03-31")])
    with matplotlib.rc_context():
        plots.set_theme()
        fig = plots.trend_panels(frame, title="Every measure: trends")
        assert isinstance(fig, plots.PlacedFigure) and fig.get_layout_engine() is None
        renderer = _drawn(fig)
        whole = fig.bbox
        # each panel with what is drawn of its title and tick labels (ticks outside the
        # axis' view are not drawn)
        drawn = [ax.get_tightbbox(renderer) for ax in fig.axes]
        titles = [_title_text(ax).get_window_extent(renderer) for ax in fig.axes]
        panels = [ax.get_window_extent(renderer) for ax in fig.axes]
        legend = fig.legends[0].get_window_extent(renderer)
        heading = fig._suptitle.get_window_extent(renderer)
    assert len(panels) == len(CATALOGUE)
    assert len({len(t.get_text().splitlines()) for t in
                (_title_text(ax) for ax in fig.axes)}) == 3  # one, two and three lines
    for box in [*drawn, legend, heading]:
        assert whole.x0 - 0.5 <= box.x0 and box.x1 <= whole.x1 + 0.5, box
        assert whole.y0 - 0.5 <= box.y0 and box.y1 <= whole.y1 + 0.5, box
    for i, box in enumerate(drawn):
        assert not box.overlaps(heading) and not titles[i].overlaps(panels[i]), i
        for j, other in enumerate(drawn):
            if i < j:
                assert not box.overlaps(other), (i, j)
    assert not any(legend.overlaps(p) for p in panels)


def test_panel_layout_makes_a_row_as_tall_as_its_longest_title():
    one, three = "Short", "A title\nof three\nlines"
    size, boxes = plots.panel_layout([one, one, one, three], 2, legend_rows=1)
    (_, h1), (_, h3) = size, plots.panel_layout([one, one, one, one], 2, legend_rows=1)[0]
    assert h1 - h3 == pytest.approx(2 * plots._PANEL_INCHES["title_line"])
    assert len(boxes) == 4 and len({round(b[3], 9) for b in boxes}) == 1  # axes all alike
    assert boxes[0][1] == boxes[1][1] > boxes[2][1] == boxes[3][1]  # two rows of two


def _ratios(values: list[float | None], flags: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame({"label": [f"LA{i}" for i in range(len(values))],
                          "ratio": [np.nan if v is None else v for v in values],
                          "ci_lower": 0.9, "ci_upper": 1.1, "flag": flags})
    return disclosure.mark_released(frame, 5)


def test_ranked_ratios_draw_one_point_per_shown_la_in_rank_order_and_mark_the_la():
    """153 LAs made the old chart (a labelled row each) 70 inches tall, the LA lost in it."""
    ratios = _ratios([1.3, None, 0.7, 1.0], ["above", "c", "below", "inside"])
    fig = plots.ranked_ratios(ratios, "LA3", title="t")
    ax = fig.axes[0]
    points = [c for c in ax.collections if isinstance(c, PathCollection)]
    drawn = np.concatenate([c.get_offsets() for c in points[:2]])
    assert sorted(map(tuple, drawn.tolist())) == [(1.0, 0.7), (2.0, 1.0), (3.0, 1.3)]
    assert points[2].get_offsets().tolist() == [[2.0, 1.0]]  # LA3, ranked second
    assert [t.get_text() for t in ax.get_xticklabels()] == ["LA2", "LA3", "LA0"]
    assert ax.get_xlabel() == "Local authorities ranked by ratio (3 shown; 1 not shown: small numbers)"
    assert [t.get_text() for t in ax.texts] == ["LA3"]
    with pytest.raises(disclosure.DisclosureError):
        plots.ranked_ratios(pd.DataFrame(ratios), "LA3", title="raw")


def test_ranked_ratios_name_no_la_under_the_axis_when_there_are_many():
    many = _ratios([1 + i / 100 for i in range(40)], ["inside"] * 40)
    fig = plots.ranked_ratios(many, "LA39", title="t")
    assert fig.get_size_inches().tolist() == [8.0, 4.5]
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "Local authorities: outside their limits" not in legend  # none is: not listed
    assert "Local authorities: inside their limits" in legend
    assert not [t for t in fig.axes[0].get_xticklabels() if t.get_text()]
    assert [t.get_text() for t in fig.axes[0].texts] == ["LA39"]


def test_a_long_coefficient_plot_title_stays_inside_the_figure():
    """The proportionality report's "Needs associated with a higher level of
    intervention (the 12 largest of 40)" ran off the right edge, after long labels."""
    table = pd.DataFrame({"label": [f"Child criminal exploitation (24A) {i}" for i in range(12)],
                          "odds_ratio": np.linspace(1.1, 3.0, 12), "ci_lower": 1.0, "ci_upper": 3.5})
    with matplotlib.rc_context():
        plots.set_theme()
        fig = plots.coef_plot(table, title="Needs associated with a higher level of "
                                           "intervention (the 12 largest of 40)")
        renderer = _drawn(fig)
        title = _title_text(fig.axes[0]).get_window_extent(renderer)
    assert fig.bbox.x0 <= title.x0 and title.x1 <= fig.bbox.x1, (title, fig.bbox)
