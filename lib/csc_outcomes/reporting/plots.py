"""One seaborn theme and the kit's standard charts, drawn from released figures only.

Every chart function returns a :class:`matplotlib.figure.Figure` and never calls
``plt.show()``: notebooks display the figure they get back, and scripts save it. The
figures are built with the object API (``Figure``/``Axes``), so they work under the Agg
backend and leave pyplot's global state alone.

Disclosure: charts go into published reports as images, whose text no scan can read,
so charts only ever receive aggregate frames that went through the disclosure step.
Each chart refuses a frame that did not (:func:`disclosure.require_released`: the
measures from ``disclosure.release``, tables of counts from ``disclosure.suppress_table``,
funnels from ``ReportView.funnel``) and a frame that looks child-level: a column that
identifies a child or record, or more than one row per unit (:func:`aggregate_only`).
Suppressed figures are drawn as gaps with a ``c`` and a footnote; reference lines pool
only shown figures.

The palette is Okabe and Ito's colour-blind-safe set; the font is DejaVu Sans (always
present with matplotlib), at a size readable in a report.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib as mpl
import numpy as np
import pandas as pd
import seaborn as sns
from cycler import cycler
from matplotlib.figure import Figure

from csc_outcomes.ingest.contracts import load_contract
from csc_outcomes.keys import TABLE_SOURCE
from csc_outcomes.measures.catalogue import CATALOGUE, GROUPS, LEVELS
from csc_outcomes.reporting import disclosure
from csc_outcomes.stats.frames import LEVEL_LABELS
from csc_outcomes.stats.funnel import level_tag, limits_on_grid

__all__ = [
    "LEVEL_LABELS",
    "PALETTE",
    "aggregate_only",
    "child_level_columns",
    "coef_plot",
    "funnel_plot",
    "level_bars",
    "outcome_grid",
    "set_theme",
    "trend_chart",
]

#: Okabe-Ito colour-blind-safe palette (blue, orange, green, vermilion, purple, sky, yellow, black).
PALETTE: list[str] = [
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#D55E00",
    "#CC79A7",
    "#56B4E9",
    "#F0E442",
    "#000000",
]
_GREY = "#6E6E6E"
_HIGHLIGHT = "#D55E00"

_SUPPRESSION_NOTE = "c: suppressed to protect confidentiality (small numbers)"


# --------------------------------------------------------------------------------------
# Theme
# --------------------------------------------------------------------------------------


def set_theme(context: str = "notebook", font_scale: float = 1.1) -> None:
    """Apply the kit's seaborn theme (white grid, Okabe-Ito palette, DejaVu Sans)."""
    sns.set_theme(
        context=context,
        style="whitegrid",
        palette=PALETTE,
        font="DejaVu Sans",
        font_scale=font_scale,
        rc={
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.titleweight": "bold",
            "axes.titlelocation": "left",
            "figure.dpi": 100,
            "savefig.dpi": 150,
            "savefig.bbox": "tight",
            "legend.frameon": False,
            "axes.prop_cycle": cycler(color=PALETTE),
        },
    )


def _new_figure(figsize: tuple[float, float] = (8, 4.5)) -> tuple[Figure, Any]:
    fig = Figure(figsize=figsize, layout="constrained")
    ax = fig.add_subplot()
    return fig, ax


def _catalogue_info(measure_ids: Sequence[str]) -> pd.DataFrame:
    """level, group, label, kind, polarity of each measure, from the measure registry
    (an id it does not hold is labelled by itself, with no level, group or kind)."""
    rows = []
    for mid in measure_ids:
        m = CATALOGUE.get(mid)
        if m is None:
            rows.append({"measure_id": mid, "level": None, "group": None, "label": mid,
                         "kind": None, "polarity": "neutral"})
        else:
            rows.append({"measure_id": mid, "level": m.level, "group": m.group,
                         "label": m.label, "kind": m.kind, "polarity": m.polarity})
    return pd.DataFrame(rows, columns=["measure_id", "level", "group", "label", "kind", "polarity"])


