"""What the report notebooks call to put numbers in context (kept out of the notebooks).

A ``ReportView`` holds the measures table, the LA, the period and its comparators
(statistical neighbours from ``parameters/<LA>.yaml``, else every other LA), and gives:

- ``grid_table()``: the report grid as one table, levels (at risk of harm, in care,
  leaving care) by kind (performance, outcomes), both always shown side by side; each
  measure with the LA's value, its comparators', all LAs', the previous period's;
  disclosure-controlled (``c`` for 1-5, ``z`` not applicable, ``x`` not available);
- ``sentence(measure_id)``: one plain-English sentence with the value, what it counts,
  the comparison and which direction is better;
- ``funnel(measure_id)``: funnel limits over every LA for a rate (``None`` with fewer
  than 3 LAs), and ``funnel_sentence``;
- ``styled(df)``: a DataFrame for display without its index, with a caption.

Model helpers (``fit_or_reason``) turn a model that cannot be fitted on thin data into
a sentence instead of a traceback. Nothing here returns child-level rows.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import Image, Markdown, display
from matplotlib.figure import Figure

from csc_outcomes import calendar
from csc_outcomes.measures import table
from csc_outcomes.measures.catalogue import GROUPS, LEVELS, POLARITIES, catalogue_frame
from csc_outcomes.measures.inputs import MeasureInputs
from csc_outcomes.reporting import disclosure
from csc_outcomes.stats.funnel import FunnelResult, Method, funnel_limits


def load_measures(path: str | Path) -> pd.DataFrame:
    """The measures table at ``path`` (``measures.table.read``; notebooks call it as
    ``ctx.load_measures``)."""
    return table.read(path)


def measure_info() -> pd.DataFrame:
    """measure_id, label, kind, level, group, polarity, order: the measure registry's."""
    return catalogue_frame()[["measure_id", "label", "kind", "level", "group", "polarity", "order"]]


def long_date(d: Any) -> str:
    d = pd.Timestamp(d)
    return f"{d.day} {d:%B %Y}"


def fmt(value: Any, kind: str) -> str:
    return disclosure.format_value(value, kind)


