"""What the report notebooks call to put numbers in context (kept out of the notebooks).

A ``ReportView`` holds the *released* measures (:func:`disclosure.release`: all LAs, all
periods, suppressed where the rules say so), the LA, the period and its comparators
(statistical neighbours from ``parameters/<LA>.yaml``, else every other LA), and gives:

- ``grid_table()``: the report grid as one table, levels (at risk of harm, in care,
  leaving care) by kind (performance, outcomes), both always shown side by side; each
  measure with the LA's value, its comparators', all LAs', the previous period's
  (``c`` suppressed, ``z`` not applicable, ``x`` not available);
- ``sentence(measure_id)``: one plain-English sentence with the value, what it counts,
  the comparison and which direction is better;
- ``funnel(measure_id)``: funnel limits over the LAs whose figure is shown, for a rate
  (``None`` with fewer than 3), and ``funnel_sentence``;
- ``styled(df)``: a DataFrame for display without its index, with a caption.

A view never holds the raw measures: everything it shows, comparator pools included,
comes from released rows (:func:`disclosure.pool`), so no arithmetic on a report gives
back a suppressed count. Nothing here returns child-level rows.
"""

from __future__ import annotations

import hashlib
import io
import sys
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Self

import numpy as np
import pandas as pd
from IPython.display import Image, Markdown
from matplotlib import rc_context
from matplotlib.figure import Figure

from csc_outcomes import calendar
from csc_outcomes.measures import table
from csc_outcomes.measures.catalogue import GROUPS, LEVELS, POLARITIES, catalogue_frame
from csc_outcomes.measures.inputs import MeasureInputs
from csc_outcomes.reporting import disclosure, outputs
from csc_outcomes.reporting.model_build import missing_warehouse
from csc_outcomes.stats.frames import LEVEL_LABELS
from csc_outcomes.stats.funnel import FunnelResult, funnel_limits


def load_measures(path: str | Path) -> pd.DataFrame:
    """The measures table at ``path`` (``measures.table.read``), raw: for analysis, not
    for a report (a report takes :meth:`Figures.load`, which releases it)."""
    return table.read(path)


def measure_info() -> pd.DataFrame:
    """measure_id, label, kind, level, group, polarity, order: the measure registry's."""
    return catalogue_frame()[["measure_id", "label", "kind", "level", "group", "polarity", "order"]]


def long_date(d: Any) -> str:
    d = pd.Timestamp(d)
    return f"{d.day} {d:%B %Y}"


def fmt(value: Any, kind: str) -> str:
    return disclosure.format_value(value, kind)


#: Funnels over the LAs' released figures (``ReportView.funnel``), by measure, period,
#: threshold and every figure that went in; at most :data:`_FUNNELS_KEPT` at a time.
_FUNNELS: dict[tuple[Any, ...], FunnelResult] = {}
_FUNNELS_KEPT = 256


