"""Contracts: year-versioned code lists, and a contract with canonical fields for every table."""

from __future__ import annotations

import datetime as dt

import pytest

from csc_outcomes.ingest import contracts, schema
from csc_outcomes.keys import RECORD_KEYS, TABLE_SOURCE

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


def test_gender_versioned_in_cin():
    assert "1" in contracts.code_list("cin", "GENDER", 2024)
    assert "M" not in contracts.code_list("cin", "GENDER", 2024)
    assert {"1", "M"} <= set(contracts.code_list("cin", "GENDER", 2025))
    assert "1" not in contracts.code_list("cin", "GENDER", 2026)
    by_year = contracts.codes_by_year("cin", "GENDER")
    assert sorted(by_year) == list(range(contracts.FIRST_YEAR, contracts.LAST_YEAR + 1))
    assert by_year[2025] == contracts.code_list("cin", "GENDER", 2025)


def test_every_table_has_a_contract_with_canonical_fields():
    for t in TABLE_SOURCE:
        c = contracts.load_contract(t)
        assert set(RECORD_KEYS[t]) <= set(c.fields)
        e = contracts.empty_frame(t)
        assert list(e.columns)[-4:] == ["la_code", "collection_year", "source_file", "source_line"]
        for y in range(contracts.FIRST_YEAR, contracts.LAST_YEAR + 1):
            schema.build_schema(t, y, TODAY)