@dataclass
class Figures:
    """One LA's measures for a period beside its comparators', disclosure-controlled.

    The lookups a report is built from: a value, a pooled value over several LAs, its
    display string (``c``, ``z``, ``x`` where suppressed or missing), the period to
    compare with. ``ReportView`` adds what a report shows of them.
    """

    measures: pd.DataFrame
    la_code: str
    period_end: Any
    comparators: Sequence[str] = ()
    la_name: str | None = None
    threshold: int = disclosure.DEFAULT_THRESHOLD
    info: pd.DataFrame = field(default_factory=measure_info)

    def __post_init__(self) -> None:
        self.period = pd.Timestamp(self.period_end).normalize()
        self.measures = self.measures.copy()
        self.measures["period_end"] = pd.to_datetime(self.measures["period_end"]).dt.normalize()
        las = sorted(self.measures["la_code"].dropna().unique())
        comps = [c for c in self.comparators if c in las and c != self.la_code]
        self.comparator_codes = comps or [c for c in las if c != self.la_code]
        self.comparator_label = ("statistical neighbours" if comps else "other LAs")
        self._info = self.info.set_index("measure_id")

    @property
    def name(self) -> str:
        return self.la_name if self.la_name and self.la_name != self.la_code else self.la_code

    def rows(self, period: Any = None) -> pd.DataFrame:
        p = self.period if period is None else pd.Timestamp(period)
        m = self.measures
        return m[m["period_end"] == p]

    def has_data(self) -> bool:
        return bool((self.rows()["la_code"] == self.la_code).any())

    def previous_period(self) -> pd.Timestamp | None:
        """The period to compare with: a year earlier when the table has it.

        Twelve-month rolling measures overlap heavily month to month, so the same
        period a year before is the fair comparison; otherwise the latest earlier one.
        """
        periods = {pd.Timestamp(p) for p in self.measures["period_end"].unique()}
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
        return str(self._info["kind"].get(measure_id, "rate"))

    def label(self, measure_id: str) -> str:
        return str(self._info["label"].get(measure_id, measure_id))

    def pooled(self, measure_id: str, las: Sequence[str], period: Any = None) -> tuple[float, float, float]:
        """(numerator, denominator, value) summed over ``las``; counts give the mean per LA."""
        r = self.rows(period)
        r = r[(r["measure_id"] == measure_id) & r["la_code"].isin(list(las))]
        if r.empty:
            return (np.nan, np.nan, np.nan)
        num, den = r["numerator"].sum(min_count=1), r["denominator"].sum(min_count=1)
        if self.kind(measure_id) == "count":
            return (num, np.nan, r["value"].mean())
        return (num, den, num / den if den and den > 0 else np.nan)

    def one(self, measure_id: str, la_code: str | None = None, period: Any = None) -> pd.Series | None:
        r = self.rows(period)
        r = r[(r["measure_id"] == measure_id) & (r["la_code"] == (la_code or self.la_code))]
        return None if r.empty else r.iloc[0]

    def shown(self, measure_id: str, la_code: str | None = None, period: Any = None) -> str:
        """The display string of one LA's value, disclosure-controlled."""
        row = self.one(measure_id, la_code, period)
        if row is None:
            return disclosure.NOT_AVAILABLE
        d = disclosure.suppress_measures(row.to_frame().T, self.threshold,
                                         kinds={measure_id: self.kind(measure_id)})
        return str(d["display"].iloc[0])

    def _shown_pooled(self, measure_id: str, las: Sequence[str], period: Any = None) -> str:
        num, den, val = self.pooled(measure_id, las, period)
        kind = self.kind(measure_id)
        if kind == "count":
            # a mean of counts over several LAs identifies nobody, unless one LA only
            if len(las) < 2:
                return self.shown(measure_id, las[0], period) if las else disclosure.NOT_AVAILABLE
            return fmt(val, "count") if pd.notna(val) else disclosure.NOT_AVAILABLE
        if pd.isna(den) or den == 0:
            return disclosure.NOT_APPLICABLE if pd.notna(den) else disclosure.NOT_AVAILABLE
        if disclosure.is_small([num]).iloc[0] or disclosure.is_small([den]).iloc[0]:
            return disclosure.SUPPRESSED
        return fmt(val, kind)


