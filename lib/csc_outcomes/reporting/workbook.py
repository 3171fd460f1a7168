"""The Excel workbooks published beside the reports: how numbers travel to boards.

Analysts live in Excel, so each run publishes, before the leak scan reads them:

- ``reports/<period>/workbook.xlsx``: every LA's measures for the period, with their
  comparators (one row per LA and measure);
- ``reports/<period>/<LA>/workbook.xlsx``: that LA's measures with its comparators,
  each comparator's figure beside it, the LA beside DfE's published figures (England,
  region, statistical neighbours, quartile band, reconciliation), and its data quality
  table.

Every figure is the released one (``disclosure.release``, pools of shown rows only,
through the same ``ReportView`` the reports use), so a cell is suppressed (``c``)
exactly where the reports show ``c``. Numbers are numbers (percent, counts and ratios
formatted as such), headers are words, the header row is frozen and filterable, and an
"About" sheet gives the symbols, the disclosure rule, and the Open Government Licence
attribution wherever DfE's published figures appear.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from csc_outcomes import atomic
from csc_outcomes.measures.catalogue import CATALOGUE, GROUPS, LEVELS, POLARITIES
from csc_outcomes.reporting import benchmarks, data_quality, disclosure, worker_pool
from csc_outcomes.reporting.context import ReportView, long_date
from csc_outcomes.reporting.parameters import load_la_parameters
from csc_outcomes.reporting.plan import RunPlan
from csc_outcomes.reporting.published_data import load_published

#: Excel number formats by a measure's kind.
NUMBER_FORMATS = {"rate": "0.0%", "count": "#,##0", "ratio": "0.00", "per 10,000 children": "0.0"}
#: Columns holding a measure's value (formatted by its kind); others are counts or text.
VALUE_COLUMNS = ("Value", "Comparator value", "All LAs value", "A year earlier", "This LA",
                 "England", "Region", "Neighbours median", "Neighbours lowest",
                 "Neighbours highest")
COUNT_COLUMNS = ("Numerator", "Denominator", "Count")
_HEADER_FILL = PatternFill("solid", fgColor="DDE5F0")
_SYMBOL_ALIGNMENT = Alignment(horizontal="right")
#: The workbook's file name, in the period folder and in each LA's folder.
FILE_NAME = "workbook.xlsx"


def cell(value: Any, symbol: str) -> Any:
    """A number as a float, else the DfE symbol the release gives for it."""
    return symbol if value is None or pd.isna(value) else float(value)


def pooled(pool: disclosure.Pool) -> tuple[Any, str]:
    """A pool's value (or its symbol) and how many LAs it covers (``2 of 3``)."""
    value = pool.value if pool.las else pool.display
    return value, f"{len(pool.las)} of {len(pool.asked)}"


class Pools:
    """What every view of one released table shares, worked out once for all of them:
    each measure's rows (cut once, not once per view), each pool (the all-LAs pool of a
    measure is the same for every LA), each measure's kind and the period compared
    with. Each view working them out for itself took over a minute of a national run's
    workbooks (153 LAs, every measure pooled twice)."""

    def __init__(self) -> None:
        self._slices: dict[tuple[pd.Timestamp, str], disclosure.PoolRows] = {}
        self._pools: dict[tuple[pd.Timestamp, str, tuple[str, ...]], disclosure.Pool] = {}
        self._kinds: dict[str, str] = {}
        self._previous: dict[pd.Timestamp, pd.Timestamp | None] = {}

    def kind(self, view: ReportView, measure_id: str) -> str:
        """``view.kind(measure_id)``: the same for every view of the table."""
        if measure_id not in self._kinds:
            self._kinds[measure_id] = view.kind(measure_id)
        return self._kinds[measure_id]

    def previous_period(self, view: ReportView) -> pd.Timestamp | None:
        """``view.previous_period()``: the same for every view of the table at a period."""
        if view.period not in self._previous:
            self._previous[view.period] = view.previous_period()
        return self._previous[view.period]

    def pool(self, view: ReportView, measure_id: str, las: Sequence[str]) -> disclosure.Pool:
        """``view.pool(measure_id, las)``, computed once for every view of the table."""
        key = (view.period, measure_id)
        if key not in self._slices:
            self._slices[key] = disclosure.PoolRows.of(view.released, measure_id, view.period)
        memo = (*key, tuple(las))
        if memo not in self._pools:
            self._pools[memo] = self._slices[key].pool(measure_id, las)
        return self._pools[memo]


