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

import datetime as dt
import hashlib
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from csc_outcomes import calendar
from csc_outcomes.reporting import disclosure

LEVELS = {"at_risk": "Children at risk of harm", "in_care": "Children in care",
          "leaving_care": "Children leaving care"}
GROUPS = {"performance": "Performance", "outcome": "Outcomes"}
POLARITY_WORDS = {"higher_better": "Higher is better.", "lower_better": "Lower is better.",
                  "neutral": "Neither higher nor lower is better in itself."}


def load_measures(path: str | Path) -> pd.DataFrame:
    """The measures CSV with ``period_end`` as timestamps and ``la_code`` as text."""
    df = pd.read_csv(path, dtype={"la_code": str, "measure_id": str})
    df["period_end"] = pd.to_datetime(df["period_end"]).dt.normalize()
    for col in ("numerator", "denominator", "value"):
        df[col] = pd.to_numeric(df[col], errors="coerce")
    return df


def measure_info() -> pd.DataFrame:
    """measure_id, label, kind, level, group, polarity, order (catalogue, else plots' copy)."""
    try:
        from csc_outcomes.measures.catalogue import catalogue_frame

        info = catalogue_frame()[["measure_id", "label", "kind", "level", "group", "polarity", "order"]]
        return info
    except Exception:  # noqa: BLE001 - catalogue not importable: use the plots' fallback
        from csc_outcomes.reporting.plots import _FALLBACK_CATALOGUE

        rows = [{"measure_id": k, "label": v[2], "kind": v[3], "level": v[0], "group": v[1],
                 "polarity": "neutral", "order": i}
                for i, (k, v) in enumerate(_FALLBACK_CATALOGUE.items())]
        return pd.DataFrame(rows)


def long_date(d: Any) -> str:
    d = pd.Timestamp(d)
    return f"{d.day} {d:%B %Y}"


def fmt(value: Any, kind: str) -> str:
    return disclosure.format_value(value, kind)


@dataclass
class ReportView:
    """The measures of one LA and period, with its comparators, for a report."""

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

    # ------------------------------------------------------------------ basics
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

    # ------------------------------------------------------------------ tables
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

    def comparison_chart(self, measure_id: str):
        """Bars of the measure for the LA and its comparators (suppressed ones left out,
        with a note); a dashed line at the all-LA figure. Returns a matplotlib Figure."""
        from matplotlib.figure import Figure

        table = self.comparison_table(measure_id)
        kind = self.kind(measure_id)
        fig = Figure(figsize=(7, 0.5 * max(3, len(table)) + 1.2), layout="constrained")
        ax = fig.subplots()
        vals, names, hidden = [], [], 0
        for r in table.itertuples(index=False):
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

    # ------------------------------------------------------------------ words
    def sentence(self, measure_id: str) -> str:
        """One sentence putting the LA's value in context."""
        label = self.label(measure_id)
        kind = self.kind(measure_id)
        row = self.one(measure_id)
        when = f"the year ending {long_date(self.period)}"
        if row is None:
            return f"{label}: no figure for {self.name} in {when} (the data needed were not supplied)."
        shown = self.shown(measure_id)
        polarity = POLARITY_WORDS.get(str(self._info["polarity"].get(measure_id, "neutral")), "")
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

    # ------------------------------------------------------------------ funnel
    def funnel(self, measure_id: str, method: str = "multiplicative"):
        """Funnel limits across every LA for a rate measure in this period, or None."""
        if self.kind(measure_id) == "count":
            return None
        r = self.rows()
        r = r[(r["measure_id"] == measure_id) & (r["denominator"] > 0)]
        if r["la_code"].nunique() < 3:
            return None
        from csc_outcomes.stats.funnel import funnel_limits

        r = r.set_index("la_code")
        try:
            return funnel_limits(r["numerator"].astype(float), r["denominator"].astype(float),
                                 method=method, units=r.index)
        except Exception:  # noqa: BLE001 - too few or degenerate units
            return funnel_limits(r["numerator"].astype(float), r["denominator"].astype(float),
                                 units=r.index)

    def funnel_sentence(self, res: Any) -> str:
        if res is None:
            return ("A funnel plot needs the measure for at least three LAs; "
                    "fewer have it this period.")
        df = pd.DataFrame(res)
        unit_col = "unit" if "unit" in df.columns else None
        row = df[df[unit_col].astype(str) == self.la_code] if unit_col else df.loc[[self.la_code]]
        if row.empty:
            return f"{self.name} has no figure to place on the funnel."
        row = row.iloc[0]
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
    text_cols = [c for c in df.columns if _is_text_column(df[c])]
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


def today_text() -> str:
    return long_date(dt.date.today())


def show_figure(fig: Any, alt: str, *, dpi: int = 110) -> None:
    """Display a matplotlib figure as a PNG with alt text (works under any backend)."""
    import io

    from IPython.display import Image, display

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    try:
        import matplotlib.pyplot as plt

        plt.close(fig)
    except Exception:  # noqa: BLE001
        pass
    display(Image(data=buf.getvalue(), format="png"), metadata={"image/png": {"alt": alt}})


def say(text: str) -> None:
    """Display markdown text (a sentence with numbers in it)."""
    from IPython.display import Markdown, display

    display(Markdown(text))


def shared_result(name: str, cache_dir: str | Path | None, build: Callable[[], Any]) -> Any:
    """``build()`` once per run, shared by every LA's notebook through ``cache_dir``.

    The pooled models (proportionality, re-referral, attendance) are fitted on every
    LA's records, so each LA's notebook would otherwise load the whole warehouse and
    fit the same model again. ``csc-outcomes run`` gives the notebooks a restricted
    folder for the run (``restricted/<period>/.shared-<run_id>``, removed when the run
    ends); the first notebook to need a result builds and pickles it there, the others
    read it. Without ``cache_dir`` (a notebook opened in JupyterLab) it just builds.
    The pickle holds child-level frames: it lives in the restricted tree only, for the
    length of one run, and is read only by the run that wrote it.
    """
    if not cache_dir:
        return build()
    import pickle
    import tempfile

    path = Path(cache_dir) / f"{name}.pkl"
    if path.is_file():
        with open(path, "rb") as fh:
            return pickle.load(fh)
    result = build()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".pkl", dir=path.parent)
    with os.fdopen(fd, "wb") as fh:
        pickle.dump(result, fh, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(tmp, path)
    return result


def load_inputs(warehouse: str | Path):
    """``MeasureInputs`` from the warehouse, or ``(None, reason)`` when it is not there."""
    path = Path(warehouse)
    if not path.is_file():
        return None, (f"The warehouse ({path.name}) was not found, so the sections that "
                      "model child-level records are left out of this report.")
    from csc_outcomes.measures.inputs import MeasureInputs

    return MeasureInputs.from_warehouse(path), None