@dataclass
class Figures:
    """One LA's released figures for a period beside its comparators'.

    ``released`` is :func:`disclosure.release`'s output (a raw measures table is
    refused): build a view with :meth:`from_measures` or :meth:`load`. The lookups a
    report is built from: a row, a pool over several LAs, display strings (``c``, ``z``,
    ``x`` where suppressed or missing), the period to compare with. ``ReportView`` adds
    what a report shows of them.
    """

    released: pd.DataFrame
    la_code: str
    period_end: Any
    comparators: Sequence[str] = ()
    la_name: str | None = None
    info: pd.DataFrame = field(default_factory=measure_info)

    def __post_init__(self) -> None:
        self.threshold = disclosure.require_released(self.released, "a report view")
        self.period = pd.Timestamp(self.period_end).normalize()
        las = sorted(self.released["la_code"].dropna().unique())
        comps = [c for c in self.comparators if c in las and c != self.la_code]
        self.comparator_codes = comps or [c for c in las if c != self.la_code]
        self.comparator_label = ("statistical neighbours" if comps else "other LAs")
        self._info = self.info.set_index("measure_id")
        # looked up per table row (a workbook's comparator sheet: 600,000 labels a national
        # run), so as plain dicts: a frame's column lookup each time took 40 s
        self._labels: dict[Any, Any] = self._info["label"].to_dict()
        self._lookups: dict[pd.Timestamp, tuple[pd.DataFrame, dict[tuple[Any, Any], int]]] = {}
        self._slices: dict[tuple[pd.Timestamp, str], disclosure.PoolRows] = {}
        self._all_las: list[str] | None = None

    @classmethod
    def from_measures(cls, measures: pd.DataFrame, la_code: str, period_end: Any, *,
                      threshold: int = disclosure.DEFAULT_THRESHOLD,
                      **options: Any) -> Self:
        """A view of a raw measures table, released first (all LAs and periods)."""
        return cls(disclosure.release(measures, threshold), la_code, period_end, **options)

    @classmethod
    def load(cls, path: str | Path, la_code: str, period_end: Any, *,
             threshold: int = disclosure.DEFAULT_THRESHOLD, **options: Any) -> Self:
        """A view of the measures table at ``path``, released on reading."""
        return cls.from_measures(table.read(path), la_code, period_end, threshold=threshold,
                                 **options)

    @property
    def name(self) -> str:
        return self.la_name if self.la_name and self.la_name != self.la_code else self.la_code

    def rows(self, period: Any = None) -> pd.DataFrame:
        p = self.period if period is None else pd.Timestamp(period)
        r = self.released
        return r[r["period_end"] == p]

    def has_data(self) -> bool:
        return bool((self.rows()["la_code"] == self.la_code).any())

    def previous_period(self) -> pd.Timestamp | None:
        """The period to compare with: a year earlier when the table has it.

        Twelve-month rolling measures overlap heavily month to month, so the same
        period a year before is the fair comparison; otherwise the latest earlier one.
        Worked out once a view: every row of a report's grid and every rule asks.
        """
        return self._previous_period

    @cached_property
    def _previous_period(self) -> pd.Timestamp | None:
        periods = {pd.Timestamp(p) for p in self.released["period_end"].unique()}
        year_before = calendar.add_years(self.period, -1) + pd.offsets.MonthEnd(0)
        if year_before in periods:
            return year_before
        earlier = sorted(p for p in periods if p < self.period)
        return earlier[-1] if earlier else None

    @property
    def previous_label(self) -> str:
        """Column heading for the comparison period."""
        prev = self.previous_period()
        if prev is None:
            return "Previous period"
        return "A year earlier" if (self.period - prev).days > 300 else f"At {long_date(prev)}"

    def kind(self, measure_id: str) -> str:
        """count, rate or ratio: as the release decided it (the catalogue's)."""
        if measure_id in self._kinds:
            return str(self._kinds[measure_id])
        return str(self._info["kind"].get(measure_id, "rate"))

    @cached_property
    def _kinds(self) -> dict[Any, Any]:
        """Each measure's kind as its first released row gives it: asked for each measure
        of each rule and table of a report."""
        kinds: dict[Any, Any] = {}
        for mid, kind in zip(self.released["measure_id"].tolist(), self.released["kind"].tolist(),
                             strict=True):
            kinds.setdefault(mid, kind)
        return kinds

    def label(self, measure_id: str) -> str:
        return str(self._labels.get(measure_id, measure_id))

    def one(self, measure_id: str, la_code: str | None = None, period: Any = None) -> pd.Series | None:
        """One LA's released row for a measure and period (None when there is none).

        Looked up in an index of the period's rows, built on first use: a report asks for
        every comparator's row of every measure (over a thousand lookups with 153 LAs),
        and a filter of the whole table each time cost seconds a report."""
        p = self.period if period is None else pd.Timestamp(period)
        if p not in self._lookups:
            rows = self.rows(p)
            first: dict[tuple[Any, Any], int] = {}
            keys = zip(rows["measure_id"].tolist(), rows["la_code"].tolist(), strict=True)
            for pos, key in enumerate(keys):
                first.setdefault(key, pos)
            self._lookups[p] = (rows, first)
        rows, first = self._lookups[p]
        at = first.get((measure_id, la_code or self.la_code))
        return None if at is None else rows.iloc[at]

    def shown(self, measure_id: str, la_code: str | None = None, period: Any = None) -> str:
        """The display string of one LA's value (``c``, ``z``, ``x`` when not shown)."""
        row = self.one(measure_id, la_code, period)
        return disclosure.NOT_AVAILABLE if row is None else str(row["display"])

    def pool(self, measure_id: str, las: Sequence[str], period: Any = None) -> disclosure.Pool:
        """The measure pooled over those of ``las`` whose own figure is shown.

        Pooled from the period's rows of the measure, cut from the whole table once a
        (period, measure): the period workbook pools every measure of every LA twice,
        and a filter of the whole table each time took most of a minute at 153 LAs."""
        return self.pool_rows(measure_id, period).pool(measure_id, las)

    def pool_rows(self, measure_id: str, period: Any = None) -> disclosure.PoolRows:
        """The period's rows of the measure as arrays (``disclosure.PoolRows``), cut from
        the whole table once a (period, measure)."""
        p = self.period if period is None else pd.Timestamp(period)
        key = (p, measure_id)
        if key not in self._slices:
            self._slices[key] = disclosure.PoolRows.of(self.released, measure_id, p)
        return self._slices[key]

    def all_las(self) -> list[str]:
        if self._all_las is None:
            self._all_las = sorted(self.rows()["la_code"].unique())
        return list(self._all_las)

    def pool_cell(self, measure_id: str, las: Sequence[str]) -> str:
        """A pooled figure for a table cell, saying how many LAs it covers when some
        are left out: ``7.4% (1 of 2)``."""
        p = self.pool(measure_id, las)
        return f"{p.display} ({len(p.las)} of {len(p.asked)})" if p.partial else p.display

    def pool_phrase(self, p: disclosure.Pool, who: str) -> str:
        """Words for the LAs a pool covers: ``its statistical neighbours``, or
        ``1 of its 2 statistical neighbours with figures shown``."""
        if p.partial:
            return f"{len(p.las)} of its {len(p.asked)} {who} with figures shown"
        return f"its {who}"