def measure_row(view: ReportView, measure_id: str,
                pools: Pools | None = None) -> dict[str, Any] | None:
    """One LA's row for one measure: its released figures, comparators, a year earlier."""
    row = view.one(measure_id)
    if row is None:
        return None
    pools = pools or Pools()
    spec = CATALOGUE.get(measure_id)
    comp_value, comp_n = pooled(pools.pool(view, measure_id, view.comparator_codes))
    all_value, all_n = pooled(pools.pool(view, measure_id, view.all_las()))
    prev = pools.previous_period(view)
    before = view.one(measure_id, period=prev) if prev is not None else None
    return {
        "LA code": view.la_code, "LA name": view.name,
        "Level": LEVELS.get(spec.level, "") if spec else "",
        "Kind": GROUPS.get(spec.group, "") if spec else "",
        "Measure": view.label(measure_id), "Measure id": measure_id,
        "Unit": pools.kind(view, measure_id),
        "Numerator": cell(row["numerator"], str(row["numerator_display"])),
        "Denominator": cell(row["denominator"], str(row["denominator_display"])),
        "Value": cell(row["value"], str(row["display"])),
        "Comparators": view.comparator_label, "Comparator value": comp_value,
        "Comparator LAs pooled": comp_n, "All LAs value": all_value, "All LAs pooled": all_n,
        "A year earlier": (cell(before["value"], str(before["display"])) if before is not None
                           else disclosure.NOT_AVAILABLE),
        "Better when": POLARITIES[spec.polarity] if spec else "",
    }


def measure_rows(view: ReportView, pools: Pools | None = None) -> list[dict[str, Any]]:
    """Every measure of the view's LA, in catalogue order."""
    pools = pools or Pools()
    return [r for m in CATALOGUE if (r := measure_row(view, m, pools)) is not None]


def measures_frame(views: Iterable[ReportView], pools: Pools | None = None) -> pd.DataFrame:
    """Every measure of every view's LA, in catalogue order."""
    pools = pools or Pools()
    return pd.DataFrame([r for v in views for r in measure_rows(v, pools)])


def comparators_frame(view: ReportView) -> pd.DataFrame:
    """The LA and each comparator, measure by measure (catalogue order), as released."""
    las = [view.la_code, *view.comparator_codes]
    r = view.rows()
    r = r[r["la_code"].isin(las) & r["measure_id"].isin(list(CATALOGUE))].copy()
    r["_m"] = r["measure_id"].map({m: i for i, m in enumerate(CATALOGUE)})
    r["_la"] = r["la_code"].map({la: i for i, la in enumerate(las)})
    r = r.sort_values(["_m", "_la"])
    cols = {c: r[c].tolist() for c in ("measure_id", "kind", "la_code", "numerator",
                                       "numerator_display", "denominator", "denominator_display",
                                       "value", "display")}  # lists: Arrow text is slow to iterate
    return pd.DataFrame({
        "Measure": [view.label(m) for m in cols["measure_id"]], "Unit": cols["kind"],
        "LA code": cols["la_code"],
        "This LA": ["yes" if la == view.la_code else "" for la in cols["la_code"]],
        "Numerator": [cell(v, s) for v, s in zip(cols["numerator"], cols["numerator_display"],
                                                  strict=True)],
        "Denominator": [cell(v, s) for v, s in zip(cols["denominator"], cols["denominator_display"],
                                                    strict=True)],
        "Value": [cell(v, s) for v, s in zip(cols["value"], cols["display"], strict=True)]})