def _pct_formatter(ax: Any, axis: str = "y") -> None:
    fmt = mpl.ticker.PercentFormatter(xmax=1, decimals=0)
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(fmt)


@functools.cache
def child_level_columns() -> frozenset[str]:
    """Names (upper-cased) of columns that make a frame child-level: every column the
    data contracts type as an identifier or a postcode, and every date of birth."""
    names = {name for table in TABLE_SOURCE
             for name, spec in load_contract(table).columns.items()
             if spec.type in ("id", "postcode") or "DOB" in name.upper() or "BIRTH" in name.upper()}
    return frozenset(n.upper() for n in names)


def aggregate_only(frame: pd.DataFrame, units: Sequence[str] | None, what: str) -> None:
    """Refuse a frame that looks child-level: a column naming a child or record
    identifier, postcode or date of birth, or more rows than units (``units``: the
    columns that name one unit; ``None``: the index; empty: rows are not units)."""
    found = [str(c) for c in frame.columns if str(c).upper() in child_level_columns()]
    if found:
        raise disclosure.DisclosureError(
            f"{what} draws only aggregate figures, but the frame has the child-level "
            f"column(s) {', '.join(found)}: aggregate (and release) it first")
    keys = frame.index.to_frame() if units is None else frame[list(units)]
    if len(keys.columns) and keys.duplicated().any():
        raise disclosure.DisclosureError(
            f"{what} draws one row per unit, but the frame has {len(frame)} rows for "
            f"{len(keys.drop_duplicates())} units: aggregate it first")


def _released_measures(frame: pd.DataFrame, what: str) -> int:
    """The threshold of a released measures table, after the checks every chart makes."""
    threshold = disclosure.require_released(frame, what)
    aggregate_only(frame, ["la_code", "period_end", "measure_id"], what)
    return threshold


# --------------------------------------------------------------------------------------
# Trend chart
# --------------------------------------------------------------------------------------


def trend_chart(
    released: pd.DataFrame,
    measure_id: str,
    la_code: str,
    *,
    reference: bool | pd.Series | None = None,
    reference_label: str = "All LAs with figures shown (pooled)",
    title: str | None = None,
) -> Figure:
    """A measure's value over ``period_end`` for one LA, from released measures.

    ``released``: :func:`disclosure.release`'s output. ``reference``: ``True`` draws a
    line pooled over the LAs whose figure is shown in each period (rates: sum of
    numerators over sum of denominators; counts: the mean per LA); a Series indexed by
    ``period_end`` draws that (e.g. published England figures). Suppressed points are
    gaps marked ``c`` on the axis; the latest shown value is labelled.
    """
    _released_measures(released, "trend_chart")
    data = released[released["measure_id"] == measure_id]
    info = _catalogue_info([measure_id]).iloc[0]
    kind = str(data["kind"].iloc[0]) if len(data) else (info["kind"] or "rate")
    la = data[data["la_code"] == la_code].sort_values("period_end")
    y = la["value"].astype(float)

    fig, ax = _new_figure()
    ax.plot(la["period_end"], y, marker="o", color=PALETTE[0], label=la_code, linewidth=2)
    supp = la[la["status"] == disclosure.SUPPRESSED]
    if len(supp):
        ax.plot(supp["period_end"], np.zeros(len(supp)), linestyle="none", marker="x",
                color=_GREY, label="c (suppressed)")
        fig.text(0.01, -0.01, _SUPPRESSION_NOTE, fontsize="small", color=_GREY, va="top")

    if reference is not None and reference is not False:
        if isinstance(reference, pd.Series):
            ref = reference.copy()
            ref.index = pd.to_datetime(ref.index)
        else:
            pooled = disclosure.pools(data)
            ref = pooled.set_index("period_end")["value"]
        ref = ref.sort_index()
        ax.plot(ref.index, ref.to_numpy(dtype=float), color=_GREY, linestyle="--",
                linewidth=1.5, label=reference_label)

    ok = y.dropna()
    if len(ok):
        ax.annotate(
            disclosure.format_value(float(ok.iloc[-1]), kind),
            xy=(la.loc[ok.index[-1], "period_end"], ok.iloc[-1]), xytext=(6, 6),
            textcoords="offset points", fontsize="small", color=PALETTE[0],
        )
    if kind == "rate":
        _pct_formatter(ax)
    ax.set_ylim(bottom=0)
    ax.set_xlabel("Period ending")
    ax.set_ylabel(info["label"] if info["label"] else measure_id)
    ax.set_title(title or f"{info['label'] or measure_id}: {la_code}")
    ax.legend(loc="best")
    fig.autofmt_xdate()
    return fig