def _header(label: str) -> str:
    """A phrase as a column header: its first letter upper case and the rest kept
    (``str.capitalize`` lowers the rest, so "other LAs" became "Other las")."""
    return label[:1].upper() + label[1:]


class ReportView(Figures):
    """What a report shows of the figures: the grid, comparisons, sentences, funnels."""

    def _grid_row(self, mid: str, level_label: str, group_label: str) -> dict[str, str]:
        prev = self.previous_period()
        return {"Level": level_label, "Kind": group_label, "Measure": self.label(mid),
                self.name: self.shown(mid),
                _header(self.comparator_label): self.pool_cell(mid, self.comparator_codes),
                "All LAs": self.pool_cell(mid, self.all_las()),
                self.previous_label: self.shown(mid, period=prev) if prev is not None else "x"}

    def grid_table(self, levels: Sequence[str] | None = None) -> pd.DataFrame:
        """The report grid for the LA and period: one row per measure the LA has, grouped
        by level then kind (performance first, then outcomes, both always listed).
        Comparator cells pool only LAs whose own figure is shown (``(1 of 2)`` when
        some are left out)."""
        info = self.info
        if levels:
            info = info[info["level"].isin(list(levels))]
        mine = self.rows()
        have = set(mine.loc[mine["la_code"] == self.la_code, "measure_id"])
        out = []
        for level, level_label in LEVELS.items():
            if level not in set(info["level"]):
                continue
            for group, group_label in GROUPS.items():
                sel = info[(info["level"] == level) & (info["group"] == group)].sort_values("order")
                present = [m for m in sel["measure_id"] if m in have]
                if not present:
                    out.append({"Level": level_label, "Kind": group_label,
                                "Measure": "(no measure with data for this LA)",
                                self.name: "x", _header(self.comparator_label): "x",
                                "All LAs": "x", self.previous_label: "x"})
                out += [self._grid_row(mid, level_label, group_label) for mid in present]
        return pd.DataFrame(out)

    def measures_table(self, measure_ids: Sequence[str]) -> pd.DataFrame:
        """Selected measures: label, kind (performance/outcome), the LA, comparators, all LAs."""
        grid = self.grid_table()
        labels = [self.label(m) for m in measure_ids]
        return grid[grid["Measure"].isin(labels)].reset_index(drop=True)

    def comparison_table(self, measure_id: str) -> pd.DataFrame:
        """The measure for the LA and each comparator, released figures, for one period."""
        rows = []
        for la in [self.la_code, *self.comparator_codes]:
            r = self.one(measure_id, la)
            if r is not None:
                rows.append({"Local authority": la + (" (this LA)" if la == self.la_code else ""),
                             "Numerator": r["numerator_display"],
                             "Denominator": r["denominator_display"], "Value": r["display"]})
        return pd.DataFrame(rows)

    def comparison_chart(self, measure_id: str) -> Figure:
        """Bars of the measure for the LA and its comparators (suppressed ones left out,
        with a note); a dashed line at the all-LA pool. Returns a matplotlib Figure."""
        kind = self.kind(measure_id)
        scale = 100 if kind == "rate" else 1
        las = [self.la_code, *self.comparator_codes]
        rows = [r for r in (self.one(measure_id, la) for la in las) if r is not None]
        shown = [r for r in rows if r["status"] == "shown"]
        names = [r["la_code"] + (" (this LA)" if r["la_code"] == self.la_code else "") for r in shown]
        fig = Figure(figsize=(7, 0.5 * max(3, len(rows)) + 1.2), layout="constrained")
        ax = fig.subplots()
        colours = ["#D55E00" if n.endswith("(this LA)") else "#0072B2" for n in names]
        ax.barh(names[::-1], [float(r["value"]) * scale for r in shown][::-1], color=colours[::-1])
        everyone = self.pool(measure_id, self.all_las())
        if everyone.las:
            ax.axvline(everyone.value * scale, color="#6E6E6E", linestyle="--",
                       label=f"All LAs with figures shown ({len(everyone.las)})")
            ax.legend(loc="lower right", frameon=False)
        ax.set_xlabel(self.label(measure_id) + (" (%)" if kind == "rate" else ""))
        ax.set_title(f"{self.label(measure_id)}: {self.name} and its {self.comparator_label}",
                     loc="left", fontsize="medium")
        if len(shown) < len(rows):
            fig.text(0.01, 0.0, f"{len(rows) - len(shown)} LA(s) not shown: figure suppressed "
                     "or not available", fontsize="small", color="#6E6E6E")
        return fig

    def sentence(self, measure_id: str) -> str:
        """One sentence putting the LA's value in context."""
        label = self.label(measure_id)
        row = self.one(measure_id)
        when = f"the year ending {long_date(self.period)}"
        if row is None:
            return f"{label}: no figure for {self.name} in {when} (the data needed were not supplied)."
        if row["status"] == disclosure.SUPPRESSED:
            return (f"{label}: the figure for {self.name} in {when} is suppressed (c) because "
                    f"it rests on, or would reveal, {self.threshold} or fewer children.")
        if row["status"] != "shown":
            return f"{label}: not applicable for {self.name} in {when} (no one in the group measured)."
        kind = self.kind(measure_id)
        text = f"{label}: {row['display']} for {self.name} in {when}"
        if kind != "count":
            text += f" ({row['numerator_display']} of {row['denominator_display']})"
        comp = self.pool(measure_id, self.comparator_codes)
        if comp.las:
            per = " on average" if kind == "count" else ""
            text += f", against {comp.display}{per} across {self.pool_phrase(comp, self.comparator_label)}"
        text += self._earlier(measure_id)
        polarity = POLARITIES[str(self._info["polarity"].get(measure_id, "neutral"))]
        return f"{text}. {polarity}."

    def _earlier(self, measure_id: str) -> str:
        prev = self.previous_period()
        before = self.shown(measure_id, period=prev) if prev is not None else None
        if prev is None or before in disclosure.SYMBOLS:
            return ""
        return f" and {before} a year earlier" if (self.period - prev).days > 300 else \
            f" and {before} at {long_date(prev)}"

    def funnel(self, measure_id: str) -> FunnelResult | None:
        """Funnel limits across the LAs whose figure is shown, for a rate, or None.

        One method everywhere (``stats.funnel``: FunnelPlotR's for proportions). None for
        a count or a ratio, when fewer than three LAs have a shown figure, and when the
        pooled rate is 0% or 100% (no spread to draw limits around). Only shown rows go
        in, so neither the points nor the centre line carry a suppressed count.

        The same for every LA's report of the period, so worked out once a process for
        what went into it (:data:`_FUNNELS`) and copied for each caller: a national
        run's reports asked for each of them 153 times, exact limits each time.
        """
        if self.kind(measure_id) != "rate":
            return None
        r = self.rows()
        r = r[(r["measure_id"] == measure_id) & (r["status"] == "shown") & (r["denominator"] > 0)]
        if r["la_code"].nunique() < 3:
            return None
        r = r.set_index("la_code")
        num, den = r["numerator"].astype(float), r["denominator"].astype(float)
        if not 0 < num.sum() < den.sum():
            return None
        key = (measure_id, self.period, self.threshold, tuple(r.index), tuple(num), tuple(den))
        if key not in _FUNNELS:
            if len(_FUNNELS) >= _FUNNELS_KEPT:
                _FUNNELS.clear()
            _FUNNELS[key] = disclosure.mark_released(funnel_limits(num, den, units=r.index),
                                                     self.threshold)
        return _FUNNELS[key].copy()  # each report its own: one LA's changes reach no other

    def funnel_sentence(self, res: Any) -> str:
        """Where the LA sits on the funnel, in words: how far from the centre line and
        whether beyond the limits (or why there is no funnel, or no point for the LA:
        a figure not shown is never given a position)."""
        if res is None:
            return ("A funnel plot needs a shown figure for at least three LAs and an all-LA "
                    "rate above 0% and below 100%; this period does not have that.")
        df = pd.DataFrame(res)
        mine = df[df["unit"].astype(str) == self.la_code].dropna(subset=["value"])
        if mine.empty:
            return f"{self.name} has no figure shown, so it is not placed on the funnel."
        row = mine.iloc[0]
        tags = sorted((c[len("flag_"):] for c in df.columns if c.startswith("flag_")), key=len)
        if not tags:
            return ""
        against = getattr(res, "attrs", {}).get("against", "the all-LA average")
        if row[f"flag_{tags[-1]}"] in ("above", "below"):
            where = (f"{row[f'flag_{tags[-1]}']} the outer (99.8%) limits: a difference unlikely "
                     "to be chance alone")
        elif row[f"flag_{tags[0]}"] in ("above", "below"):
            where = (f"between the 95% and 99.8% limits ({row[f'flag_{tags[0]}']} the 95% "
                     "limit): worth a look, not yet a clear signal")
        else:
            where = f"within the 95% limits: consistent with {against} given its size"
        gap = 100 * (float(row["value"]) - float(row["target"]))
        side = "above" if gap > 0 else "below"
        how_far = (f"{float(row['value']):.1%} against {against} of {float(row['target']):.1%}: "
                   + (f"{abs(gap):.1f} percentage points {side}" if round(gap, 1) else "the same"))
        return f"{self.name} sits {where} ({how_far})."