def published_frame(bench: pd.DataFrame) -> pd.DataFrame:
    """The LA beside DfE's published figures (``benchmarks.comparators``): its own
    figure as released, England, its region and statistical neighbours, its quartile
    band, the published year, a reconciliation and where definitions differ."""
    unit = ["per 10,000 children" if per else str(kind)
            for per, kind in zip(bench["per_10k"], bench["kind"], strict=True)]
    return pd.DataFrame({
        "Measure": bench["label"].tolist(), "Unit": unit,
        "This LA": [cell(v, s) for v, s in zip(bench["la_value"], bench["la_shown"], strict=True)],
        **{name: [cell(v, "x") for v in bench[col]] for name, col in (
            ("England", "england"), ("Region", "region"), ("Neighbours median", "neighbours_median"),
            ("Neighbours lowest", "neighbours_min"), ("Neighbours highest", "neighbours_max"))},
        "Neighbours with a figure": bench["neighbours_n"].astype(int).tolist(),
        "Quartile band of all LAs (1 = lowest)": [int(b) if pd.notna(b) else "x"
                                                  for b in bench["quartile_band"]],
        "Published year": bench["published_year"].tolist(),
        "Reconciliation": bench["reconciliation"].tolist(),
        "Definition differs": bench["note"].tolist()})


def about_lines(title: str, period_end: str, threshold: int, published: bool) -> list[str]:
    """The About sheet: what the workbook is, the symbols, the rule, the attribution."""
    lines = [title, f"Year ending {long_date(period_end)}.", "",
             (f"Every figure is as published in the reports: counts from 1 to {threshold}, "
             "and figures that would reveal one, are shown as c; comparator figures pool "
             "only LAs whose own figure is shown (the 'pooled' columns say how many)."),
             ("Rates are shown as percentages, counts as whole numbers, ratios to two "
             "decimals. Symbols (DfE's):")]
    lines += [f"  {s}: {meaning}" for s, meaning in disclosure.SYMBOLS.items()]
    if published:
        from csc_outcomes.published import ATTRIBUTION  # noqa: PLC0415 - only when shown

        lines += ["", ATTRIBUTION]
    lines += ["", "Produced by csc-outcomes; definitions in docs/measures.md."]
    return lines


def column_widths(frame: pd.DataFrame) -> list[int]:
    """Each column's width in characters: its longest header or value, 10 to 60."""
    widths = []
    for col in frame.columns:
        longest = max([len(str(col)), *(len(str(v)) for v in frame[col])]) if len(frame) else len(col)
        widths.append(min(60, max(10, longest + 2)))
    return widths


def fill_sheet(ws: Any, frame: pd.DataFrame, units: Sequence[str] | None = None) -> None:
    """Header row, then the frame's rows; number formats, frozen header, autofilter.

    Written as a stream (``ws`` a sheet of a write-only workbook: each row's cells made
    once, styled as they are made): a national run writes 154 workbooks of 30,000 cells
    each, and openpyxl's in-memory sheets cost most of a second a workbook."""
    width = len(frame.columns)
    ref = f"A1:{get_column_letter(max(width, 1))}{len(frame) + 1 if width else 1}"
    sized(ws, ref)
    if not width:
        return
    for j, size in enumerate(column_widths(frame), start=1):
        ws.column_dimensions[get_column_letter(j)].width = size
    ws.freeze_panes = "A2"
    if len(frame):
        ws.auto_filter.ref = ref
    ws.append([header_cell(ws, col) for col in frame.columns])
    in_value = [col in VALUE_COLUMNS for col in frame.columns]
    for i, values in enumerate(frame.itertuples(index=False)):
        try:
            row = styled_row(ws, values, in_value, units[i] if units is not None else "count")
        except ValueError as exc:
            raise ValueError(f"sheet {ws.title!r}, row {i + 2}: {exc}, in "
                             f"{dict(zip(frame.columns, values, strict=True))!r}") from None
        ws.append(row)


