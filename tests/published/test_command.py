"""`csc-outcomes published`: tidy table, neighbours, update, and usage errors."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from csc_outcomes.cli import main

from .conftest import ENGLAND_2025, c1_rows


def test_output_csv_as_documented(tmp_path: Path) -> None:
    out = tmp_path / "pub.csv"
    assert main(["published", "--year", "2025", "--measure", "rereferrals_within_12m",
                 "--output", str(out)]) == 0
    table = pd.read_csv(out, dtype={"area_code": str})
    england = table[table["area_code"] == "E92000001"].iloc[0]
    assert (england["numerator"], england["denominator"]) == (142900, 632830)
    assert "632830.0" not in out.read_text()  # counts are written as whole numbers


def test_neighbours_listing(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["published", "--neighbours", "E09000002"]) == 0
    out = capsys.readouterr().out
    assert "Barking and Dagenham" in out and out.index("Enfield") < out.index("Luton")


@pytest.mark.parametrize("argv", [
    ["published"],
    ["published", "--output", "x.txt"],
    ["published", "update"],
    ["published", "stray.csv", "--output", "x.csv"],
    ["published", "--neighbours", "E99999999"],
])
def test_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        code = main(argv)
        raise SystemExit(code)
    assert exc.value.code == 2
    assert "csc-outcomes" in capsys.readouterr().err


def test_update_with_a_malformed_file_exits_1(tiny_published: Path, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "c1_children_in_need_referrals_and_rereferrals_2013_to_2026.csv"
    bad.write_text(c1_rows(ENGLAND_2025.replace("632830", "many")), encoding="utf-8")
    assert main(["published", "update", str(bad), "--published-dir", str(tiny_published)]) == 1
    err = capsys.readouterr().err
    assert "line 2" in err and "referral_count" in err and "'many'" in err


def test_a_year_the_files_do_not_hold_is_refused_and_nothing_written(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "pub.csv"
    assert main(["published", "--year", "2030", "--measure", "rereferrals_within_12m",
                 "--output", str(out)]) == 2
    err = capsys.readouterr().err
    assert "[2030]" in err and "2013 to 2025" in err and "published update" in err
    assert not out.exists()