def level_counts(levels: Mapping[str, pd.Series],
                 threshold: int = disclosure.DEFAULT_THRESHOLD) -> pd.DataFrame:
    """Counts per level of intervention, one column per series of levels (e.g. observed
    and predicted), through the one table step: each column adds up to the same total
    (the LA's assessments), so ``suppress_table`` protects each column's total; the
    rows add up to nothing published. Index: the levels' labels."""
    counts = pd.DataFrame({name: s.value_counts() for name, s in levels.items()})
    counts = counts.reindex(list(LEVEL_LABELS)).fillna(0).astype(int)
    counts.index = pd.Index([LEVEL_LABELS[i] for i in counts.index], name="Level of intervention")
    return disclosure.suppress_table(counts, threshold, rows=False)


def _is_text_column(col: pd.Series) -> bool:
    def numeric_like(v: Any) -> bool:
        if isinstance(v, (int, float, np.integer, np.floating)) or v is None:
            return True
        t = str(v).replace(",", "").replace("%", "").strip()
        if t in disclosure.SYMBOLS or t == "":
            return True
        try:
            float(t)
            return True
        except ValueError:
            return False
    return not all(numeric_like(v) for v in col.tolist())


def grid_display(grid: pd.DataFrame) -> pd.DataFrame:
    """The grid with each level and kind written once per block (easier to read).

    A kind's block is keyed on the level *as given*: blanking the levels first made
    the second row of every level repeat its kind ("Performance" twice)."""
    out = grid.copy()
    blocks = {"Level": grid["Level"]} if "Level" in grid.columns else {}
    if "Kind" in grid.columns:
        blocks["Kind"] = (grid["Level"] + "|" + grid["Kind"] if "Level" in grid.columns
                          else grid["Kind"])
    for col, keys in blocks.items():
        out.loc[keys.eq(keys.shift()), col] = ""
    return out


