"""Today's LAs from DfE's files: a real LA's parameters need no neighbour list."""

from __future__ import annotations

from csc_outcomes.reporting import la_register


def test_real_la_defaults_and_current_codes():
    d = la_register.defaults_for("E06000001")
    assert d["name"] == "Hartlepool" and d["region"] == "North East"
    assert d["statistical_neighbours"][:2] == ["E06000003", "E08000024"]  # SN_1, SN_2: 805, 394
    assert la_register.defaults_for("SYN01") == {}
    assert la_register.is_current_la("E06000001")
    assert not la_register.is_current_la("E10000006")  # Cumbria: a former LA
    assert not la_register.is_current_la(7)


def test_regions_are_the_nine():
    regions = la_register.regions()
    assert not regions["region_code"].str.startswith("E13").any()
    assert set(regions.loc[regions["la_code"] == "E09000019", "region_name"]) == {"London"}
