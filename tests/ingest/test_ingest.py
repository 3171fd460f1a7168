"""ingest_folder end to end on hand-written files: accounting, problems, combining years."""

from __future__ import annotations

import pandas as pd
import pytest

from csc_outcomes.ingest.pipeline import UsageError, ingest_folder

from .conftest import EPISODE_COLS, HEADER_COLS, TODAY, file_entry, one_la, problems_of


def _ingest(root, **kw):
    return ingest_folder(root, today=TODAY, **kw)


def test_clean_fixture_ingests_without_rejects(clean_dir):
    r = _ingest(clean_dir)
    assert r.exit_code == 0
    assert r.rejects.empty
    s = r.qa["summary"]
    assert s["rows_rejected"] == 0 and s["files_rejected"] == 0
    for f in r.qa["files"]:
        assert f["rows_read"] == f["rows_accepted"] + f["rows_rejected"]
    # lineage and dtypes
    ep = r.tables["episodes"]
    assert {"la_code", "collection_year", "source_file", "source_line"} <= set(ep.columns)
    assert ep["DECOM"].dtype == "datetime64[ns]" and ep["collection_year"].dtype == "Int64"
    assert set(r.supplied.columns) == {"la_code", "source", "table_name", "collection_year", "source_file"}
    from csc_outcomes.measures.inputs import MeasureInputs

    assert MeasureInputs.from_ingest(r).has("E1", "cp_plans")


def test_cin_tables_flattened(clean_dir):
    r = _ingest(clean_dir)
    t = r.tables
    assert sorted(t["cin_children"]["LAchildID"]) == ["K1", "K2"]
    assert len(t["cin_episodes"]) == 3
    assert sorted(t["assessment_factors"]["AssessmentFactor"]) == ["2A", "3A"]
    assert t["section47"]["ICPCnotRequired"].tolist() == [False, True]
    k2 = t["cin_children"].set_index("LAchildID").loc["K2"]
    assert bool(k2["UPNunknown"]) is True
    k1 = t["cin_children"].set_index("LAchildID").loc["K1"]
    assert k1["GenderCurrent"] == "M" and k1["collection_year"] == 2025 and k1["source_line"] == 1
    cpp = t["cp_plans"].iloc[0]
    assert cpp["NumberOfPreviousCPP"] == 0 and cpp["source_line"] == 51


def test_years_combined_and_stitched_with_repairs(clean_dir):
    r = _ingest(clean_dir)
    ep = r.tables["episodes"].set_index(["CHILD", "DECOM"])
    # open in 2024, closed by the 2025 return: the later version wins
    row = ep.loc[("C1", pd.Timestamp("2023-09-01"))]
    assert row["DEC"] == pd.Timestamp("2024-06-01") and row["collection_year"] == 2025
    # open in 2024 and followed by a later return's episode: closed on its DECOM
    assert ep.loc[("C3", pd.Timestamp("2020-01-01")), "DEC"] == pd.Timestamp("2021-01-01")
    rules = r.repairs.set_index("key")["rule"].to_dict()
    assert rules["CHILD=C1, DECOM=2023-09-01"] == "open_episode_closed_by_later_return"
    assert rules["CHILD=C3, DECOM=2020-01-01"] == "open_episode_closed_by_next"
    assert rules["LAchildID=K1"] == "later_return_wins"
    # header: C1 and C3 in both years, identical: one row each, no repair listed
    assert r.tables["header"]["CHILD"].tolist().count("C1") == 1
    assert not (r.repairs["table_name"] == "header").any()


def test_oc2_kept_per_year(tmp_path):
    oc2 = "CHILD,DOB,SDQ_SCORE\nC1,01/01/2010,10\n"
    root = one_la(tmp_path, {"ssda903/2024/oc2.csv": oc2, "ssda903/2025/oc2.csv": oc2.replace(",10", ",12"),
                             "ssda903/2024/header.csv": f"{HEADER_COLS}\nC1,1,01/01/2010,WBRI,,,\n",
                             "ssda903/2025/header.csv": f"{HEADER_COLS}\nC1,1,01/01/2010,WBRI,,,\n"})
    r = _ingest(root)
    assert sorted(r.tables["oc2"]["SDQ_SCORE"].tolist()) == [10, 12]


