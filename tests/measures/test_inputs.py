"""Reading a warehouse for measures only gives the same measures as the full read."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd
import pytest

from csc_outcomes.measures.compute import compute_measures
from csc_outcomes.measures.inputs import MeasureInputs

from .conftest import table
from .test_cla import ep, hdr


def _warehouse(path):
    warehouse = pytest.importorskip("csc_outcomes.warehouse")
    tables = {
        "episodes": table("episodes", [
            ep("a", "2022-01-01", rne="S", dec="2023-06-01"),
            ep("a", "2023-06-01", rne="P", place="U3"),
            ep("b", "2023-02-01", rne="S", la="LA2"),
        ]),
        "header": table("header", [hdr("a"), {"la_code": "LA2", "CHILD": "b", "DOB": "2012-05-05"}]),
        "cin_episodes": table("cin_episodes", [
            {"la_code": "LA1", "LAchildID": "x", "CINreferralDate": "2023-05-01",
             "ReferralNFA": True},
            {"la_code": "LA1", "LAchildID": "x", "CINreferralDate": "2023-09-01",
             "CINclosureDate": "2023-10-01"},
            {"la_code": "LA2", "LAchildID": "y", "CINreferralDate": "2024-01-10"},
        ]),
        "contacts": table("contacts", [{"contact_id": "k1", "CHILD": "x", "contact_date": "2023-04-02"}]),
    }
    for t in tables.values():
        t["collection_year"] = 2024
        t["source_file"] = "f.csv"
        t["source_line"] = range(2, len(t) + 2)
    supplied = pd.DataFrame(
        [(la, "ssda903", t, 2024, "f.csv") for t in tables for la in ("LA1", "LA2")],
        columns=["la_code", "source", "table_name", "collection_year", "source_file"],
    )
    result = SimpleNamespace(
        tables=tables, supplied=supplied, qa={"summary": {}}, input_hash="x",
        rejects=pd.DataFrame(columns=["la_code", "source_file", "table_name", "source_line",
                                      "column", "value", "rule", "message"]),
        repairs=pd.DataFrame(columns=["la_code", "table_name", "key", "rule", "detail"]),
    )
    warehouse.write(path, result)
    return path


def test_measures_only_read_gives_the_same_measures(tmp_path):
    path = _warehouse(tmp_path / "w.duckdb")
    full = MeasureInputs.from_warehouse(path)
    slim = MeasureInputs.from_warehouse(path, measures_only=True)
    assert "source_file" not in slim.tables["episodes"].columns
    assert set(slim.la_codes) == set(full.la_codes) == {"LA1", "LA2"}
    periods = ["2023-12-31", "2024-03-31"]
    pd.testing.assert_frame_equal(compute_measures(full, periods), compute_measures(slim, periods))
    one = MeasureInputs.from_warehouse(path, ["la2"], measures_only=True)
    assert set(one.tables["episodes"]["la_code"].astype(str)) == {"LA2"}
    assert one.la_codes == ["LA2"]
