"""Contracts: year-versioned code lists, typing, and the exact problems reported."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from csc_outcomes.ingest import contracts

TODAY = dt.date(2026, 1, 1)


@pytest.mark.parametrize(
    "name,code,valid_in,invalid_in",
    [
        ("PLACE", "K3", [2025, 2026, 2027], [2017, 2024]),
        ("PLACE", "H5", [2017, 2025], [2026, 2027]),
        ("PLACE", "P2", [2025], [2026]),
        ("PLACE", "Z11", [2027], [2026]),
        ("SEX", "1", [2017, 2025], [2026, 2027]),
        ("SEX", "M", [2026, 2027], [2025]),
    ],
)
def test_code_lists_by_year(name, code, valid_in, invalid_in):
    for y in valid_in:
        assert code in contracts.code_list("ssda903", name, y)
    for y in invalid_in:
        assert code not in contracts.code_list("ssda903", name, y)


def _episode(**kw):
    row = dict(CHILD="C1", DECOM="01/05/2024", RNE="S", LS="C2", CIN="N1", PLACE="U1", PLACE_PROVIDER="PR1",
               DEC="", REC="", REASON_PLACE_CHANGE="", HOME_POST="", PL_POST="", URN="")
    row.update(kw)
    return row


@pytest.mark.parametrize("year,place,ok", [(2024, "K3", False), (2025, "K3", True), (2025, "H5", True),
                                           (2026, "H5", False), (2026, "Z12", False), (2027, "Z12", True)])
def test_place_code_validated_in_its_year(year, place, ok):
    raw = pd.DataFrame([_episode(PLACE=place.lower())])
    typed, probs = contracts.validate(raw, "episodes", year, today=TODAY, lines=np.array([2]))
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
    typed, probs = contracts.validate(raw, "episodes", 2025, today=TODAY, lines=np.array([2, 3, 5, 6]))
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
    typed, probs = contracts.validate(raw, "oc2", 2024, today=TODAY, lines=np.array([2, 3]))
    assert typed["SDQ_SCORE"].dtype == "Int64" and typed["HEALTH_CHECK"].dtype == "Int64"
    assert sorted(probs[["line", "column", "value", "rule"]].values.tolist()) == [
        [3, "HEALTH_CHECK", "yes", "flag"], [3, "SDQ_SCORE", "41", "range"]]
    raw = pd.DataFrame({"LAchildID": ["a", "b", "c"], "CINreferralDate": ["2024-01-01"] * 3,
                        "ReferralNFA": ["true", "0", "maybe"]})
    typed, probs = contracts.validate(raw, "cin_episodes", 2024, today=TODAY, lines=np.array([4, 9, 12]))
    assert typed["ReferralNFA"].dtype == "boolean"
    assert typed["ReferralNFA"].tolist()[:2] == [True, False]
    assert probs[["line", "column", "value", "rule"]].values.tolist() == [[12, "ReferralNFA", "maybe", "boolean"]]


def test_disabilities_code_set():
    raw = pd.DataFrame({"LAchildID": ["a", "b"], "Disabilities": ["mob  hear", "MOB XYZ"]})
    typed, probs = contracts.validate(raw, "cin_children", 2024, today=TODAY, lines=np.array([3, 8]))
    assert typed["Disabilities"].iloc[0] == "MOB HEAR"
    assert probs[["line", "column", "value", "rule"]].values.tolist() == [[8, "Disabilities", "MOB XYZ", "code_list"]]


def test_gender_versioned_in_cin():
    assert "1" in contracts.code_list("cin", "GENDER", 2024)
    assert "M" not in contracts.code_list("cin", "GENDER", 2024)
    assert {"1", "M"} <= set(contracts.code_list("cin", "GENDER", 2025))
    assert "1" not in contracts.code_list("cin", "GENDER", 2026)


def test_every_table_has_a_contract_with_canonical_fields():
    from csc_outcomes.keys import RECORD_KEYS, TABLE_SOURCE

    for t in TABLE_SOURCE:
        c = contracts.load_contract(t)
        assert set(RECORD_KEYS[t]) <= set(c.fields)
        e = contracts.empty_frame(t)
        assert list(e.columns)[-4:] == ["la_code", "collection_year", "source_file", "source_line"]
        for y in range(contracts.FIRST_YEAR, contracts.LAST_YEAR + 1):
            contracts.build_schema(t, y, TODAY)