def test_messy_csv_is_read(tmp_path):
    text = (f"{HEADER_COLS},NOTES\r\n"
            " c1 , 2 , 01/02/2010 , wbri , a123456789012 ,, ,x\r\n"
            "\r\n"
            "C2,1,2010-02-03,BAFR,,,,y\r\n")
    root = one_la(tmp_path, {"ssda903/2025/header.csv": b"\xef\xbb\xbf" + text.encode("cp1252")})
    r = _ingest(root)
    h = r.tables["header"]
    assert h[["CHILD", "SEX", "ETHNIC", "UPN"]].values.tolist() == [["c1", "2", "WBRI", "A123456789012"],
                                                                     ["C2", "1", "BAFR", None]] or \
        h["CHILD"].tolist() == ["c1", "C2"]
    assert h["source_line"].tolist() == [2, 4]
    assert problems_of(r, "header.csv") == [(1, "NOTES", None, "extra_columns")]
    assert r.exit_code == 0


def test_windows_1252_and_missing_optional_column(tmp_path):
    text = "CHILD,SEX,DOB,ETHNIC\r\nCé1,1,01/02/2010,WBRI\r\n"
    root = one_la(tmp_path, {"ssda903/2024/header.csv": text.encode("cp1252")})
    r = _ingest(root)
    assert r.tables["header"]["CHILD"].tolist() == ["Cé1"]
    assert [p[3] for p in problems_of(r, "header.csv")] == ["missing_optional_column"]


def test_row_problems_quarantined_with_exact_report(tmp_path):
    header = f"{HEADER_COLS}\nC1,1,01/01/2010,WBRI,,,\nC1,1,01/01/2010,WBRI,,,\nC2,3,01/01/2010,WBRI,,,\n"
    episodes = (f"{EPISODE_COLS}\n"
                "C1,01/05/2023,S,C2,N1,U1,PR1,01/04/2023,E8,,,,\n"     # DEC before DECOM
                "C1,01/06/2023,S,C2,N1,U1,PR1,,,,,,\n"
                "C1,01/07/2023,P,C2,N1,U2,PR1,,,,,,\n"                # overlaps the open one
                "C9,01/07/2023,S,C2,N1,U1,PR1,,,,,,\n"                # not in header
                "C1,01/01/2030,P,C2,N1,U2,PR1,,,,,,\n"                # future
                "C1,01/07/2023,P,C2,N1,U2,PR1,,,,,,,EXTRA\n")         # too many fields
    root = one_la(tmp_path, {"ssda903/2024/header.csv": header, "ssda903/2024/episodes.csv": episodes})
    r = _ingest(root)
    assert r.exit_code == 0
    assert problems_of(r, "header.csv") == [(3, "CHILD", "CHILD=C1", "duplicate_key"), (4, "SEX", "3", "code_list")]
    assert problems_of(r, "episodes.csv") == [
        (2, "DEC", "01/04/2023", "date_order"),
        (4, "DECOM", "2023-07-01", "overlapping_episodes"),
        (5, "CHILD", "C9", "child_not_in_header"),
        (6, "DECOM", "01/01/2030", "future_date"),
        (7, None, None, "field_count"),
    ]
    e = file_entry(r, "episodes.csv")
    assert (e["rows_read"], e["rows_accepted"], e["rows_rejected"]) == (6, 3, 3)
    h = file_entry(r, "header.csv")
    assert (h["rows_read"], h["rows_accepted"], h["rows_rejected"]) == (3, 2, 1)
    rej = r.rejects.sort_values("source_line")
    assert rej.loc[rej["source_file"].str.endswith("episodes.csv"), ["source_line", "rule"]].values.tolist() == [
        [2, "date_order"], [6, "future_date"], [7, "field_count"]]
    msg = rej.loc[rej["rule"] == "date_order", "message"].iloc[0]
    assert "E9/ssda903/2024/episodes.csv line 2" in msg and "DEC" in msg and "01/04/2023" in msg
    # the duplicate header row: later row wins, recorded as a repair
    assert r.repairs["rule"].tolist().count("duplicate_in_return") == 1
    assert _ingest(root, strict=True).exit_code == 1


