"""Modelling frames on tiny hand-built canonical tables: exact expected rows."""

from __future__ import annotations

import pandas as pd
import pytest

from csc_outcomes.stats import frames

D = pd.Timestamp
PE = "2025-03-31"


def _df(columns, rows, la="SYN01"):
    df = pd.DataFrame(rows, columns=columns)
    if "la_code" not in df.columns:
        df.insert(0, "la_code", la)
    for c in df.columns:
        if any(k in c for k in ("Date", "DECOM", "DEC", "term_start")) and c not in ("REC",):
            df[c] = pd.to_datetime(df[c])
    return df


EP_COLS = ["la_code", "CHILD", "DECOM", "RNE", "LS", "PLACE", "DEC", "URN", "PL_POST"]


@pytest.fixture
def cin_tables():
    assessments = _df(
        ["la_code", "LAchildID", "CINreferralDate", "AssessmentActualStartDate", "AssessmentAuthorisationDate"],
        [
            ("SYN01", "C1", "2024-03-01", "2024-03-02", "2024-04-10"),
            ("SYN01", "C1", "2024-03-01", "2024-03-02", "2024-04-10"),  # duplicate record
            ("SYN01", "C2", "2024-05-01", "2024-05-01", "2024-06-01"),
            ("SYN01", "C3", "2024-06-01", "2024-06-02", "2024-07-01"),
            ("SYN01", "C4", "2024-08-01", "2024-08-01", "2024-08-20"),
            ("SYN01", "C5", "2025-01-10", "2025-01-10", "2025-02-15"),  # follow-up incomplete
            ("SYN01", "C6", "2023-12-01", "2023-12-01", "2024-01-30"),  # before the window
            ("SYN02", "C1", "2024-03-01", "2024-03-02", "2024-04-10"),
        ],
    )
    factors = _df(
        ["la_code", "LAchildID", "CINreferralDate", "AssessmentActualStartDate", "AssessmentFactor"],
        [
            ("SYN01", "C1", "2024-03-01", "2024-03-02", "4B"),
            ("SYN01", "C1", "2024-03-01", "2024-03-02", "3b"),
            ("SYN01", "C2", "2024-05-01", "2024-05-01", "1B"),
            ("SYN01", "C3", "2024-06-01", "2024-06-02", "21"),
            ("SYN01", "C5", "2025-01-10", "2025-01-10", "11A"),  # its assessment is excluded
            ("SYN02", "C1", "2024-03-01", "2024-03-02", "24A"),
        ],
    )
    cp_plans = _df(
        ["la_code", "LAchildID", "CINreferralDate", "CPPstartDate"],
        [
            ("SYN01", "C1", "2024-03-01", "2024-04-01"),
            ("SYN01", "C3", "2023-01-01", "2024-07-10"),  # another episode: ignored
            ("SYN01", "K1", "2023-01-10", "2023-02-01"),
        ],
    )
    cin_plans = _df(
        ["la_code", "LAchildID", "CINreferralDate", "CINPlanStartDate"],
        [
            ("SYN01", "C3", "2024-06-01", "2024-07-15"),
            ("SYN01", "C4", "2024-08-01", "2024-10-30"),  # auth + 71 days: too late
            ("SYN01", "K6", "2023-04-01", "2023-04-01"),
        ],
    )
    episodes = _df(
        EP_COLS,
        [
            ("SYN01", "C1", "2024-06-20", "S", "C2", "U1", None, None, None),  # auth + 71 days
            ("SYN01", "C2", "2024-07-31", "S", "C2", "U1", None, None, None),  # auth + 60 days
            ("SYN02", "C4", "2024-08-25", "S", "C2", "U1", None, None, None),  # other LA
            ("SYN01", "K3", "2023-10-01", "S", "C2", "U1", None, None, None),
        ],
    )
    cin_episodes = _df(
        ["la_code", "LAchildID", "CINreferralDate", "CINclosureDate", "ReferralNFA", "ReasonForClosure"],
        [
            ("SYN01", "K1", "2023-01-10", "2023-05-10", "false", "RC7"),
            ("SYN01", "K1", "2024-05-10", None, "false", None),  # exactly closure + 1 year
            ("SYN01", "K2", "2023-06-01", "2023-09-01", "true", "RC8"),
            ("SYN01", "K2", "2024-09-02", None, "0", None),  # more than a year later
            ("SYN01", "K3", "2023-07-01", "2024-01-31", "0", "RC1"),
            ("SYN01", "K3", "2024-01-31", None, "0", None),  # same day as closure: not after it
            ("SYN01", "K4", "2024-02-01", "2024-04-15", "0", "RC7"),  # closure after the window
            ("SYN01", "K5", "2022-01-01", "2023-03-31", "0", "RC7"),  # closure before the window
            ("SYN01", "K6", "2023-04-01", "2023-04-01", "0", "RC7"),
        ],
    )
    cin_children = _df(
        ["la_code", "LAchildID", "PersonBirthDate"],
        [("SYN01", "K1", "2010-05-11"), ("SYN01", "K2", "2006-09-01")],
    )
    cin_children["PersonBirthDate"] = pd.to_datetime(cin_children["PersonBirthDate"])
    return {
        "assessments": assessments,
        "assessment_factors": factors,
        "cp_plans": cp_plans,
        "cin_plans": cin_plans,
        "episodes": episodes,
        "cin_episodes": cin_episodes,
        "cin_children": cin_children,
    }