# --------------------------------------------------------------------------------------
# Funnel plot
# --------------------------------------------------------------------------------------


def funnel_plot(
    funnel_result: pd.DataFrame,
    highlight: str | None = None,
    *,
    title: str | None = None,
    xlabel: str = "Denominator",
    ylabel: str = "Rate",
) -> Figure:
    """Funnel plot of a released funnel (``ReportView.funnel``: only LAs whose figure
    is shown are in it, so neither a point nor the centre line carries a suppressed
    count).

    Points: each unit's rate against its denominator; ``highlight`` (a unit, e.g. an
    LA code) is drawn larger in vermilion and named. Lines: the target, and the limits
    per level (95% dashed, the outermost solid).
    """
    res = funnel_result
    disclosure.require_released(res, "funnel_plot")
    aggregate_only(pd.DataFrame(res), ["unit"], "funnel_plot")
    levels = tuple(getattr(res, "levels", None) or _levels_from_columns(res))
    grid = getattr(res, "grid", None)
    if grid is None:
        valid = res[res["denominator"] > 0]
        grid = limits_on_grid(float(res["target"].iloc[0]), valid["denominator"],
                              tau2=float(res["tau2"].iloc[0]), levels=levels)
    pts = pd.DataFrame(res).dropna(subset=["value"])

    fig, ax = _new_figure((8, 5))
    ax.plot(grid["denominator"], grid["target"], color="black", linewidth=1.2, label="Target")
    styles = ["--", "-", ":", "-."]
    for i, level in enumerate(sorted(levels)):
        tag = level_tag(level)
        ls = styles[i % len(styles)]
        ax.plot(grid["denominator"], grid[f"lower_{tag}"], color=_GREY, linestyle=ls,
                linewidth=1, label=f"{level * 100:g}% limits")
        ax.plot(grid["denominator"], grid[f"upper_{tag}"], color=_GREY, linestyle=ls, linewidth=1)

    is_hi = (pts["unit"].astype(str) == str(highlight)) if highlight is not None else pd.Series(False, index=pts.index)
    others = pts[~is_hi.to_numpy()]
    ax.scatter(others["denominator"], others["value"], color=PALETTE[0], alpha=0.75, s=28,
               label="Local authorities", zorder=3)
    hi = pts[is_hi.to_numpy()]
    if len(hi):
        ax.scatter(hi["denominator"], hi["value"], color=_HIGHLIGHT, s=90, edgecolor="black",
                   zorder=4, label=str(highlight))
        ax.annotate(str(highlight), xy=(hi["denominator"].iloc[0], hi["value"].iloc[0]),
                    xytext=(8, 8), textcoords="offset points", fontweight="bold", color=_HIGHLIGHT)
    tau2 = float(res["tau2"].iloc[0]) if "tau2" in res.columns and len(res) else 0.0
    sub = (f"limits widened for overdispersion (random effects, tau\u00b2 = {tau2:.4f})"
           if tau2 > 0 else "exact binomial limits (no overdispersion adjustment)")
    ax.set_title(title or "Funnel plot", pad=20 if sub else 6)
    if sub:
        ax.text(0, 1.015, sub, transform=ax.transAxes, fontsize="small", color=_GREY, va="bottom")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    _pct_formatter(ax)
    ax.set_xlim(left=0)
    top = np.nanmax([pts["value"].max() if len(pts) else 0, grid[[c for c in grid.columns if c.startswith("upper_")]].median().max()])
    ax.set_ylim(0, min(1.0, float(top) * 1.15 + 0.02))
    ax.legend(loc="best", fontsize="small")
    return fig


