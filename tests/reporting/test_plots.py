"""Standard charts: each returns a Figure with the expected artists, and no label 1-5."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure

from csc_outcomes.reporting import plots
from csc_outcomes.stats.funnel import funnel_limits

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


def test_set_theme_uses_colour_blind_palette():
    plots.set_theme()
    cycle = matplotlib.rcParams["axes.prop_cycle"].by_key()["color"]
    assert [c.lower() for c in cycle[:3]] == [c.lower() for c in plots.PALETTE[:3]]


def test_trend_chart(measures):
    fig = plots.trend_chart(measures, "rereferrals_within_12m", "SYN01", reference=True)
    assert isinstance(fig, Figure) and len(fig.axes) == 1
    ax = fig.axes[0]
    labels = [line.get_label() for line in ax.get_lines()]
    assert "SYN01" in labels and "All LAs (pooled)" in labels
    main = next(line for line in ax.get_lines() if line.get_label() == "SYN01")
    y = np.asarray(main.get_ydata(), dtype=float)
    assert len(y) == 4 and np.isnan(y[1])  # the small numerator leaves a gap
    assert any("suppressed" in t for t in _label_texts(fig))
    _no_small_labels(fig)


def test_trend_chart_hides_small_counts(measures):
    fig = plots.trend_chart(measures, "referrals", "SYN01")
    main = fig.axes[0].get_lines()[0]
    y = np.asarray(main.get_ydata(), dtype=float)
    assert np.isnan(y[-1])
    _no_small_labels(fig)
    # the latest plotted value is labelled, and it is not the suppressed count
    assert any(t == f"{int(y[-2]):,}" for t in _label_texts(fig))


def test_trend_chart_with_reference_series(measures):
    ref = pd.Series([0.2, 0.21, 0.22, 0.23], index=pd.to_datetime(["2022-03-31", "2023-03-31", "2024-03-31", "2025-03-31"]))
    fig = plots.trend_chart(measures, "rereferrals_within_12m", "SYN02", reference=ref, reference_label="England")
    assert "England" in [line.get_label() for line in fig.axes[0].get_lines()]


def test_funnel_plot(measures):
    last = measures[(measures.period_end == "2025-03-31") & (measures.measure_id == "rereferrals_within_12m")]
    last = last.set_index("la_code")
    last.loc["SYN05", ["numerator", "denominator"]] = [2, 30]  # small: must not be drawn
    res = funnel_limits(last["numerator"], last["denominator"], method="additive")
    fig = plots.funnel_plot(res, highlight="SYN03")
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    scatters = [c for c in ax.collections if isinstance(c, PathCollection)]
    n_points = sum(len(c.get_offsets()) for c in scatters)
    assert n_points == len(last) - 1
    assert "SYN03" in [t.get_text() for t in ax.texts]
    lines = {line.get_label() for line in ax.get_lines()}
    assert {"Target", "95% limits", "99.8% limits"} <= lines
    _no_small_labels(fig)


def test_funnel_plot_from_plain_dataframe_copy(measures):
    last = measures[(measures.period_end == "2025-03-31") & (measures.measure_id == "rereferrals_within_12m")]
    res = pd.DataFrame(funnel_limits(last["numerator"], last["denominator"], method="multiplicative"))
    fig = plots.funnel_plot(res)
    assert len(fig.axes[0].get_lines()) == 5  # target + 2 levels x 2 sides


def test_level_bars_labels_suppressed_counts():
    fig = plots.level_bars(pd.Series({0: 120, 1: 40, 2: 3, 3: 0}))
    ax = fig.axes[0]
    assert len(ax.patches) == 4
    heights = [p.get_height() for p in ax.patches]
    assert heights == [120, 40, 0, 0]
    texts = [t.get_text() for t in ax.texts]
    assert texts == ["120", "40", "c", "0"]
    assert [t.get_text() for t in ax.get_xticklabels()] == list(plots.LEVEL_LABELS.values())
    _no_small_labels(fig)


def test_level_bars_grouped_and_from_observations():
    obs = pd.DataFrame({"level": [0] * 30 + [1] * 12 + [2] * 8 + [3] * 2})
    fig = plots.level_bars(obs)
    assert [t.get_text() for t in fig.axes[0].texts] == ["30", "12", "8", "c"]
    wide = pd.DataFrame({"Observed": [30, 12, 8, 7], "Predicted": [28, 15, 9, 5]}, index=[0, 1, 2, 3])
    fig2 = plots.level_bars(wide)
    assert len(fig2.axes[0].patches) == 8
    _no_small_labels(fig2)


def test_outcome_grid(measures):
    fig = plots.outcome_grid(measures, "SYN01", "2025-03-31")
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
    plots.level_bars(pd.Series({0: 10, 1: 10, 2: 10, 3: 10}))
    assert plt.get_fignums() == before