def test_assessment_frame_exact_rows(cin_tables):
    out = frames.assessment_frame(cin_tables, PE, "SYN01")
    expected = pd.DataFrame(
        {
            "la_code": ["SYN01"] * 4,
            "LAchildID": ["C1", "C2", "C3", "C4"],
            "CINreferralDate": pd.to_datetime(["2024-03-01", "2024-05-01", "2024-06-01", "2024-08-01"]),
            "AssessmentActualStartDate": pd.to_datetime(["2024-03-02", "2024-05-01", "2024-06-02", "2024-08-01"]),
            "AssessmentAuthorisationDate": pd.to_datetime(["2024-04-10", "2024-06-01", "2024-07-01", "2024-08-20"]),
            "factor_1B": [0, 1, 0, 0],
            "factor_3B": [1, 0, 0, 0],
            "factor_4B": [1, 0, 0, 0],
            "factor_21": [0, 0, 1, 0],
            "n_factors": [2, 1, 1, 0],
            "level": [2, 3, 1, 0],
        }
    )
    pd.testing.assert_frame_equal(out, expected, check_dtype=False)
    assert out["level"].dtype == "int64" and out["factor_1B"].dtype == "int64"


def test_assessment_frame_all_las_keeps_las_apart(cin_tables):
    out = frames.assessment_frame(cin_tables, PE)
    syn02 = out[out["la_code"] == "SYN02"]
    assert syn02["LAchildID"].tolist() == ["C1"]
    assert syn02["level"].tolist() == [0]
    assert syn02["factor_24A"].tolist() == [1]
    assert out.loc[out["la_code"] == "SYN01", "factor_24A"].sum() == 0
    assert frames.factor_columns(out) == ["factor_1B", "factor_3B", "factor_4B", "factor_21", "factor_24A"]


def test_assessment_frame_handles_absent_tables(cin_tables):
    tables = {k: v for k, v in cin_tables.items() if k in ("assessments",)}
    out = frames.assessment_frame(tables, PE, "SYN01")
    assert out["level"].tolist() == [0, 0, 0, 0]
    assert frames.factor_columns(out) == []