def _levels_from_columns(res: pd.DataFrame) -> list[float]:
    out = []
    for c in res.columns:
        if c.startswith("lower_"):
            tag = c[len("lower_"):]
            out.append(float(tag[:2] + "." + tag[2:]) / 100 if len(tag) > 2 else float(tag) / 100)
    return out or [0.95, 0.998]


# --------------------------------------------------------------------------------------
# Counts by level of intervention
# --------------------------------------------------------------------------------------


def level_bars(
    counts: pd.DataFrame,
    *,
    title: str | None = "Assessments by level of intervention",
    ylabel: str = "Number",
    level_labels: Mapping[int, str] | None = None,
) -> Figure:
    """Bar chart of counts by level of intervention, labelled, from a released table.

    ``counts``: a table from :func:`disclosure.suppress_table` (ints and ``c``), indexed
    by level (0-3, or labels), one column per series (grouped bars, e.g. observed and
    predicted; ``ctx.level_counts`` builds it). A ``c`` gets no bar and the label ``c``.
    The numbers come suppressed, secondary suppression included, so bars and totals
    together reveal no ``c``.
    """
    disclosure.require_released(counts, "level_bars")
    aggregate_only(counts, None, "level_bars")
    labels = dict(level_labels or LEVEL_LABELS)
    fig, ax = _new_figure()
    n_series = counts.shape[1]
    width = 0.8 / n_series
    x = np.arange(len(counts))
    for j, col in enumerate(counts.columns):
        shown = counts[col].tolist()
        heights = [0.0 if v == disclosure.SUPPRESSED else float(v) for v in shown]
        bars = ax.bar(x + (j - (n_series - 1) / 2) * width, heights, width=width,
                      color=PALETTE[j % len(PALETTE)], label=str(col))
        ax.bar_label(bars, labels=[disclosure.format_value(v, "count") for v in shown],
                     padding=2, fontsize="small")
    ax.set_xticks(x, [labels.get(int(i), str(i)) if _is_int(i) else str(i) for i in counts.index])
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    if n_series > 1:
        ax.legend()
    if (counts == disclosure.SUPPRESSED).to_numpy().any():
        fig.text(0.01, -0.01, _SUPPRESSION_NOTE, fontsize="small", color=_GREY, va="top")
    ax.margins(y=0.12)
    return fig


def _is_int(v: Any) -> bool:
    try:
        return float(v).is_integer()
    except (TypeError, ValueError):
        return False


# --------------------------------------------------------------------------------------
# The report grid
# --------------------------------------------------------------------------------------


