"""Property tests: rates bounded, results independent of row order and of other LAs."""

from __future__ import annotations

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from csc_outcomes.measures.catalogue import CATALOGUE
from csc_outcomes.measures.compute import compute_measures
from csc_outcomes.measures.inputs import MeasureInputs

BASE = pd.Timestamp("2020-01-01")
PERIODS = ["2023-03-31", "2023-09-30", "2024-02-29", "2024-03-31"]
CHILDREN = ["c0", "c1", "c2", "c3", "c4"]

day = st.integers(min_value=0, max_value=1600)
child = st.sampled_from(CHILDREN)


@st.composite
def la_tables(draw, la: str) -> dict[str, list[dict]]:
    t: dict[str, list[dict]] = {k: [] for k in [
        "cin_episodes", "assessments", "section47", "cp_plans", "episodes", "header",
        "missing", "sw_episodes", "oc2", "oc3", "contacts"]}
    for _ in range(draw(st.integers(0, 12))):
        r = BASE + pd.Timedelta(days=draw(day))
        close = draw(st.one_of(st.none(), st.integers(0, 400)))
        t["cin_episodes"].append({
            "LAchildID": draw(child), "CINreferralDate": r,
            "CINclosureDate": None if close is None else r + pd.Timedelta(days=close),
            "ReferralNFA": draw(st.booleans())})
    for _ in range(draw(st.integers(0, 6))):
        s = BASE + pd.Timedelta(days=draw(day))
        e = s + pd.Timedelta(days=draw(st.integers(-5, 90)))
        t["assessments"].append({"LAchildID": draw(child), "AssessmentActualStartDate": s,
                                 "AssessmentAuthorisationDate": e})
        t["section47"].append({"LAchildID": draw(child), "S47ActualStartDate": s,
                               "DateOfInitialCPC": e})
        t["cp_plans"].append({"LAchildID": draw(child), "CPPstartDate": s,
                              "CPPendDate": s + pd.Timedelta(days=draw(st.integers(1, 1000))),
                              "NumberOfPreviousCPP": draw(st.integers(0, 2))})
        t["contacts"].append({"contact_id": f"k{draw(st.integers(0, 20))}", "CHILD": draw(child),
                              "contact_date": s})
    for c in CHILDREN:
        t["header"].append({"CHILD": c, "DOB": BASE - pd.Timedelta(days=draw(st.integers(0, 7000))),
                            "UPN": None})
        d = BASE + pd.Timedelta(days=draw(st.integers(0, 800)))
        for i in range(draw(st.integers(0, 5))):
            length = draw(st.integers(1, 300))
            gap = draw(st.sampled_from([0, 0, 0, 30]))
            last = draw(st.booleans())
            t["episodes"].append({
                "CHILD": c, "DECOM": d, "DEC": None if last else d + pd.Timedelta(days=length),
                "RNE": "S" if i == 0 else draw(st.sampled_from(list("SPTUBL"))),
                "LS": draw(st.sampled_from(["C2", "C1", "V3"])),
                "PLACE": draw(st.sampled_from(["U1", "U2", "T1", "A3", "R1"])),
                "URN": draw(st.sampled_from([None, "X"])), "PL_POST": None})
            if last:
                break
            d = d + pd.Timedelta(days=length + gap)
        if draw(st.booleans()):
            t["missing"].append({"CHILD": c, "MISSING": draw(st.sampled_from("MA")),
                                 "MIS_START": BASE + pd.Timedelta(days=draw(day))})
            t["sw_episodes"].append({"CHILD": c, "SW_ID": draw(st.sampled_from("ABCD")),
                                     "SW_DECOM": BASE + pd.Timedelta(days=draw(day)),
                                     "SW_DEC": None})
            t["oc2"].append({"CHILD": c, "collection_year": draw(st.integers(2022, 2025)),
                             "HEALTH_CHECK": draw(st.sampled_from([0, 1, None])),
                             "TEETH_CHECK": 1, "IMMUNISATIONS": 0, "SDQ_SCORE": None})
            t["oc3"].append({"CHILD": c, "DOB": BASE - pd.Timedelta(days=draw(st.integers(6500, 8000))),
                             "collection_year": draw(st.integers(2022, 2025)),
                             "IN_TOUCH": draw(st.sampled_from(["YES", "NO", "DIED"])),
                             "ACTIV": draw(st.sampled_from(["F1", "G4"])), "ACCOM": "B1"})
    return t


def build(parts: dict[str, dict[str, list[dict]]]) -> dict[str, pd.DataFrame]:
    """Tables of several LAs with lineage: distinct (collection_year, source_line)."""
    out: dict[str, pd.DataFrame] = {}
    names = {n for t in parts.values() for n in t}
    for name in names:
        frames = []
        for la, t in parts.items():
            df = pd.DataFrame(t[name])
            if df.empty:
                continue
            df.insert(0, "la_code", la)
            if "collection_year" not in df.columns:
                df["collection_year"] = 2025
            df["source_line"] = range(2, len(df) + 2)
            frames.append(df)
        if frames:
            df = pd.concat(frames, ignore_index=True)
            for c in ["HEALTH_CHECK", "TEETH_CHECK", "IMMUNISATIONS", "SDQ_SCORE"]:
                if c in df.columns:
                    df[c] = df[c].astype("Int64")
            out[name] = df
    return out


def run(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    return compute_measures(MeasureInputs(tables=tables), PERIODS)


SETTINGS = settings(max_examples=15, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@SETTINGS
@given(la_tables("LA1"))
def test_rates_are_bounded(t):
    res = run(build({"LA1": t}))
    kinds = res["measure_id"].map(lambda m: CATALOGUE[m].kind)
    rates = res[kinds == "rate"]
    assert (rates["numerator"] <= rates["denominator"]).all()
    assert rates["value"].dropna().between(0, 1).all()
    assert rates.loc[rates["denominator"] == 0, "value"].isna().all()
    counts = res[kinds == "count"]
    assert counts["denominator"].isna().all()
    assert (counts["numerator"].astype(float) == counts["value"]).all()


@SETTINGS
@given(la_tables("LA1"), st.randoms(use_true_random=False))
def test_independent_of_row_order(t, rnd):
    tables = build({"LA1": t})
    shuffled = {k: v.sample(frac=1, random_state=rnd.randint(0, 10**6)).reset_index(drop=True)
                for k, v in tables.items()}
    pd.testing.assert_frame_equal(run(tables), run(shuffled))


@SETTINGS
@given(la_tables("LA1"), la_tables("LA2"))
def test_independent_of_other_las(t1, t2):
    alone = run(build({"LA1": t1}))
    together = run(build({"LA1": t1, "LA2": t2}))
    mine = together[together["la_code"] == "LA1"].reset_index(drop=True)
    pd.testing.assert_frame_equal(alone, mine)