def sized(ws: Any, ref: str) -> None:
    """Give a write-only sheet its size (``A1:G27``), as an in-memory sheet records it:
    readers that trust it (openpyxl's read-only mode) otherwise see an unsized sheet."""
    ws.calculate_dimension = lambda: ref


#: What a cell may hold (openpyxl's own types, numpy's numbers).
_PLAIN = (str, float, int, bool, type(None), dt.date, dt.time, dt.timedelta, Decimal, np.number,
          np.bool_)


def styled_row(ws: Any, values: Sequence[Any], in_value: Sequence[bool], unit: str) -> list[Any]:
    """One row's cells: numbers formatted by the measure's unit (value columns) or as
    counts, DfE's symbols right-aligned as numbers are, anything else as it is. A value
    Excel cannot hold (``pd.NA``, ``pd.NaT``, an object) is refused before it is written:
    a stream half-written cannot be taken back."""
    row: list[Any] = []
    for is_value, v in zip(in_value, values, strict=True):
        if not isinstance(v, _PLAIN) or v is pd.NaT:
            raise ValueError(f"{v!r} is not a value Excel can hold")
        if isinstance(v, float):
            cell = WriteOnlyCell(ws, v)
            cell.number_format = (NUMBER_FORMATS.get(unit, "General") if is_value
                                  else NUMBER_FORMATS["count"])
            row.append(cell)
        elif isinstance(v, str) and v in disclosure.SYMBOLS:
            cell = WriteOnlyCell(ws, v)
            cell.alignment = _SYMBOL_ALIGNMENT
            row.append(cell)
        else:
            row.append(v)
    return row


def header_cell(ws: Any, text: Any) -> WriteOnlyCell:
    """A header cell: bold, shaded, wrapped."""
    cell = WriteOnlyCell(ws, text)
    cell.font, cell.fill = Font(bold=True), _HEADER_FILL
    cell.alignment = Alignment(wrap_text=True, vertical="top")
    return cell


def write_workbook(path: Path, title: str, period_end: str, threshold: int,
                   sheets: Mapping[str, pd.DataFrame], *, published: bool = False) -> Path:
    """An About sheet, then each frame as a sheet (a ``Unit`` column sets its numbers'
    formats); written atomically."""
    book = Workbook(write_only=True)
    about = book.create_sheet("About")
    about.column_dimensions["A"].width = 110
    lines = about_lines(title, period_end, threshold, published)
    sized(about, f"A1:A{len(lines)}")
    title_cell = WriteOnlyCell(about, lines[0])
    title_cell.font = Font(bold=True, size=14)
    about.append([title_cell])
    for line in lines[1:]:
        about.append([line])
    try:
        for name, frame in sheets.items():
            units = frame["Unit"].tolist() if "Unit" in frame.columns else None
            fill_sheet(book.create_sheet(name), frame, units)
    except ValueError:
        for ws in book.worksheets:  # end each stream, so its temporary file goes with it
            ws.close()
        raise
    book.properties.title, book.properties.creator = title, "csc-outcomes"
    with atomic.atomic_path(path) as tmp:
        book.save(tmp)
    return path


def period_views(released: pd.DataFrame, period_end: str,
                 la_info: Mapping[str, tuple[str | None, Sequence[str]]]) -> list[ReportView]:
    """A view per LA with figures at the period (``la_info``: LA -> name, comparators)."""
    las = sorted(released.loc[released["period_end"] == pd.Timestamp(period_end), "la_code"].unique())
    return [ReportView(released, la, period_end, comparators=la_info.get(la, (None, ()))[1],
                       la_name=la_info.get(la, (None, ()))[0]) for la in las]


