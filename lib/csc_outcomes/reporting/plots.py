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
import html
import textwrap
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib as mpl
import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from cycler import cycler
from matplotlib.figure import Figure

from csc_outcomes.ingest.contracts import load_contract
from csc_outcomes.keys import TABLE_SOURCE
from csc_outcomes.measures.catalogue import CATALOGUE, GROUPS, LEVELS
from csc_outcomes.reporting import disclosure, trends
from csc_outcomes.stats.frames import LEVEL_LABELS
from csc_outcomes.stats.funnel import level_tag, limits_on_grid

__all__ = [
    "LEVEL_LABELS",
    "PALETTE",
    "PercentTicks",
    "aggregate_only",
    "child_level_columns",
    "coef_plot",
    "funnel_plot",
    "level_bars",
    "outcome_grid",
    "outcome_grid_table",
    "set_theme",
    "trend_chart",
    "trend_panels",
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


#: The rcParams of seaborn's theme as the kit sets it, ``sns.set_theme(context="notebook",
#: style="whitegrid", palette=PALETTE, font="DejaVu Sans", font_scale=1.1)``, written out:
#: importing seaborn costs a notebook seconds (it imports pyplot and scipy.stats), and
#: the theme is all the kit took from it. ``tests/reporting/test_plots.py`` checks these
#: against seaborn's own. Left out: its "rocket" image colormap (no chart draws an image,
#: and the name exists only once seaborn is imported).
SEABORN_THEME: dict[Any, Any] = {
    # context "notebook", fonts scaled by 1.1
    "axes.linewidth": 1.25, "grid.linewidth": 1, "lines.linewidth": 1.5,
    "lines.markersize": 6, "patch.linewidth": 1,
    "xtick.major.width": 1.25, "ytick.major.width": 1.25,
    "xtick.minor.width": 1, "ytick.minor.width": 1,
    "xtick.major.size": 6, "ytick.major.size": 6, "xtick.minor.size": 4, "ytick.minor.size": 4,
    "font.size": 12 * 1.1, "axes.labelsize": 12 * 1.1, "axes.titlesize": 12 * 1.1,
    "xtick.labelsize": 11 * 1.1, "ytick.labelsize": 11 * 1.1, "legend.fontsize": 11 * 1.1,
    "legend.title_fontsize": 12 * 1.1,
    # style "whitegrid", font DejaVu Sans
    "figure.facecolor": "white", "axes.labelcolor": ".15",
    "xtick.direction": "out", "ytick.direction": "out", "xtick.color": ".15", "ytick.color": ".15",
    "axes.axisbelow": True, "grid.linestyle": "-", "text.color": ".15",
    "font.family": "DejaVu Sans",
    "font.sans-serif": ["Arial", "DejaVu Sans", "Liberation Sans", "Bitstream Vera Sans", "sans-serif"],
    "lines.solid_capstyle": "round", "patch.edgecolor": "w", "patch.force_edgecolor": True,
    "xtick.top": False, "ytick.right": False, "axes.grid": True, "axes.facecolor": "white",
    "axes.edgecolor": ".8", "grid.color": ".8",
    "axes.spines.left": True, "axes.spines.bottom": True,
    "xtick.bottom": False, "ytick.left": False,
}

#: The kit's own settings over seaborn's theme.
KIT_RC: dict[Any, Any] = {
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    # a fixed title height: left to matplotlib ("auto"), every axes measured its tick
    # labels at every draw to see whether the title must rise above ticks at the top,
    # and the kit's charts have none there (a quarter of drawing a trend figure)
    "axes.titley": 1.0,
    "figure.dpi": 100,
    "savefig.dpi": 150,
    "savefig.bbox": "tight",
    "legend.frameon": False,
    "axes.prop_cycle": cycler(color=PALETTE),
}


def set_theme() -> None:
    """Apply the kit's theme: seaborn's white grid, the Okabe-Ito palette, DejaVu Sans."""
    mpl.rcParams.update({**SEABORN_THEME, **KIT_RC})


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


class PercentTicks(mpl.ticker.Formatter):
    """Proportions as percentages with the fewest decimals that tell every tick apart.

    ``PercentFormatter(decimals=0)`` wrote a tick at 2.5% as "2%" (and 7.5% as "8%"):
    the decimals are chosen from all the ticks at once, so 0, 2.5, 5 read "0.0%",
    "2.5%", "5.0%" and 0, 10, 20 read "0%", "10%", "20%".
    """

    def __init__(self, max_decimals: int = 2) -> None:
        self.max_decimals = max_decimals
        self.decimals = 0

    def set_locs(self, locs: list[float]) -> None:
        """Choose the decimals for this set of ticks (matplotlib calls this first)."""
        super().set_locs(locs)
        pct = [float(v) * 100 for v in locs if np.isfinite(v)]
        self.decimals = next((d for d in range(self.max_decimals + 1)
                              if all(abs(round(v, d) - v) < 1e-9 for v in pct)),
                             self.max_decimals)

    def __call__(self, x: float, pos: int | None = None) -> str:
        return f"{x * 100:.{self.decimals}f}%"


def _pct_formatter(ax: Any, axis: str = "y") -> None:
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(PercentTicks())


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


#: One look per trend series role (``trends.series_role``), the same in every figure:
#: the LA's own figures in the vermilion that marks the LA in funnels too, England black
#: and dashed; line styles differ as well, so the roles part without colour.
_ROLE_STYLES: dict[str, dict[str, Any]] = {
    trends.OWN: {"color": _HIGHLIGHT, "linestyle": "-", "linewidth": 2.2, "marker": "o"},
    trends.LA_PUBLISHED: {"color": PALETTE[0], "linestyle": "-", "linewidth": 1.5, "marker": "o"},
    trends.NEIGHBOURS: {"color": PALETTE[2], "linestyle": "-.", "linewidth": 1.5, "marker": "s"},
    trends.ENGLAND_ROLE: {"color": "#000000", "linestyle": "--", "linewidth": 1.5, "marker": "D"},
}
_ROLE_ORDER = [trends.OWN, trends.LA_PUBLISHED, trends.NEIGHBOURS, trends.ENGLAND_ROLE,
               trends.OTHER]
#: Characters per line of a panel title: a title wider than its panel ran into the next
#: panel's title (left-aligned titles spill to the right).
_PANEL_TITLE_CHARS = 28


def _series_styles(series: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Line style of each series by its role, in legend order (role, then label), so a
    series looks the same whichever figure it is in and whatever comes first in it.
    Series of no known role take the palette colours the roles leave free."""
    spare = iter([c for c in PALETTE if c not in {s["color"] for s in _ROLE_STYLES.values()}])
    ordered = sorted(dict.fromkeys(series),
                     key=lambda s: (_ROLE_ORDER.index(trends.series_role(s)), s))
    out = {}
    for name in ordered:
        style = _ROLE_STYLES.get(trends.series_role(name))
        out[name] = dict(style) if style else {"color": next(spare, _GREY), "linestyle": "-",
                                               "linewidth": 1.5, "marker": "o"}
    return out


def _no_figures(ax: Any) -> None:
    """Mark a panel with no figure: words instead of axes, since an empty date axis
    falls back to 1 January 1970 and reads as data."""
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.text(0.5, 0.5, "no figures", transform=ax.transAxes, ha="center", va="center",
            color=_GREY, fontsize="small", style="italic")


@functools.lru_cache(maxsize=16)
def _date_ticks(xlim: tuple[Any, Any]) -> tuple[tuple[float, ...], tuple[str, ...], str]:
    """The date ticks of an axis spanning ``xlim``: positions, labels and offset text, as
    ``AutoDateLocator(minticks=2, maxticks=5)`` and ``ConciseDateFormatter`` give them.

    Worked out once for all the panels of a figure (they share ``xlim``, so their ticks are
    the same): asking each panel's date locator and formatter cost a second a report."""
    locator = mdates.AutoDateLocator(minticks=2, maxticks=5)
    values = tuple(locator.tick_values(pd.Timestamp(xlim[0]).to_pydatetime(),
                                       pd.Timestamp(xlim[1]).to_pydatetime()))
    formatter = mdates.ConciseDateFormatter(locator)
    labels = tuple(formatter.format_ticks(values))
    return values, labels, formatter.get_offset()


def _trend_panel(ax: Any, data: pd.DataFrame, mid: str, styles: Mapping[str, Mapping[str, Any]],
                 xlim: tuple[Any, Any]) -> None:
    """One measure's panel: each series in its role's style over the shared period range."""
    info = _catalogue_info([mid]).iloc[0]
    ax.set_title(_panel_title(mid), fontsize="small")
    ax.tick_params(labelsize="x-small")
    if data["value"].astype(float).notna().sum() == 0:
        _no_figures(ax)
        return
    for name, part in data.groupby("series", sort=False):
        if str(name) in styles:  # a series with no figure shown in any panel is not drawn
            ax.plot(part["period_end"], part["value"].astype(float), markersize=3,
                    label=str(name), **styles[str(name)])
    if info["kind"] == "rate":
        _pct_formatter(ax)
    values, labels, offset = _date_ticks(xlim)
    ax.xaxis.set_major_locator(mpl.ticker.FixedLocator(list(values)))
    ax.xaxis.set_major_formatter(formatter := mpl.ticker.FixedFormatter(list(labels)))
    formatter.set_offset_string(offset)
    ax.set_xlim(*xlim)
    ax.set_ylim(bottom=0)


def trend_panels(frame: pd.DataFrame, *, title: str, columns: int = 3) -> Figure:
    """Small multiples: one panel per measure of ``frame`` (``trends.trend_frame``:
    released own figures and published ones), one legend. Each series is drawn in its
    role's style (``trends.series_role``: the LA's own figures, its published ones, the
    neighbours' median, England), so a role looks the same in every figure; all panels
    span the same periods, so they read side by side. Rates as percentages, counts per
    10,000 children; a series with one point is a point; suppressed own figures are
    gaps; a measure with no figure says so rather than drawing an empty date axis."""
    disclosure.require_released(frame, "trend_panels")
    aggregate_only(frame, ["measure_id", "series", "period_end"], "trend_panels")
    ids = list(dict.fromkeys(frame["measure_id"]))
    shown = frame[frame["value"].astype(float).notna()]
    styles = _series_styles([str(s) for s in shown["series"]])
    pad = pd.Timedelta(days=120)
    periods = pd.to_datetime(shown["period_end"])
    xlim = (periods.min() - pad, periods.max() + pad) if len(shown) else (None, None)
    offset = bool(len(shown)) and bool(_date_ticks(xlim)[2])
    size, boxes = panel_layout([_panel_title(m) for m in ids], columns,
                               legend_rows=-(-len(styles) // 2), offset=offset)
    fig = PlacedFigure(figsize=size)
    for box, mid in zip(boxes, ids, strict=True):
        _trend_panel(fig.add_axes(box), frame[frame["measure_id"] == mid].sort_values("period_end"),
                     mid, styles, xlim)
    handles = [mpl.lines.Line2D([], [], markersize=4, label=s, **st) for s, st in styles.items()]
    if handles:
        fig.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, 0.1 / size[1]),
                   ncols=min(2, len(handles)), fontsize="small")
    fig.suptitle(title, x=0.01, y=1 - 0.08 / size[1], ha="left", va="top", fontweight="bold")
    return fig


class PlacedFigure(Figure):
    """A figure whose axes are placed by hand (``panel_layout``), so it is saved as
    drawn: measuring it for a tight bounding box would draw it twice."""

    placed_by_hand = True


def _panel_title(measure_id: str) -> str:
    """A trend panel's title: the measure's label (counts per 10,000 children), wrapped."""
    info = _catalogue_info([measure_id]).iloc[0]
    unit = " per 10,000 children" if info["kind"] == "count" else ""
    return textwrap.fill(f"{info['label']}{unit}", _PANEL_TITLE_CHARS)


#: A trend figure's parts in inches, laid out by hand (``panel_layout``).
_PANEL_INCHES = {"width": 3.3, "axes": 1.75, "left": 0.55, "right": 0.25, "top": 0.45,
                 "title_line": 0.19, "title_pad": 0.1, "ticks": 0.3, "offset": 0.18,
                 "legend_line": 0.3, "legend_pad": 0.15}


def panel_layout(titles: Sequence[str], columns: int, *, legend_rows: int, offset: bool = False,
                 ) -> tuple[tuple[float, float], list[tuple[float, float, float, float]]]:
    """The figure size (inches) and each panel's axes box (figure fractions: left,
    bottom, width, height) for small multiples titled ``titles``, ``columns`` a row.

    Why by hand: constrained layout measured every tick label and title of every panel
    to find margins that are the same for every trend figure (tick labels of one small
    font, titles of one to three wrapped lines), and cost more than half of drawing
    the figure (three figures, over a second a report, 153 reports a national run).
    Each row is as tall as its longest title needs; every panel's axes are the same size.
    """
    inch = _PANEL_INCHES
    lines = [t.count("\n") + 1 for t in titles]
    row_titles = [max(lines[i:i + columns]) * inch["title_line"] + inch["title_pad"]
                  for i in range(0, len(titles), columns)]
    below = inch["ticks"] + (inch["offset"] if offset else 0.0)
    legend = legend_rows * inch["legend_line"] + inch["legend_pad"] if legend_rows else 0.1
    height = inch["top"] + sum(row_titles) + len(row_titles) * (inch["axes"] + below) + legend
    width = inch["width"] * columns
    boxes, top = [], height - inch["top"]
    for row, title_h in enumerate(row_titles):
        bottom = top - title_h - inch["axes"]
        for col in range(min(columns, len(titles) - row * columns)):
            left = col * inch["width"] + inch["left"]
            boxes.append((left / width, bottom / height,
                          (inch["width"] - inch["left"] - inch["right"]) / width,
                          inch["axes"] / height))
        top = bottom - below
    return (width, height), boxes


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
    """Funnel plot of a released funnel (``ReportView.funnel`` or
    ``published_funnel.published_funnel``: only LAs whose figure is shown or published
    are in it, so neither a point nor the centre line carries a suppressed count).

    Points: each unit's rate against its denominator; ``highlight`` (a unit, e.g. an
    LA code) is drawn larger in vermilion and named. Lines: the target, and the limits
    per level (95% dashed, the outermost solid). The legend names what the centre line
    is and whose the points are (the result's ``attrs``: ``target_label``,
    ``points_label``, ``own_label``), so no line is left unexplained.
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
    labels = {"target_label": "Target: all LAs pooled", "points_label": "Local authorities",
              "own_label": str(highlight), **getattr(res, "attrs", {})}
    ax.plot(grid["denominator"], grid["target"], color="black", linewidth=1.2,
            label=labels["target_label"])
    styles = ["--", "-", ":", "-."]
    for i, level in enumerate(sorted(levels)):
        tag = level_tag(level)
        ls = styles[i % len(styles)]
        ax.plot(grid["denominator"], grid[f"lower_{tag}"], color=_GREY, linestyle=ls,
                linewidth=1, label=f"{level * 100:g}% limits")
        ax.plot(grid["denominator"], grid[f"upper_{tag}"], color=_GREY, linestyle=ls, linewidth=1)

    is_hi = (pts["unit"].astype(str) == str(highlight)) if highlight is not None else pd.Series(False, index=pts.index)
    others = pts[~is_hi.to_numpy()]
    # the other LAs small and pale, the highlighted LA large, outlined and labelled on a
    # white box above everything, so it is found at once among a hundred and fifty points
    ax.scatter(others["denominator"], others["value"], color=PALETTE[0], alpha=0.45, s=20,
               linewidths=0, label=labels["points_label"], zorder=3)
    hi = pts[is_hi.to_numpy()]
    if len(hi):
        _mark_own(ax, float(hi["denominator"].iloc[0]), float(hi["value"].iloc[0]),
                  str(highlight), labels["own_label"], size=150)
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
    # below the axes (constrained layout makes room): inside, it covered points
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncols=2, fontsize="small")
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
    shown = _grid_rows(released, la_code, period_end, "outcome_grid")
    pe = pd.Timestamp(period_end)
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


def _grid_rows(released: pd.DataFrame, la_code: str, period_end: Any, what: str) -> pd.DataFrame:
    """One LA's released rows for a period, with each measure's level, group and label."""
    _released_measures(released, what)
    pe = pd.Timestamp(period_end)
    rows = released[(released["la_code"] == la_code) & (released["period_end"] == pe)]
    info = _catalogue_info(list(rows["measure_id"].unique()))
    return rows.merge(info.drop(columns="kind"), on="measure_id", how="left")


def outcome_grid_table(released: pd.DataFrame, la_code: str, period_end: Any) -> pd.DataFrame:
    """The report grid as a table to show as HTML: a row per level (at risk of harm, in
    care, leaving care), a column per group (performance, outcomes), each cell its
    measures' values and full labels.

    Text in a table is read at any size, on screen, on A4 and by screen readers; the
    grid drawn as an image (``outcome_grid``) had 8 px text and cut labels. Levels are
    rows so the two wide columns fit an A4 page and the row names wrap. Cells hold
    ``<br>``-separated lines (``styled`` passes HTML through; pandoc keeps the breaks
    in the PDF). ``c`` is suppressed; a cell without measures says so.
    """
    shown = _grid_rows(released, la_code, period_end, "outcome_grid_table")
    cells: dict[str, dict[str, str]] = {}
    for group, group_label in GROUPS.items():
        cells[group_label] = {}
        for level, level_label in LEVELS.items():
            cell = shown[(shown["level"] == level) & (shown["group"] == group)]
            lines = [f"<strong>{html.escape(str(r.display))}</strong> {html.escape(str(r.label))}"
                     for r in cell.itertuples()]
            cells[group_label][level_label] = "<br>".join(lines) or "<em>no measures</em>"
    return pd.DataFrame(cells, index=list(LEVELS.values()))


def _mark_own(ax: Any, x: float, y: float, name: str, label: str, *, size: float) -> None:
    """The report's own LA among the others: large, outlined, named on a white box above
    everything, so it is found at once among a hundred and fifty points."""
    ax.scatter([x], [y], color=_HIGHLIGHT, s=size, edgecolor="black", linewidths=1.5, zorder=6,
               clip_on=False, label=label)
    ax.annotate(name, xy=(x, y), xytext=(14, 14), textcoords="offset points", fontweight="bold",
                color=_HIGHLIGHT, zorder=7,
                bbox={"boxstyle": "round,pad=0.25", "facecolor": "white",
                      "edgecolor": _HIGHLIGHT, "alpha": 0.95},
                arrowprops={"arrowstyle": "-", "color": _HIGHLIGHT, "linewidth": 1.2})


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
    lo, hi = df[lower].to_numpy(dtype=float), df[upper].to_numpy(dtype=float)
    # the interval drawn from its own ends: limits around a reference (observed/expected)
    # need not contain the estimate, and an error bar measured from it would be negative
    ax.errorbar((lo + hi) / 2, yy, xerr=(hi - lo) / 2, fmt="none", ecolor=PALETTE[0], capsize=3)
    ax.plot(df[estimate].to_numpy(dtype=float), yy, "o", color=PALETTE[0], markersize=6)
    ax.axvline(reference, color=_GREY, linestyle="--", linewidth=1)
    # long term labels wrapped, so they leave the axis room for readable ticks
    ax.set_yticks(yy, [textwrap.fill(t, 32) for t in df[name_col].astype(str)])
    if log_scale:
        ax.set_xscale("log")
        ax.xaxis.set_major_locator(_ratio_locator(df[lower], df[upper], reference))
        ax.xaxis.set_major_formatter(mpl.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
        ax.xaxis.set_minor_formatter(mpl.ticker.NullFormatter())
    else:  # at most five ticks: more ran into each other on a narrow axis
        ax.xaxis.set_major_locator(mpl.ticker.MaxNLocator(nbins=5))
    ax.set_xlabel(xlabel if ratio else ("Estimate" if xlabel == "Odds ratio (log scale)" else xlabel))
    if title:  # wrapped: it starts where the axes do, after the terms' labels
        ax.set_title(textwrap.fill(title, _COEF_TITLE_CHARS))
    ax.grid(axis="y", visible=False)
    return fig


#: Characters per line of a coefficient plot's title: "Needs associated with a higher
#: level of intervention (the 12 largest of 40)" ran off the figure's right edge.
_COEF_TITLE_CHARS = 40


def _ratio_locator(lower: pd.Series, upper: pd.Series, reference: float) -> Any:
    """Ticks for a log axis of ratios: evenly spaced round values when the intervals
    span less than a decade (a log locator gives one tick, "1", there), 1-2-5 steps per
    decade up to three decades, and powers of ten beyond (1-2-5 steps over many decades
    gave no tick at all)."""
    values = np.r_[lower.to_numpy(dtype=float), upper.to_numpy(dtype=float), reference]
    values = values[np.isfinite(values) & (values > 0)]
    decades = float(np.log10(values.max() / values.min())) if len(values) else 0.0
    if decades < 1:
        return mpl.ticker.MaxNLocator(nbins=6, steps=[1, 2, 2.5, 5, 10])
    if decades <= 3:
        return mpl.ticker.LogLocator(base=10, subs=(1.0, 2.0, 5.0))
    return mpl.ticker.LogLocator(base=10, subs=(1.0,), numticks=8)


# --------------------------------------------------------------------------------------
# Ranked ratios (observed / expected per LA)
# --------------------------------------------------------------------------------------


def ranked_ratios(ratios: pd.DataFrame, highlight: str | None = None, *, title: str,
                  ylabel: str = "Observed / expected", reference: float = 1.0) -> Figure:
    """Every unit's ratio, ranked, against the limits chance alone would give around
    ``reference`` for a unit of its size; ``highlight`` drawn large and named.

    ``ratios``: ``label, ratio, ci_lower, ci_upper, flag`` (``observed_expected
    .headline_ratios``: released; a ratio on a small count is empty and not drawn). One
    point per LA rather than one labelled row per LA: with 153 LAs a row each made a
    chart 70 inches tall, and the LA the report is about was one row among them. Points
    outside their limits are solid, those inside pale; unit codes are written under the
    axis only when there are few enough to read.
    """
    disclosure.require_released(ratios, "ranked_ratios")
    aggregate_only(ratios, [], "ranked_ratios")
    shown = ratios.dropna(subset=["ratio"]).sort_values("ratio").reset_index(drop=True)
    fig, ax = _new_figure((8, 4.5))
    rank = np.arange(1, len(shown) + 1)
    ax.vlines(rank, shown["ci_lower"].astype(float), shown["ci_upper"].astype(float),
              color=_GREY, alpha=0.35, linewidth=2, label="95% limits around 1 for its size")
    outside = shown["flag"].isin(["above", "below"]).to_numpy()
    # a kind of point none of the LAs is gets no legend entry ("_" labels are left out)
    ax.scatter(rank[~outside], shown.loc[~outside, "ratio"], s=16, color=PALETTE[0], alpha=0.45,
               linewidths=0, zorder=3,
               label="Local authorities: inside their limits" if (~outside).any() else "_inside")
    ax.scatter(rank[outside], shown.loc[outside, "ratio"], s=16, color=PALETTE[0], zorder=3,
               label="Local authorities: outside their limits" if outside.any() else "_outside")
    ax.axhline(reference, color=_GREY, linestyle="--", linewidth=1)
    own = shown.index[shown["label"].astype(str) == str(highlight)]
    if len(own):
        _mark_own(ax, int(own[0]) + 1, float(shown.loc[own[0], "ratio"]), str(highlight),
                  str(highlight), size=120)
    left_out = len(ratios) - len(shown)
    if len(shown) <= _NAMED_UNITS:
        ax.set_xticks(rank, shown["label"].astype(str), rotation=90, fontsize="small")
    else:
        ax.set_xticks([])
    ax.set_xlim(0, len(shown) + 1)
    ax.set_xlabel(f"Local authorities ranked by ratio ({len(shown)} shown"
                  + (f"; {left_out} not shown: small numbers)" if left_out else ")"))
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(axis="x", visible=False)
    fig.legend(loc="outside lower center", ncols=2, fontsize="small")
    return fig


#: Units a ranked chart names under its axis; beyond this the codes are unreadable.
_NAMED_UNITS = 25
