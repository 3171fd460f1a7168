"""The Excel workbooks: readable with openpyxl, suppressed exactly as the reports show,
numbers formatted, header frozen and filterable; the leak scan reads them in a run."""

import shutil
from types import SimpleNamespace

import openpyxl
import pandas as pd
import pytest

from csc_outcomes.published import ATTRIBUTION
from csc_outcomes.reporting import context as ctx
from csc_outcomes.reporting import disclosure
from csc_outcomes.reporting import workbook as wb
from csc_outcomes.reporting.config import RunError
from csc_outcomes.reporting.run import run

from conftest import PERIOD, tiny_config


def measures():
    rows = []
    for la, (num, den, count) in {"SYN01": (30, 120, 60), "SYN02": (3, 40, 4),
                                  "SYN03": (20, 100, 80)}.items():
        rows += [(la, PERIOD, "rereferrals_within_12m", num, den, num / den),
                 (la, PERIOD, "cla_at_period_end", count, None, float(count))]
    df = pd.DataFrame(rows, columns=["la_code", "period_end", "measure_id", "numerator",
                                     "denominator", "value"])
    df["period_end"] = pd.to_datetime(df["period_end"])
    return df


def stage(tmp_path, las=("SYN01", "SYN02")):
    """``stage_workbooks`` with the few things of a plan it reads (no warehouse, no QA)."""
    plan = SimpleNamespace(
        measures_rows=measures(), threshold=5, period_end=PERIOD, staging=tmp_path / "staging",
        la_parameters={"SYN01": {"name": "Synthetia", "statistical_neighbours": ["SYN03"],
                                 "like": "E06000001"}},
        parameters_dir=tmp_path, config=SimpleNamespace(warehouse=tmp_path / "w.duckdb", jobs=2),
        warehouse=tmp_path / "w.duckdb", shared_dir=tmp_path / "shared", log=lambda m: None)
    return wb.stage_workbooks(plan, list(las))


def rows(path, sheet):
    book = openpyxl.load_workbook(path)
    ws = book[sheet]
    header = [c.value for c in ws[1]]
    return ws, [dict(zip(header, list(r), strict=True)) for r in ws.iter_rows(min_row=2)]


def test_workbooks_per_period_and_per_la(tmp_path):
    paths = stage(tmp_path)
    staging = tmp_path / "staging"
    assert paths == [staging / "workbook.xlsx", staging / "SYN01" / "workbook.xlsx",
                     staging / "SYN02" / "workbook.xlsx"]
    _, everyone = rows(paths[0], "Measures")
    assert {r["LA code"].value for r in everyone} == {"SYN01", "SYN02", "SYN03"}
    assert openpyxl.load_workbook(paths[1]).sheetnames == [
        "About", "Measures", "Comparators", "Published comparators"]
    _, comps = rows(paths[1], "Comparators")  # SYN01 and its neighbour SYN03, measure by measure
    assert [(r["Measure"].value, r["LA code"].value, r["This LA"].value, r["Value"].value)
            for r in comps] == [("Re-referrals within 12 months", "SYN01", "yes", 0.25),
                                ("Re-referrals within 12 months", "SYN03", None, 0.2),
                                ("Children looked after at the period end", "SYN01", "yes", 60),
                                ("Children looked after at the period end", "SYN03", None, 80)]


def test_suppressed_exactly_as_the_reports_show(tmp_path):
    paths = stage(tmp_path)
    view = ctx.ReportView.from_measures(measures(), "SYN02", PERIOD)
    ws, mine = rows(paths[2], "Measures")
    cells = {r["Measure id"].value: r for r in mine}
    rate = cells["rereferrals_within_12m"]  # 3 of 40: c whole, as the report shows it
    assert view.shown("rereferrals_within_12m") == "c"
    assert rate["Numerator"].value == "c" and rate["Value"].value == "c"
    assert rate["Denominator"].value == 40
    assert cells["cla_at_period_end"]["Value"].value == "c"  # a count of 4
    everything = [c.value for row in ws.iter_rows() for c in row]
    assert 3 not in everything and 4 not in everything


def test_numbers_formatted_header_frozen_and_filterable(tmp_path):
    paths = stage(tmp_path)
    ws, mine = rows(paths[1], "Measures")
    rate = next(r for r in mine if r["Measure id"].value == "rereferrals_within_12m")
    assert rate["Value"].value == pytest.approx(0.25) and rate["Value"].number_format == "0.0%"
    assert rate["Numerator"].value == 30 and rate["Numerator"].number_format == "#,##0"
    assert rate["Comparators"].value == "statistical neighbours"
    assert rate["Comparator value"].value == pytest.approx(0.2)  # SYN03: 20 of 100
    assert rate["All LAs value"].value == pytest.approx(50 / 220)  # SYN02 (c) left out
    assert rate["All LAs pooled"].value == "2 of 3"
    assert rate["LA name"].value == "Synthetia"
    count = next(r for r in mine if r["Measure id"].value == "cla_at_period_end")
    assert count["Value"].number_format == "#,##0"
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref == ws.dimensions
    assert ws["A1"].font.bold
    about = [r[0] for r in openpyxl.load_workbook(paths[1])["About"].iter_rows(values_only=True)]
    assert "Synthetia" in about[0] and any(str(x).startswith("  c: suppressed") for x in about)