def shown_periods(released: pd.DataFrame, period_end: str, threshold: int) -> pd.DataFrame:
    """The released rows of the period and of the one it is compared with (a year
    earlier): all a workbook shows. A run's rows hold every month end the returns
    cover, and looking figures up in all of them made the workbooks ten times slower."""
    las = released["la_code"].dropna()
    if las.empty:
        return released
    prev = ReportView(released, str(las.iloc[0]), period_end).previous_period()
    keep = [pd.Timestamp(period_end), *([prev] if prev is not None else [])]
    return disclosure.mark_released(released[released["period_end"].isin(keep)].copy(), threshold)


def la_info(plan: RunPlan, las: Iterable[str]) -> dict[str, tuple[str | None, Sequence[str]]]:
    """Each LA's display name and statistical neighbours, from its parameters file."""
    info: dict[str, tuple[str | None, Sequence[str]]] = {}
    for la in las:
        params = plan.la_parameters.get(la) or load_la_parameters(la, plan.parameters_dir)
        info[la] = (params.get("name"), list(params.get("statistical_neighbours") or []))
    return info


def stage_workbooks(plan: RunPlan, la_codes: Sequence[str]) -> list[Path]:
    """Write the period's workbook and one per LA of ``la_codes`` into the staging
    folder (``<staging>/workbook.xlsx``, ``<staging>/<LA>/workbook.xlsx``), where the
    leak scan reads them and the manifest lists them; return their paths."""
    released = shown_periods(disclosure.release(plan.measures_rows, plan.threshold),
                             plan.period_end, plan.threshold)
    las = sorted(released["la_code"].dropna().unique())
    views = period_views(released, plan.period_end, la_info(plan, las))
    when = long_date(plan.period_end)
    every = f"Outcome measures for every LA, year ending {when}"
    pools = Pools()
    rows = {v.la_code: measure_rows(v, pools) for v in views}  # the period's, then each LA's
    jobs: list[WorkbookJob] = [(plan.staging / FILE_NAME, every, plan.period_end, plan.threshold,
                                {"Measures": pd.DataFrame([r for v in views for r in rows[v.la_code]])},
                                False)]
    qa_path = data_quality.qa_report_path(Path(plan.config.warehouse).resolve())
    pub = load_published(plan.shared_dir)  # the notebooks' copy (parsed once per release)
    for view in (v for v in views if v.la_code in set(la_codes)):
        like = (plan.la_parameters.get(view.la_code) or {}).get("like") or None
        bench = benchmarks.comparators(view, view.la_code, plan.period_end, like,
                                       published=pub, threshold=plan.threshold)
        sheets = {"Measures": pd.DataFrame(rows[view.la_code]), "Comparators": comparators_frame(view),
                  "Published comparators": published_frame(bench)}
        quality, _ = data_quality.la_quality(qa_path, plan.warehouse, view.la_code,
                                             plan.threshold)
        if quality is not None:
            sheets["Data quality"] = quality
        jobs.append((plan.staging / view.la_code / FILE_NAME,
                     f"Outcome measures for {view.name}, year ending {when}",
                     plan.period_end, plan.threshold, sheets, True))
    plan.log(f"workbooks: {len(jobs)}, {plan.config.jobs} at once")
    done = worker_pool.map_in_processes(write_workbook_job, jobs, plan.config.jobs,
                                        progress=worker_pool.every_tenth(plan.log, "workbooks written"))
    failed = [f"{d.item[0]}: {d.error}" for d in done if d.error]
    if failed:
        raise RuntimeError("workbook(s) not written: " + "; ".join(failed))
    return [Path(d.value) for d in done if d.value]


#: One workbook to write: path, title, period end, threshold, sheets, published figures shown.
WorkbookJob = tuple[Path, str, str, int, Mapping[str, pd.DataFrame], bool]


def write_workbook_job(job: WorkbookJob) -> Path:
    """``write_workbook`` for one of ``stage_workbooks``' jobs (here or in a worker
    process: openpyxl is pure Python, and a national run writes 154 workbooks)."""
    path, title, period_end, threshold, sheets, published = job
    return write_workbook(path, title, period_end, threshold, sheets, published=published)
