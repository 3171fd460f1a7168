"""Output rules, absent sources and ordering."""

import pandas as pd
import pytest

from csc_outcomes.measures.catalogue import CATALOGUE
from csc_outcomes.measures.compute import OUTPUT_COLUMNS, compute_measures
from csc_outcomes.measures.inputs import MeasureInputs

from .conftest import get, inputs, result, table
from .test_cla import ep, hdr

PE = "2024-03-31"


def test_output_shape_sorting_and_absent_sources():
    # LA1: episodes only. LA2: CIN census only. Each gets only its own measures.
    eps = table("episodes", [ep("a", "2022-01-01", rne="S", la="LA1")])
    cin = table("cin_episodes", [{"la_code": "LA2", "LAchildID": "x",
                                  "CINreferralDate": "2023-05-01"}])
    res = compute_measures(MeasureInputs({"episodes": eps, "cin_episodes": cin}),
                           ["2024-03-31", "2023-03-31"])
    assert list(res.columns) == OUTPUT_COLUMNS
    la1 = set(res.loc[res.la_code == "LA1", "measure_id"])
    la2 = set(res.loc[res.la_code == "LA2", "measure_id"])
    assert la1 == {"cla_at_period_end", "cla_started", "cla_3plus_placements",
                   "cla_long_term_stability"}
    assert la2 == {"referrals", "rereferrals_within_12m", "referrals_nfa",
                   "assessments_within_45wd", "icpc_within_15wd", "cpp_started",
                   "cpp_second_or_subsequent", "cpp_ended_2y_plus",
                   "cin_closures_sustained_12m"}
    order = {m: i for i, m in enumerate(CATALOGUE)}
    keys = list(zip(res.la_code, res.period_end, res.measure_id.map(order), strict=True))
    assert keys == sorted(keys)
    assert res["period_end"].min() == pd.Timestamp("2023-03-31")
    # Zero denominators give an empty value; counts an empty denominator.
    assert get(res, "assessments_within_45wd", PE, "LA2") == (0, 0, None)
    assert get(res, "referrals", PE, "LA2") == (1, None, 1.0)
    assert get(res, "cla_at_period_end", "2023-03-31", "LA1") == (1, None, 1.0)
    assert get(res, "cla_3plus_placements", PE, "LA1") == (0, 1, 0.0)
    rates = res[res.measure_id.map(lambda m: CATALOGUE[m].kind == "rate")]
    assert rates["value"].dropna().between(0, 1).all()


def test_measure_subset_and_unknown_ids():
    inp = inputs(episodes=[ep("a", "2022-01-01", rne="S")])
    res = result(inp, [PE], ["cla_3plus_placements", "cla_at_period_end"])
    assert list(res.measure_id) == ["cla_at_period_end", "cla_3plus_placements"]
    with pytest.raises(ValueError, match="nope"):
        result(inp, [PE], ["nope"])


def test_supplied_table_without_rows_gives_zero_rows_not_omission():
    inp = MeasureInputs(
        tables={"episodes": table("episodes", [ep("a", "2022-01-01", rne="S")]),
                "missing": pd.DataFrame(columns=["la_code", "CHILD", "MISSING", "MIS_START"])},
        supplied=pd.DataFrame({"la_code": ["LA1", "LA1"], "table_name": ["episodes", "missing"]}),
    )
    res = result(inp, [PE])
    assert get(res, "cla_missing", PE) == (0, 1, 0.0)


def test_date_like_period_ends_and_duplicates():
    from datetime import date

    inp = inputs(episodes=[ep("a", "2022-01-01", rne="S")], header=[hdr("a")])
    res = result(inp, [date(2024, 3, 31), "2024-03-31", pd.Timestamp("2024-03-31")])
    assert len(res["period_end"].unique()) == 1


def test_supplied_but_empty_looked_after_tables_give_zeros_not_an_error():
    # An LA whose episodes and OC2 files have no rows: no child is looked after on any
    # period end, so the cohort is empty (and once crashed the OC2 merge).
    inp = MeasureInputs(
        tables={"episodes": pd.DataFrame(columns=["la_code", "CHILD", "DECOM", "DEC"]),
                "oc2": pd.DataFrame(columns=["la_code", "CHILD"])},
        supplied=pd.DataFrame({"la_code": ["LA1", "LA1"], "table_name": ["episodes", "oc2"]}),
    )
    res = result(inp, [PE])
    assert get(res, "cla_at_period_end", PE) == (0, None, 0.0)
    assert get(res, "oc2_health_check", PE) == (0, 0, None)