def test_attribution_where_published_figures_appear(tmp_path):
    frame = pd.DataFrame({"Measure": ["x"], "Unit": ["rate"], "England": [0.2]})
    path = wb.write_workbook(tmp_path / "p.xlsx", "Title", PERIOD, 5, {"Published": frame},
                             published=True)
    about = [r[0] for r in openpyxl.load_workbook(path)["About"].iter_rows(values_only=True)]
    assert ATTRIBUTION in about
    plain = wb.write_workbook(tmp_path / "q.xlsx", "Title", PERIOD, 5, {"M": frame})
    assert ATTRIBUTION not in [r[0] for r in openpyxl.load_workbook(plain)["About"].iter_rows(
        values_only=True)]


def test_released_mark_kept(tmp_path):
    released = disclosure.release(measures())
    views = wb.period_views(released, PERIOD, {})
    assert [v.la_code for v in views] == ["SYN01", "SYN02", "SYN03"]


@pytest.mark.slow
def test_child_id_in_a_workbook_fails_the_run(tiny_setup, tmp_path):
    """SYN02's name is a child's id: only the period workbook holds it (SYN02 is not run),
    so the leak scan must read the workbook's cells to stop the run."""
    params = shutil.copytree(tiny_setup / "parameters", tmp_path / "parameters")
    (params / "SYN02.yaml").write_text("name: C0000123456\n")
    with pytest.raises(RunError, match="leak scan") as info:
        run(tiny_config(tiny_setup, tmp_path, ["SYN01"], parameters_dir=params))
    assert "workbook.xlsx" in str(info.value)
    assert not (tmp_path / "reports" / PERIOD).exists()
    quarantine = next((tmp_path / "restricted" / PERIOD).glob("quarantine-*"))
    assert (quarantine / "workbook.xlsx").is_file() and (quarantine / "SYN01" / "workbook.xlsx").is_file()


def test_an_las_workbook_sets_it_beside_the_published_figures(tmp_path):
    # SYN01 stands in for Hartlepool; by hand from published/ (c1, 2025): England 142,900
    # of 632,830 re-referrals, North East 6,730 of 32,490, neighbours' middle two
    # Sunderland 590/3,193 and County Durham 1,003/5,378
    path = stage(tmp_path)[1]
    _, published = rows(path, "Published comparators")
    (rr,) = [r for r in published if r["Measure"].value == "Re-referrals within 12 months"]
    assert rr["This LA"].value == pytest.approx(0.25)
    assert rr["England"].value == pytest.approx(142900 / 632830)
    assert rr["Region"].value == pytest.approx(6730 / 32490)
    assert rr["Neighbours median"].value == pytest.approx((590 / 3193 + 1003 / 5378) / 2)
    assert rr["England"].number_format == "0.0%" and rr["Published year"].value == 2025
    about = [r[0] for r in openpyxl.load_workbook(path)["About"].iter_rows(values_only=True)]
    assert ATTRIBUTION in about


def test_views_of_one_table_share_each_pool_and_give_the_views_own_figures():
    """A national run pools every measure of 153 LAs twice: each pool is worked out once
    for every view of the table (the all-LAs one is the same for every LA), and each
    equals the view's own ``pool``, kind and period compared with."""
    released = disclosure.release(measures(), 5)
    views = wb.period_views(released, PERIOD, {"SYN01": ("Synthetia", ["SYN03"])})
    pools = wb.Pools()
    for view in views:
        for m in ("rereferrals_within_12m", "cla_at_period_end"):
            for las in (view.comparator_codes, view.all_las()):
                assert pools.pool(view, m, las) == view.pool(m, las)
            assert pools.kind(view, m) == view.kind(m)
        assert pools.previous_period(view) == view.previous_period()
    first, second = views[0], views[1]
    shared = pools.pool(first, "cla_at_period_end", first.all_las())
    assert pools.pool(second, "cla_at_period_end", second.all_las()) is shared
    assert shared.las == ("SYN01", "SYN03")  # SYN02's 4 is suppressed, so not pooled
    assert [r["LA code"] for r in wb.measure_rows(second, pools)] == ["SYN02", "SYN02"]
    assert wb.measures_frame(views, pools).equals(wb.measures_frame(views))


def test_streamed_sheets_are_sized_and_a_value_excel_cannot_hold_is_named(tmp_path):
    """Sheets are written as streams: each still records its size (readers that trust it,
    openpyxl's read-only mode, see A1:C3, not an unsized sheet), a frame with no columns
    is an empty sheet, and a value Excel cannot hold fails naming its sheet, row and value,
    leaving no workbook behind."""
    frame = pd.DataFrame({"Measure": ["a", "b"], "Value": [0.5, "c"], "Unit": ["rate", "rate"]})
    path = wb.write_workbook(tmp_path / "w.xlsx", "T", "2026-03-31", 5,
                                   {"Measures": frame, "Empty": pd.DataFrame()})
    book = openpyxl.load_workbook(path, read_only=True)
    sizes = {ws.title: (ws.calculate_dimension(), ws.max_row, ws.max_column) for ws in book.worksheets}
    assert sizes["Measures"] == ("A1:C3", 3, 3) and sizes["Empty"] == ("A1:A1", 1, 1)
    assert sizes["About"][0].startswith("A1:A")
    bad = pd.DataFrame({"Measure": ["a"], "Published year": [pd.NA]})
    with pytest.raises(ValueError, match=r"sheet .Bad., row 2: <NA> is not a value Excel can hold, in .*Published year"):
        wb.write_workbook(tmp_path / "bad.xlsx", "T", "2026-03-31", 5, {"Bad": bad})
    assert not (tmp_path / "bad.xlsx").exists()