class ReportView(Figures):
    """What a report shows of the figures: the grid, comparisons, sentences, funnels."""

    def grid_table(self, levels: Sequence[str] | None = None) -> pd.DataFrame:
        """The report grid for the LA and period: one row per measure the LA has, grouped
        by level then kind (performance first, then outcomes, both always listed)."""
        info = self.info
        if levels:
            info = info[info["level"].isin(list(levels))]
        mine = self.rows()
        mine = mine[mine["la_code"] == self.la_code]
        have = set(mine["measure_id"])
        prev = self.previous_period()
        all_las = sorted(self.rows()["la_code"].unique())
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
                                self.name: "x", f"{self.comparator_label.capitalize()}": "x",
                                "All LAs": "x", self.previous_label: "x"})
                    continue
                for mid in present:
                    out.append({
                        "Level": level_label, "Kind": group_label, "Measure": self.label(mid),
                        self.name: self.shown(mid),
                        f"{self.comparator_label.capitalize()}": self._shown_pooled(mid, self.comparator_codes),
                        "All LAs": self._shown_pooled(mid, all_las),
                        self.previous_label: self.shown(mid, period=prev) if prev is not None else "x",
                    })
        return pd.DataFrame(out)

    def measures_table(self, measure_ids: Sequence[str]) -> pd.DataFrame:
        """Selected measures: label, kind (performance/outcome), the LA, comparators, all LAs."""
        grid = self.grid_table()
        labels = [self.label(m) for m in measure_ids]
        return grid[grid["Measure"].isin(labels)].reset_index(drop=True)

    def comparison_table(self, measure_id: str) -> pd.DataFrame:
        """The measure for the LA and each comparator, disclosure-controlled, for one period."""
        las = [self.la_code, *self.comparator_codes]
        rows = []
        for la in las:
            r = self.one(measure_id, la)
            if r is None:
                continue
            d = disclosure.suppress_measures(r.to_frame().T, self.threshold,
                                             kinds={measure_id: self.kind(measure_id)})
            rows.append({"Local authority": la + (" (this LA)" if la == self.la_code else ""),
                         "Numerator": d["numerator"].iloc[0], "Denominator": d["denominator"].iloc[0],
                         "Value": d["display"].iloc[0]})
        return pd.DataFrame(rows)

    def comparison_chart(self, measure_id: str) -> Figure:
        """Bars of the measure for the LA and its comparators (suppressed ones left out,
        with a note); a dashed line at the all-LA figure. Returns a matplotlib Figure."""
        comparison = self.comparison_table(measure_id)
        kind = self.kind(measure_id)
        fig = Figure(figsize=(7, 0.5 * max(3, len(comparison)) + 1.2), layout="constrained")
        ax = fig.subplots()
        vals, names, hidden = [], [], 0
        for r in comparison.itertuples(index=False):
            row = self.one(measure_id, r[0].replace(" (this LA)", ""))
            if r[3] in disclosure.SYMBOLS or row is None:
                hidden += 1
                continue
            names.append(r[0])
            vals.append(float(row["value"]) * (100 if kind == "rate" else 1))
        colours = ["#D55E00" if n.endswith("(this LA)") else "#0072B2" for n in names]
        ax.barh(names[::-1], vals[::-1], color=colours[::-1])
        _, _, pooled = self.pooled(measure_id, sorted(self.rows()["la_code"].unique()))
        if pd.notna(pooled):
            ax.axvline(pooled * (100 if kind == "rate" else 1), color="#6E6E6E", linestyle="--",
                       label="All LAs")
            ax.legend(loc="lower right", frameon=False)
        ax.set_xlabel(self.label(measure_id) + (" (%)" if kind == "rate" else ""))
        ax.set_title(f"{self.label(measure_id)}: {self.name} and its {self.comparator_label}",
                     loc="left", fontsize="medium")
        if hidden:
            fig.text(0.01, 0.0, f"{hidden} LA(s) not shown: figure suppressed or not available",
                     fontsize="small", color="#6E6E6E")
        return fig

    def sentence(self, measure_id: str) -> str:
        """One sentence putting the LA's value in context."""
        label = self.label(measure_id)
        kind = self.kind(measure_id)
        row = self.one(measure_id)
        when = f"the year ending {long_date(self.period)}"
        if row is None:
            return f"{label}: no figure for {self.name} in {when} (the data needed were not supplied)."
        shown = self.shown(measure_id)
        polarity = POLARITIES[str(self._info["polarity"].get(measure_id, "neutral"))] + "."
        if shown == disclosure.SUPPRESSED:
            return (f"{label}: the figure for {self.name} in {when} is suppressed (c) because "
                    f"it rests on {self.threshold} or fewer children.")
        if shown in (disclosure.NOT_APPLICABLE, disclosure.NOT_AVAILABLE):
            return f"{label}: not applicable for {self.name} in {when} (no one in the group measured)."
        comp = self._shown_pooled(measure_id, self.comparator_codes)
        text = f"{label}: {shown} for {self.name} in {when}"
        if kind != "count":
            num, den = int(row["numerator"]), int(row["denominator"])
            text += f" ({num:,} of {den:,})"
        if comp not in (disclosure.NOT_AVAILABLE, disclosure.NOT_APPLICABLE, disclosure.SUPPRESSED):
            per = " on average" if kind == "count" else ""
            text += f", against {comp}{per} across its {self.comparator_label}"
        prev = self.previous_period()
        if prev is not None:
            before = self.shown(measure_id, period=prev)
            if before not in disclosure.SYMBOLS:
                text += f" and {before} a year earlier" if (self.period - prev).days > 300 else \
                        f" and {before} at {long_date(prev)}"
        return text + ". " + polarity

    def funnel(self, measure_id: str, method: Method = "multiplicative") -> FunnelResult | None:
        """Funnel limits across every LA for a rate measure in this period, or None.

        None for a count, when fewer than three LAs have the measure, and when the
        pooled rate is 0% or 100% (every LA at the same end: no spread to draw limits
        around, and ``funnel_limits`` rejects such a target).
        """
        if self.kind(measure_id) == "count":
            return None
        r = self.rows()
        r = r[(r["measure_id"] == measure_id) & (r["denominator"] > 0)]
        if r["la_code"].nunique() < 3:
            return None
        r = r.set_index("la_code")
        num, den = r["numerator"].astype(float), r["denominator"].astype(float)
        known = num.notna()
        if not 0 < num[known].sum() < den[known].sum():
            return None
        return funnel_limits(num, den, method=method, units=r.index)

    def funnel_sentence(self, res: Any) -> str:
        """Where the LA sits on the funnel, in words (or why there is no funnel)."""
        if res is None:
            return ("A funnel plot needs the measure for at least three LAs and an all-LA "
                    "rate above 0% and below 100%; this period does not have that.")
        df = pd.DataFrame(res)
        unit_col = "unit" if "unit" in df.columns else None
        mine = df[df[unit_col].astype(str) == self.la_code] if unit_col else df.loc[[self.la_code]]
        if mine.empty:
            return f"{self.name} has no figure to place on the funnel."
        row = mine.iloc[0]
        outer = [c for c in df.columns if c.startswith("upper_")]
        if not outer:
            return ""
        tags = sorted(outer, key=lambda c: c[len("upper_"):])
        inner, outer_c = tags[0], tags[-1]
        v = row["value"]
        if v > row[outer_c] or v < row[outer_c.replace("upper_", "lower_")]:
            where = "outside the outer (99.8%) limits: a difference unlikely to be chance alone"
        elif v > row[inner] or v < row[inner.replace("upper_", "lower_")]:
            where = "between the 95% and 99.8% limits: worth a look, not yet a clear signal"
        else:
            where = "within the 95% limits: consistent with the all-LA average given its size"
        return f"{self.name} sits {where}."


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
    """The grid with each level and kind written once per block (easier to read)."""
    out = grid.copy()
    for col in ("Level", "Kind"):
        if col in out.columns:
            keys = out["Level"] + "|" + out[col] if col == "Kind" else out[col]
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