def outcome_grid(
    released: pd.DataFrame,
    la_code: str,
    period_end: Any,
    *,
    title: str | None = None,
) -> Figure:
    """The catalogue's report grid as a table figure for one LA and period.

    ``released``: :func:`disclosure.release`'s output. Columns are levels (children at
    risk of harm, in care, leaving care), rows are groups (performance, outcomes); each
    cell lists its measures with their released values (``c`` suppressed, ``z`` not
    applicable). Levels, groups and labels come from the measure registry
    (``measures.catalogue``). A measure absent from ``released`` is not listed.
    """
    _released_measures(released, "outcome_grid")
    pe = pd.Timestamp(period_end)
    rows = released[(released["la_code"] == la_code) & (released["period_end"] == pe)]
    info = _catalogue_info(list(rows["measure_id"].unique()))
    shown = rows.merge(info.drop(columns="kind"), on="measure_id", how="left")
    fig = Figure(figsize=(15, 8), layout="constrained")
    axes = fig.subplots(len(GROUPS), len(LEVELS), squeeze=False)
    for i, (group, group_label) in enumerate(GROUPS.items()):
        for j, (level, level_label) in enumerate(LEVELS.items()):
            ax = axes[i][j]
            ax.set_axis_off()
            ax.add_patch(mpl.patches.Rectangle((0, 0), 1, 1, transform=ax.transAxes,
                                               facecolor="#F2F2F2" if i == 0 else "#E8F1F8",
                                               edgecolor="none"))
            if i == 0:
                ax.set_title(level_label, loc="center")
            cell = shown[(shown["level"] == level) & (shown["group"] == group)]
            ax.text(0.03, 0.96, group_label, transform=ax.transAxes, fontweight="bold",
                    va="top", fontsize="medium")
            if cell.empty:
                ax.text(0.03, 0.82, "no measures", transform=ax.transAxes, va="top",
                        color=_GREY, fontsize="small", style="italic")
            for k, r in enumerate(cell.itertuples()):
                y = 0.84 - k * 0.085
                ax.text(0.18, y, str(r.display), transform=ax.transAxes, va="top", ha="right",
                        fontsize=9, fontweight="bold")
                ax.text(0.21, y, _wrap(str(r.label), 56), transform=ax.transAxes, va="top",
                        fontsize=9)
    fig.suptitle(title or f"{la_code}: outcomes by level, period ending {pe:%d %B %Y}")
    if (shown["display"] == disclosure.SUPPRESSED).any():
        fig.text(0.01, -0.01, _SUPPRESSION_NOTE, fontsize="small", color=_GREY, va="top")
    return fig


def _wrap(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "\u2026"


# --------------------------------------------------------------------------------------
# Coefficient plot
# --------------------------------------------------------------------------------------


def coef_plot(
    model_summary: pd.DataFrame,
    *,
    title: str | None = "Odds ratios with 95% confidence intervals",
    xlabel: str = "Odds ratio (log scale)",
    estimate: str = "odds_ratio",
    lower: str = "ci_lower",
    upper: str = "ci_upper",
    label: str | None = None,
    reference: float | None = None,
    log_scale: bool | None = None,
) -> Figure:
    """Estimates with confidence intervals, one row per term.

    ``model_summary``: a table as :func:`csc_outcomes.stats.proportionality.odds_ratio_table`
    returns (``term``, ``label``, ``odds_ratio``, ``ci_lower``, ``ci_upper``). For a
    linear model's table (``coef_table``) pass ``estimate="coef"`` (the reference line
    moves to 0 and the axis to linear unless told otherwise).
    """
    aggregate_only(model_summary, [], "coef_plot")
    df = model_summary.reset_index(drop=True)
    ratio = estimate == "odds_ratio"
    reference = (1.0 if ratio else 0.0) if reference is None else reference
    log_scale = ratio if log_scale is None else log_scale
    name_col = label or ("label" if "label" in df.columns else "term")
    df = df.sort_values(estimate)
    fig, ax = _new_figure((8, max(2.5, 0.45 * len(df) + 1.2)))
    yy = np.arange(len(df))
    est = df[estimate].to_numpy(dtype=float)
    err = np.vstack([est - df[lower].to_numpy(dtype=float), df[upper].to_numpy(dtype=float) - est])
    ax.errorbar(est, yy, xerr=err, fmt="o", color=PALETTE[0], ecolor=PALETTE[0],
                capsize=3, markersize=6)
    ax.axvline(reference, color=_GREY, linestyle="--", linewidth=1)
    ax.set_yticks(yy, df[name_col].astype(str).tolist())
    if log_scale:
        ax.set_xscale("log")
        ax.xaxis.set_major_formatter(mpl.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
        ax.xaxis.set_minor_formatter(mpl.ticker.NullFormatter())
    ax.set_xlabel(xlabel if ratio else ("Estimate" if xlabel == "Odds ratio (log scale)" else xlabel))
    if title:
        ax.set_title(title)
    ax.grid(axis="y", visible=False)
    return fig
