"""Validation with the contracts: typing, code lists by year, and the exact problems reported."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from csc_outcomes.ingest import schema

TODAY = dt.date(2026, 1, 1)


def _episode(**kw):
    row = {"CHILD": "C1", "DECOM": "01/05/2024", "RNE": "S", "LS": "C2", "CIN": "N1", "PLACE": "U1",
           "PLACE_PROVIDER": "PR1", "DEC": "", "REC": "", "REASON_PLACE_CHANGE": "", "HOME_POST": "",
           "PL_POST": "", "URN": ""}
    row.update(kw)
    return row


@pytest.mark.parametrize("year,place,ok", [(2024, "K3", False), (2025, "K3", True), (2025, "H5", True),
                                           (2026, "H5", False), (2026, "Z12", False), (2027, "Z12", True)])
def test_place_code_validated_in_its_year(year, place, ok):
    raw = pd.DataFrame([_episode(PLACE=place.lower())])
    typed, probs = schema.validate(raw, "episodes", year, today=TODAY, lines=np.array([2]))
    if ok:
        assert probs.empty
        assert typed["PLACE"].iloc[0] == place
    else:
        assert probs[["line", "column", "value", "rule", "severity"]].values.tolist() == [
            [2, "PLACE", place.lower(), "code_list", "error"]]
        assert f"collection year {year}" in probs["message"].iloc[0]


def test_every_problem_listed_at_once():
    raw = pd.DataFrame([
        _episode(),
        _episode(CHILD=" ", DECOM="31/02/2024", RNE="Q"),
        _episode(DECOM="2024-06-01", DEC="01/05/2024"),
        _episode(DECOM="01/01/2027", HOME_POST="nope"),
    ])
    typed, probs = schema.validate(raw, "episodes", 2025, today=TODAY, lines=np.array([2, 3, 5, 6]))
    got = sorted(map(tuple, probs[["line", "column", "value", "rule", "severity"]].astype(object).values.tolist()),
                 key=lambda t: (t[0], t[1]))
    assert got == [
        (3, "CHILD", None, "required", "error"),
        (3, "DECOM", "31/02/2024", "date_format", "error"),
        (3, "RNE", "Q", "code_list", "error"),
        (5, "DEC", "01/05/2024", "date_order", "error"),
        (6, "DECOM", "01/01/2027", "future_date", "error"),
        (6, "HOME_POST", "nope", "postcode_format", "warning"),
    ]
    assert typed["DECOM"].dtype == "datetime64[ns]"
    assert typed["DECOM"].iloc[2] == pd.Timestamp("2024-06-01")


def test_types_flags_ints_booleans():
    raw = pd.DataFrame({"CHILD": ["a", "b"], "DOB": ["01/01/2010", "01/01/2010"], "SDQ_SCORE": ["12", "41"],
                        "HEALTH_CHECK": ["1", "yes"]})
    typed, probs = schema.validate(raw, "oc2", 2024, today=TODAY, lines=np.array([2, 3]))
    assert typed["SDQ_SCORE"].dtype == "Int64" and typed["HEALTH_CHECK"].dtype == "Int64"
    assert sorted(probs[["line", "column", "value", "rule"]].values.tolist()) == [
        [3, "HEALTH_CHECK", "yes", "flag"], [3, "SDQ_SCORE", "41", "range"]]
    raw = pd.DataFrame({"LAchildID": ["a", "b", "c"], "CINreferralDate": ["2024-01-01"] * 3,
                        "ReferralNFA": ["true", "0", "maybe"]})
    typed, probs = schema.validate(raw, "cin_episodes", 2024, today=TODAY, lines=np.array([4, 9, 12]))
    assert typed["ReferralNFA"].dtype == "boolean"
    assert typed["ReferralNFA"].tolist()[:2] == [True, False]
    assert probs[["line", "column", "value", "rule"]].values.tolist() == [[12, "ReferralNFA", "maybe", "boolean"]]


def test_disabilities_code_set():
    raw = pd.DataFrame({"LAchildID": ["a", "b"], "Disabilities": ["mob  hear", "MOB XYZ"]})
    typed, probs = schema.validate(raw, "cin_children", 2024, today=TODAY, lines=np.array([3, 8]))
    assert typed["Disabilities"].iloc[0] == "MOB HEAR"
    assert probs[["line", "column", "value", "rule"]].values.tolist() == [[8, "Disabilities", "MOB XYZ", "code_list"]]