def test_same_code_valid_one_year_rejected_another(tmp_path):
    ep = f"{EPISODE_COLS}\nC1,01/05/2023,S,C2,N1,K3,PR1,,,,,,\n"
    hd = f"{HEADER_COLS}\nC1,1,01/01/2010,WBRI,,,\n"
    root = one_la(tmp_path, {"ssda903/2024/episodes.csv": ep, "ssda903/2024/header.csv": hd,
                             "ssda903/2025/episodes.csv": ep, "ssda903/2025/header.csv": hd})
    r = _ingest(root)
    assert problems_of(r, "2024/episodes.csv") == [(2, "PLACE", "K3", "code_list")]
    assert problems_of(r, "2025/episodes.csv") == []
    assert r.tables["episodes"]["collection_year"].tolist() == [2025]


def test_file_level_problems_reject_the_file(tmp_path):
    root = one_la(tmp_path, {
        "ssda903/2024/header.csv": "CHILD,DOB\nC1,01/01/2010\n",                    # SEX, ETHNIC missing
        "ssda903/2024/episodes.csv": f"{HEADER_COLS}\nC1,1,01/01/2010,WBRI,,,\n",   # header in episodes.csv
        "ssda903/2024/stuff.csv": "a,b\n1,2\n",
        "ssda903/2030/header.csv": f"{HEADER_COLS}\n",
        "cin/2024/cin.xml": "<Message><Children><Child>",
        "ssda903/2024/readme.txt": "ignored",
    })
    r = _ingest(root)
    assert r.exit_code == 1
    by = {f["path"].split("E9/")[1]: f for f in r.qa["files"]}
    assert by["ssda903/2024/header.csv"]["status"] == "rejected"
    assert by["ssda903/2024/header.csv"]["problems"][0]["rule"] == "missing_column"
    assert "SEX, ETHNIC" in by["ssda903/2024/header.csv"]["problems"][0]["message"]
    assert "look like the 'header' table" in by["ssda903/2024/episodes.csv"]["problems"][0]["message"]
    assert by["ssda903/2024/stuff.csv"]["problems"][0]["rule"] == "unknown_file"
    assert by["ssda903/2030/header.csv"]["problems"][0]["rule"] == "collection_year"
    assert by["cin/2024/cin.xml"]["problems"][0]["rule"] == "file_unreadable"
    assert r.qa["ignored"] == ["E9/ssda903/2024/readme.txt"]
    assert set(r.rejects["rule"]) >= {"missing_column", "unknown_file", "collection_year", "file_unreadable"}
    for f in r.qa["files"]:
        assert f["rows_read"] == f["rows_accepted"] + f["rows_rejected"]


def test_feeds_unmatched_counted(clean_dir):
    r = _ingest(clean_dir)
    att = file_entry(r, "attendance.csv")
    assert att["rows_unmatched"] == 1 and att["rows_accepted"] == 3
    assert [(p["line"], p["column"], p["value"], p["rule"]) for p in att["problems"]] == [(4, "UPN", "1", "unmatched")]
    con = file_entry(r, "contacts.csv")
    assert con["rows_unmatched"] == 1
    assert set(r.tables["contacts"]["CHILD"]) == {"K1", "C4", "NOBODY"}  # LAchildID read as CHILD
    assert r.tables["attendance"]["collection_year"].tolist() == [2025, 2025, 2025]


def test_usage_errors(tmp_path):
    with pytest.raises(UsageError):
        ingest_folder(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(UsageError):
        ingest_folder(tmp_path / "empty")
    root = one_la(tmp_path, {"contacts/contacts.csv": "contact_id,CHILD,contact_date\n"})
    with pytest.raises(UsageError):
        ingest_folder(root, la_codes=["X1"])
    assert ingest_folder(root, la_codes=["e9"]).exit_code == 0
