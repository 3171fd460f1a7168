"""A table an LA supplied before but not in its latest return is refused by name (finding 6:
today a missing SYN02/ssda903/2026/episodes.csv is skipped and the ingest exits 0), unless
accepted with --allow-missing, which the QA report records."""

from __future__ import annotations

import json
import shutil

import pytest

from csc_outcomes.cli import main
from csc_outcomes.ingest import UsageError, ingest_folder
from csc_outcomes.ingest.completeness import missing_tables
from csc_outcomes.ingest.units import Unit

from .conftest import TODAY, file_entry

EPISODES = "E1/ssda903/2025/episodes.csv"


def test_a_table_missing_from_the_latest_return_is_refused_by_name(clean_dir, tmp_path, capsys):
    (clean_dir / EPISODES).unlink()
    result = ingest_folder(clean_dir, today=TODAY, jobs=1)
    assert result.exit_code == 1
    entry = file_entry(result, EPISODES)
    assert entry["status"] == "rejected" and entry["problems"][0]["rule"] == "table_missing"
    message = entry["problems"][0]["message"]
    assert "E1/ssda903/2024/episodes.csv" in message and "--allow-missing episodes" in message
    assert result.qa["missing_tables"] == [{
        "la_code": "E1", "source": "ssda903", "table": "episodes", "path": EPISODES, "last_year": 2024,
        "last_file": "E1/ssda903/2024/episodes.csv", "latest_year": 2025, "allowed": False}]
    wh = tmp_path / "w.duckdb"
    args = ["ingest", str(clean_dir), "--warehouse", str(wh), "--today", TODAY.isoformat()]
    assert main(args) == 1
    assert f"REJECTED FILE {EPISODES}: {EPISODES}: missing" in capsys.readouterr().out
    assert not wh.exists()


def test_allow_missing_accepts_it_knowingly_and_the_qa_report_records_it(clean_dir, tmp_path, capsys):
    (clean_dir / EPISODES).unlink()
    wh = tmp_path / "w.duckdb"
    args = ["ingest", str(clean_dir), "--warehouse", str(wh), "--today", TODAY.isoformat()]
    assert main([*args, "--allow-missing", "episodes"]) == 0
    assert f"MISSING {EPISODES} (episodes, supplied up to 2024): accepted with --allow-missing" in \
        capsys.readouterr().out
    qa = json.loads((tmp_path / "w.qa.json").read_text())
    assert [(m["path"], m["allowed"]) for m in qa["missing_tables"]] == [(EPISODES, True)]
    assert qa["summary"]["files_rejected"] == 0 and wh.exists()
    assert main([*args, "--allow-missing", "header"]) == 1  # another table does not cover it
    assert main([*args, "--allow-missing", "episode"]) == 2  # not a table: a usage error
    assert "not a table name" in capsys.readouterr().err
    with pytest.raises(UsageError):
        ingest_folder(clean_dir, today=TODAY, allow_missing=["../x"])


def test_a_missing_census_names_the_year_folder(clean_dir):
    shutil.rmtree(clean_dir / "E1/cin/2025")
    (clean_dir / "E1/cin/2025").mkdir()
    result = ingest_folder(clean_dir, today=TODAY, jobs=1)
    assert result.exit_code == 1
    entry = file_entry(result, "E1/cin/2025/")
    assert "cin_children" in entry["problems"][0]["message"]
    assert "--allow-missing cin_children" in entry["problems"][0]["message"]
    assert {m["table"] for m in result.qa["missing_tables"]} == {
        "cin_children", "cin_episodes", "assessments", "assessment_factors", "cin_plans", "section47",
        "cp_plans"}


def test_a_complete_return_and_a_table_first_collected_later_are_fine(clean_dir):
    # sw_episodes is in 2025 only (collected from 2024, first supplied in 2025): nothing missing
    result = ingest_folder(clean_dir, today=TODAY, jobs=1)
    assert result.exit_code == 0 and result.qa["missing_tables"] == []
    # an earlier year without a table is not the latest: nothing to refuse
    (clean_dir / "E1/ssda903/2024/uasc.csv").unlink()
    assert ingest_folder(clean_dir, today=TODAY, jobs=1).qa["missing_tables"] == []


def _unit(label: str, table: str, year: int, source: str = "ssda903") -> Unit:
    return Unit(label.split("/", maxsplit=1)[0], source, table, label, year)


def test_an_ssda903_xml_return_holds_every_table():
    # 2025 came as one XML file without ad1 rows: an empty table, not a missing one
    units = [_unit("E2/ssda903/2024/ad1.csv", "ad1", 2024), _unit("E2/ssda903/2024/header.csv", "header", 2024),
             _unit("E2/ssda903/2025/return.xml", "header", 2025)]
    assert missing_tables(units) == []
    # the other way round: tables of an XML year, then CSV files without one of them
    units = [_unit("E2/ssda903/2024/return.xml", "ad1", 2024), _unit("E2/ssda903/2024/return.xml", "header", 2024),
             _unit("E2/ssda903/2025/header.csv", "header", 2025)]
    [m] = missing_tables(units)
    assert (m.table, m.path, m.last_file) == ("ad1", "E2/ssda903/2025/", "E2/ssda903/2024/return.xml")


def test_the_latest_year_is_the_las_latest_return_of_either_source():
    units = [_unit("E3/ssda903/2025/header.csv", "header", 2025), _unit("E3/ssda903/2026/header.csv", "header", 2026),
             _unit("E3/cin/2025/cin.xml", "cin_children", 2025, "cin")]
    [m] = missing_tables(units)
    assert (m.table, m.path, m.latest_year) == ("cin_children", "E3/cin/2026/", 2026)
    feeds = [_unit("E3/ssda903/2026/header.csv", "header", 2026),
             Unit("E3", "school_census", "attendance", "E3/school_census/a.csv", None)]
    assert missing_tables(feeds) == []  # feeds carry their own dates: no yearly return