def styled(df: pd.DataFrame, caption: str | None = None, index: bool = False,
           precision: int = 2):
    """A DataFrame for display: no index, a caption (read by screen readers), text
    columns aligned left and numbers right, floats to ``precision`` decimals.

    The table's HTML id comes from its content, not pandas' random one, so a re-run
    gives byte-identical outputs and ``reproduce`` can compare them."""
    digest = hashlib.sha256(f"{caption}|{list(df.columns)}|{len(df)}".encode()).hexdigest()[:8]
    sty = df.style.format(precision=precision, thousands=",").set_uuid(f"t{digest}")
    if not index:
        sty = sty.hide(axis="index")
    if caption:
        sty = sty.set_caption(caption)
    text_cols: list[Hashable] = [c for c in df.columns if _is_text_column(df[c])]
    if text_cols:
        sty = sty.set_properties(subset=text_cols, **{"text-align": "left"})
        sty = sty.set_table_styles([{"selector": f"th.col_heading.col{df.columns.get_loc(c)}",
                                     "props": [("text-align", "left")]} for c in text_cols],
                                   overwrite=False)
    return sty


#: A model table's columns as a reader names them (``stats.summary.coefficient_table``
#: and the observed/expected ratios), in the order they are shown.
MODEL_COLUMNS = {"label": "Term", "odds_ratio": "Odds ratio", "ratio": "Observed / expected",
                 "coef": "Estimate", "se": "Standard error", "ci_lower": "95% CI lower",
                 "ci_upper": "95% CI upper", "p_value": "p"}


