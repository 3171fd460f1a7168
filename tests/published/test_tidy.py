"""The tidy published table against figures read by hand from DfE's files."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from csc_outcomes.published.contract import ATTRIBUTION, PublishedFileError
from csc_outcomes.published.tidy import TIDY_COLUMNS, published_measures

from .conftest import ENGLAND_2025, LA_A_2025, c1_rows


def row(table: pd.DataFrame, area: str, year: int, measure: str) -> pd.Series:
    hit = table[(table["area_code"] == area) & (table["year"] == year)
                & (table["measure_id"] == measure)]
    assert len(hit) == 1, (area, year, measure, len(hit))
    return hit.iloc[0]


def test_england_2025_referrals_come_out_as_published() -> None:
    # c1 file, line 2: 2025 England: referral_count 632830, rereferral_count 142900
    # (22.6%), no_further_action_count 41340 (6.5%).
    table = published_measures(years=[2025], measure_ids=["referrals", "rereferrals_within_12m",
                                                          "referrals_nfa"])
    assert list(table.columns) == TIDY_COLUMNS
    r = row(table, "E92000001", 2025, "referrals")
    assert (r["numerator"], r["value"]) == (632830, 632830) and pd.isna(r["denominator"])
    r = row(table, "E92000001", 2025, "rereferrals_within_12m")
    assert (r["numerator"], r["denominator"]) == (142900, 632830)
    assert r["value"] == pytest.approx(142900 / 632830) and round(r["value"] * 100, 1) == 22.6
    assert r["area_name"] == "England" and r["geographic_level"] == "National"


def test_an_la_older_year_and_academic_year_figures() -> None:
    table = published_measures(measure_ids=["rereferrals_within_12m", "cla_attendance_rate"])
    # c1, line 1131: 2019 Barking and Dagenham (E09000002): 3730 referrals, 532 re-referrals.
    r = row(table, "E09000002", 2019, "rereferrals_within_12m")
    assert (r["numerator"], r["denominator"]) == (532, 3730)
    # absence_la, line 1557: 202425, Barking and Dagenham, CLA 12 months, Total:
    # sessions possible 53521, overall absence 4673 -> attended 48848; 2024/25 is year 2025.
    r = row(table, "E09000002", 2025, "cla_attendance_rate")
    assert (r["numerator"], r["denominator"]) == (53521 - 4673, 53521)


def test_a_symbol_is_never_a_number() -> None:
    # la_cla_placement_stability, lines 842-843: Kensington and Chelsea 2025, long-term
    # stability: 'c' of 8 children.
    table = published_measures(years=[2025], measure_ids=["cla_long_term_stability"])
    r = row(table, "E09000020", 2025, "cla_long_term_stability")
    assert r["symbol"] == "c" and pd.isna(r["numerator"]) and pd.isna(r["value"])
    assert r["denominator"] == 8


def test_every_current_la_england_and_regions_and_no_former_la() -> None:
    table = published_measures(years=[2025], measure_ids=["referrals"])
    levels = table["geographic_level"].value_counts()
    assert levels["National"] == 1 and levels["Local authority"] == 153
    assert "E10000006" not in set(table["area_code"])  # Cumbria, abolished in 2023
    assert table.iloc[0]["area_code"] == "E92000001"  # England first


def test_tiny_folder_quoted_names_and_symbols(tiny_published: Path) -> None:
    table = published_measures(tiny_published)
    durham = row(table, "E06000047", 2025, "rereferrals_within_12m")
    assert durham["area_name"] == "Durham, County" and durham["symbol"] == "c"
    assert durham["denominator"] == 6000 and pd.isna(durham["numerator"])
    nfa = row(table, "E06000001", 2025, "referrals_nfa")
    assert nfa["symbol"] == "x" and pd.isna(nfa["value"])


@pytest.mark.parametrize(("bad_row", "line", "column", "value"), [
    (LA_A_2025.replace(",6000,", ",6 000,"), 3, "referral_count", "6 000"),
    (LA_A_2025.replace("Local authority", "Ward"), 3, "geographic_level", "Ward"),
    (LA_A_2025.replace("2025,", "2025/26,", 1), 3, "time_period", "2025/26"),
])
def test_a_malformed_file_is_refused_naming_line_column_and_value(
        tmp_path: Path, bad_row: str, line: int, column: str, value: str) -> None:
    folder = tmp_path / "p"
    folder.mkdir()
    name = "c1_children_in_need_referrals_and_rereferrals_2013_to_2025.csv"
    (folder / name).write_text(c1_rows(ENGLAND_2025, bad_row), encoding="utf-8")
    with pytest.raises(PublishedFileError) as err:
        published_measures(folder)
    assert (err.value.line, err.value.column, err.value.value) == (line, column, value)
    assert name in str(err.value)


def test_a_short_row_and_a_missing_column_are_refused(tmp_path: Path) -> None:
    name = "c1_children_in_need_referrals_and_rereferrals_2013_to_2025.csv"
    folder = tmp_path / "p"
    folder.mkdir()
    (folder / name).write_text(c1_rows(ENGLAND_2025, "2025,Reporting year"), encoding="utf-8")
    with pytest.raises(PublishedFileError, match="line 3"):
        published_measures(folder)
    (folder / name).write_text(c1_rows(ENGLAND_2025).replace("rereferral_count,", "rr,"), encoding="utf-8")
    with pytest.raises(PublishedFileError, match="rereferral_count"):
        published_measures(folder)


def test_unknown_measure_is_a_usage_error() -> None:
    with pytest.raises(ValueError, match="unknown measure"):
        published_measures(measure_ids=["no_such_measure"])


def test_attribution_is_the_open_government_licence() -> None:
    assert "Open Government Licence v3.0" in ATTRIBUTION