def fit_or_reason(fit: Callable[..., Any], *args: Any, min_rows: int = 30,
                  what: str = "the model", **kwargs: Any) -> tuple[Any, str | None]:
    """Run ``fit(*args, **kwargs)``; on thin data return ``(None, reason)`` not an error."""
    frame = args[0] if args else None
    if isinstance(frame, pd.DataFrame) and len(frame) < min_rows:
        return None, (f"Too few records ({len(frame)}) to fit {what} for this period; "
                      f"at least {min_rows} are needed.")
    try:
        return fit(*args, **kwargs), None
    except Exception as exc:  # noqa: BLE001 - reported as words, not a traceback
        return None, f"{what.capitalize()} could not be fitted on this data ({type(exc).__name__})."


def suppressed_counts(table: pd.DataFrame, threshold: int = disclosure.DEFAULT_THRESHOLD) -> pd.DataFrame:
    """A wide table of counts with primary and secondary suppression (labels kept)."""
    labels = [c for c in table.columns if not pd.api.types.is_numeric_dtype(table[c])]
    return disclosure.suppress_table(table, threshold, exclude=labels)


def show_figure(fig: Any, alt: str, *, dpi: int = 110) -> None:
    """Display a matplotlib figure as a PNG with alt text (works under any backend).

    The figure is closed once drawn, so one made with pyplot is not shown a second time
    (without its alt text) at the end of the cell.
    """
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    display(Image(data=buf.getvalue(), format="png"), metadata={"image/png": {"alt": alt}})


def say(text: str) -> None:
    """Display markdown text (a sentence with numbers in it)."""
    display(Markdown(text))


def load_inputs(warehouse: str | Path) -> tuple[MeasureInputs | None, str | None]:
    """``MeasureInputs`` from the warehouse, or ``(None, reason)`` when it is not there."""
    path = Path(warehouse)
    if not path.is_file():
        return None, (f"The warehouse ({path.name}) was not found, so the sections that "
                      "model child-level records are left out of this report.")
    return MeasureInputs.from_warehouse(path), None