def test_closure_frame_exact_rows(cin_tables):
    out = frames.closure_frame(cin_tables, PE, "SYN01")
    expected = pd.DataFrame(
        {
            "la_code": ["SYN01"] * 4,
            "LAchildID": ["K1", "K2", "K3", "K6"],
            "CINreferralDate": pd.to_datetime(["2023-01-10", "2023-06-01", "2023-07-01", "2023-04-01"]),
            "CINclosureDate": pd.to_datetime(["2023-05-10", "2023-09-01", "2024-01-31", "2023-04-01"]),
            "nfa": [0, 1, 0, 0],
            "level": [2, 0, 3, 1],
            "level_group": ["2", "nfa", "3", "1"],
            "length_months": [120 / 30.4375, 92 / 30.4375, 214 / 30.4375, 0.0],
            "rereferred": [1, 0, 0, 0],
            "ReasonForClosure": ["RC7", "RC8", "RC1", "RC7"],
            # K1 turns 13 the day after closure; K2 turns 17 on the day of closure
            "age_at_closure": pd.array([12, 17, pd.NA, pd.NA], dtype="Int64"),
            # only K1 can be re-referred as a child: K2 is 17 (turns 18 within the year),
            # K3 closed on adoption (RC1), K6's age is unknown
            "eligible": [1, 0, 0, 0],
        }
    )
    pd.testing.assert_frame_equal(out, expected, check_dtype=False)


def test_attendance_frame_exact_rows():
    header = _df(
        ["la_code", "CHILD", "UPN"],
        [("SYN01", "A", "A123456789012"), ("SYN01", "B", "B123456789012"),
         ("SYN01", "F", "F123456789012"), ("SYN01", "G", None)],
    )
    episodes = _df(
        EP_COLS,
        [
            ("SYN01", "A", "2023-01-01", "S", "C2", "U1", "2024-02-01", "SC1", "AB1"),
            ("SYN01", "A", "2024-02-01", "P", "C2", "U2", "2024-05-01", "SC2", "AB2"),  # change
            ("SYN01", "A", "2024-05-01", "T", "C2", "T1", "2024-05-10", None, None),  # absence
            ("SYN01", "A", "2024-05-10", "P", "C2", "U2", "2024-07-01", "SC2", "AB2"),  # return
            ("SYN01", "A", "2024-07-01", "L", "C1", "U2", "2024-08-01", "SC2", "AB2"),  # legal only
            ("SYN01", "A", "2024-08-01", "B", "C1", "R1", None, "SC3", "AB3"),  # change
            ("SYN01", "B", "2024-06-01", "S", "V3", "U1", None, None, None),  # short breaks
            ("SYN01", "F", "2023-01-01", "S", "C2", "U3", "2024-03-01", None, None),
            ("SYN01", "F", "2024-03-01", "P", "E1", "A3", None, None, None),  # adopted by carer
        ],
    )
    att_cols = ["la_code", "UPN", "term_start", "sessions_possible",
                "sessions_authorised_absence", "sessions_unauthorised_absence"]
    attendance = _df(
        att_cols,
        [
            ("SYN01", "A123456789012", "2024-01-08", 100, 0, 0),  # before the window
            ("SYN01", "A123456789012", "2024-04-15", 100, 5, 5),
            ("SYN01", "A123456789012", "2024-09-02", 120, 6, 0),
            ("SYN01", "A123456789012", "2025-01-06", 0, 0, 0),  # no possible sessions
            ("SYN01", "B123456789012", "2024-09-02", 100, 0, 0),  # short break only
            ("SYN01", "F123456789012", "2024-04-15", 80, 8, 0),
            ("SYN01", "E123456789012", "2024-04-15", 80, 0, 0),  # not in the header
        ],
    )
    tables = {"header": header, "episodes": episodes, "attendance": attendance}
    out = frames.attendance_frame(tables, PE, "SYN01")
    expected = pd.DataFrame(
        {
            "la_code": ["SYN01"] * 3,
            "CHILD": ["A", "A", "F"],
            "UPN": ["A123456789012", "A123456789012", "F123456789012"],
            "term_start": pd.to_datetime(["2024-04-15", "2024-09-02", "2024-04-15"]),
            "sessions_possible": [100.0, 120.0, 80.0],
            "attendance": [0.9, 0.95, 0.9],
            "moves": [1, 2, 0],
        }
    )
    pd.testing.assert_frame_equal(out, expected, check_dtype=False)


def test_frames_accept_an_object_with_tables(cin_tables):
    class Inputs:
        def __init__(self, tables):
            self.tables = tables

    a = frames.assessment_frame(Inputs(cin_tables), PE, "SYN01")
    assert len(a) == 4
