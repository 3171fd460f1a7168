"""Data quality per LA: counts from the QA report and the repairs table, small counts
suppressed, one sentence per item, and a note (never an error) without a usable report."""

import json

from csc_outcomes import warehouse as wh
from csc_outcomes.reporting import data_quality as dq

QA = {"input_hash": "abc", "files": [
    {"path": "SYN01/ssda903/2026/header.csv", "la_code": "SYN01", "status": "read",
     "rows_read": 120, "rows_rejected": 2, "problems": [
         {"severity": "error", "rule": "date"}, {"severity": "error", "rule": "code"},
         {"severity": "warning", "rule": "odd"}]},
    {"path": "SYN01/ssda903/2026/episodes.csv", "la_code": "SYN01", "status": "rejected",
     "rows_read": 300, "rows_rejected": 300, "problems": [{"severity": "error", "rule": "cols"}]},
    {"path": "SYN01/school_census/attendance.csv", "la_code": "SYN01", "status": "read",
     "rows_read": 900, "rows_rejected": 0, "rows_unmatched": 40,
     "problems": [{"severity": "warning", "rule": "unmatched"}]},
    {"path": "SYN02/ssda903/2026/header.csv", "la_code": "SYN02", "status": "read",
     "rows_read": 80, "rows_rejected": 0, "problems": []},
]}
REPAIRS = {"SYN01": 7, "SYN02": 1}  # rows of the repairs table, per LA


def test_counts_per_la_hand_worked():
    counts = dq.la_counts(QA, "SYN01", REPAIRS["SYN01"])
    assert counts == {"files": 3, "files_rejected": 1, "rows_read": 1320, "rows_rejected": 302,
                      "repairs": 7, "rows_unmatched": 40, "warnings": 2}
    assert dq.la_counts(QA, "SYN02", REPAIRS["SYN02"])["rows_read"] == 80


def test_table_suppresses_small_counts_and_says_what_each_means():
    table = dq.quality_table(dq.la_counts(QA, "SYN01", REPAIRS["SYN01"]))
    shown = dict(zip(table["Item"], table["Count"], strict=True))
    assert shown["Files read"] == "c" and shown["Files rejected"] == "c"  # 3 and 1
    assert shown["Records read"] == 1320 and shown["Records rejected"] == 302
    assert shown["Records repaired"] == 7 and shown["Warnings"] == "c"
    assert "Records accepted" not in shown  # read minus rejected would give a c back
    assert table["What it means for the figures"].str.len().min() > 30


def test_missing_or_broken_report_is_a_note(tmp_path):
    table, note = dq.la_quality(tmp_path / "none.qa.json", tmp_path / "w.duckdb", "SYN01")
    assert table is None and "No ingest QA report" in note
    bad = tmp_path / "w.qa.json"
    bad.write_text("{not json")
    table, note = dq.la_quality(bad, tmp_path / "w.duckdb", "SYN01")
    assert table is None and "could not be read" in note


def test_stale_report_said_so(tmp_path, monkeypatch):
    qa = tmp_path / "w.qa.json"
    qa.write_text(json.dumps(QA))
    (tmp_path / "w.duckdb").write_bytes(b"")
    facts = {"hashes": frozenset({"other"})}
    monkeypatch.setattr(dq, "warehouse_facts", lambda version: (REPAIRS, facts["hashes"]))
    table, note = dq.la_quality(qa, tmp_path / "w.duckdb", "SYN01")
    assert table is not None and "from another ingest" in note
    facts["hashes"] = frozenset({"abc"})
    assert "from another ingest" not in dq.la_quality(qa, tmp_path / "w.duckdb", "SYN01")[1]


def test_the_warehouse_facts_are_counted_in_sql_as_the_rows_say(tiny_setup):
    path = tiny_setup / "data" / "warehouse.duckdb"
    repairs, hashes = dq.warehouse_facts(dq.file_version(path))
    rows = wh.read_table(path, "repairs")
    assert repairs == rows["la_code"].value_counts().to_dict() and sum(repairs.values()) > 0
    assert hashes == set(wh.read_table(path, "ingest_runs")["input_hash"].dropna().astype(str))


def test_a_rewritten_qa_report_is_read_again(tmp_path):
    qa = tmp_path / "w.qa.json"
    qa.write_text(json.dumps(QA))
    assert dq.load_qa(qa) is dq.load_qa(qa), "one version: read once"
    qa.write_text(json.dumps({**QA, "input_hash": "new, and longer"}))
    assert dq.load_qa(qa)["input_hash"] == "new, and longer"