def model_table(table: pd.DataFrame, caption: str, *, label: str = "Term",
                columns: Sequence[str] | None = None, precision: int = 3) -> Any:
    """A model's coefficients for a report: plain column names, never ``coef`` or
    ``ci_lower``, and no raw term names when a label is there.

    ``columns``: which of :data:`MODEL_COLUMNS` to show (default: those present, less
    ``se``); ``label``: the heading of the term column (e.g. "Assessment factor").
    """
    wanted = list(columns) if columns is not None else [c for c in MODEL_COLUMNS if c != "se"]
    keep = [c for c in wanted if c in table.columns]
    names = {**MODEL_COLUMNS, "label": label}
    shown = table[keep].rename(columns=names)
    return styled(shown, caption=caption, precision=precision)


def show_figure(fig: Any, alt: str, *, dpi: int = 110) -> None:
    """Display a matplotlib figure as a PNG with alt text (works under any backend).

    The figure is closed once drawn, so one made with pyplot is not shown a second time
    (without its alt text) at the end of the cell. The kit's charts are plain ``Figure``s
    (pyplot is slow to import and a notebook does not need it): only when something has
    imported pyplot can a figure be registered with it, and only then is it closed.
    """
    buf = io.BytesIO()
    # a figure laid out by its layout engine (the kit's are "constrained") or placed by
    # hand (``plots.PlacedFigure``) already fits; "tight" (the theme's savefig.bbox)
    # would draw it a second time to measure it
    laid_out = fig.get_layout_engine() is not None or getattr(fig, "placed_by_hand", False)
    with rc_context({"savefig.bbox": "standard" if laid_out else "tight"}):
        fig.savefig(buf, format="png", dpi=dpi)
    if (pyplot := sys.modules.get("matplotlib.pyplot")) is not None:
        pyplot.close(fig)
    outputs.show(Image(data=buf.getvalue(), format="png"), metadata={"image/png": {"alt": alt}})


def say(text: str) -> None:
    """Display markdown text (a sentence with numbers in it)."""
    outputs.show(Markdown(text))


def load_inputs(warehouse: str | Path) -> tuple[MeasureInputs | None, str | None]:
    """``MeasureInputs`` from the warehouse, or ``(None, reason)`` when it is not there."""
    path = Path(warehouse)
    if not path.is_file():
        return None, missing_warehouse(path)
    return MeasureInputs.from_warehouse(path), None
