"""OC2 health measures: the OC2 cohort and the OC2 collection-year rule."""

import pandas as pd

from .conftest import get, has_row, inputs, result, table
from .test_cla import ep, hdr

PE = "2024-03-31"  # window 2023-04-01 .. 2024-03-31, collection year 2024


def oc2(child, year, health=None, teeth=None, imm=None, sdq=None, la="LA1"):
    return {"la_code": la, "CHILD": child, "collection_year": year, "HEALTH_CHECK": health,
            "TEETH_CHECK": teeth, "IMMUNISATIONS": imm, "SDQ_SCORE": sdq}


def frame_oc2(rows):
    df = table("oc2", rows)
    for c in ["HEALTH_CHECK", "TEETH_CHECK", "IMMUNISATIONS", "SDQ_SCORE"]:
        df[c] = df[c].astype("Int64")
    return df


def test_oc2_measures():
    # o1 started on window_start (in the cohort), age 10: H1 T1 I0, SDQ blank.
    # o2 started the day after window_start: not in the cohort.
    # o3 continuous since 2020 (legal change 2023 keeps the chain), age 3: H0 T1 I1.
    # o4 in the cohort without an OC2 row: in no denominator.
    # o5 has only a 2025 row (a later year): no row for 2024 -> in no denominator.
    # o6 age 16 on PE: H1 T0 I1 SDQ 20. o7 open short break: excluded.
    # o8 age 17: H1 T1 I0, SDQ blank. The 2023 rows (older year) are ignored.
    # Denominator o1 o3 o6 o8 = 4: health 3, teeth 3, immunisations 2.
    # SDQ: aged 4-16 -> o1 (10), o6 (16): recorded o6 -> 1 of 2.
    eps = [
        ep("o1", "2023-04-01", rne="S"), ep("o2", "2023-04-02", rne="S"),
        ep("o3", "2020-01-01", "2023-01-01", rne="S"), ep("o3", "2023-01-01", rne="L"),
        ep("o4", "2022-01-01", rne="S"), ep("o5", "2022-01-01", rne="S"),
        ep("o6", "2022-01-01", rne="S"), ep("o7", "2022-01-01", rne="S", ls="V4"),
        ep("o8", "2022-01-01", rne="S"),
    ]
    headers = [hdr("o1", "2014-01-01"), hdr("o2"), hdr("o3", "2021-01-01"), hdr("o4"),
               hdr("o5"), hdr("o6", "2007-04-01"), hdr("o7"), hdr("o8", "2007-03-31")]
    rows = [
        oc2("o1", 2024, 1, 1, 0), oc2("o2", 2024, 1, 1, 1), oc2("o3", 2024, 0, 1, 1),
        oc2("o5", 2025, 1, 1, 1), oc2("o6", 2024, 1, 0, 1, 20), oc2("o7", 2024, 1, 1, 1, 5),
        oc2("o8", 2024, 1, 1, 0),
        oc2("o1", 2023, 0, 0, 0), oc2("o3", 2023, 1, 1, 1, 3),
    ]
    res = result(inputs(episodes=eps, header=headers, oc2=frame_oc2(rows)), [PE])
    assert get(res, "oc2_health_check", PE) == (3, 4, 0.75)
    assert get(res, "oc2_teeth_check", PE) == (3, 4, 0.75)
    assert get(res, "oc2_immunisations", PE) == (2, 4, 0.5)
    assert get(res, "oc2_sdq_recorded", PE) == (1, 2, 0.5)


def test_oc2_year_rule_latest_earlier_never_later():
    # LA1 supplied only 2023: at PE (year 2024) its 2023 rows are used -> a: 1 of 1.
    # LA2 supplied only 2025: never a later year -> denominator 0, empty value (a row,
    # since OC2 was supplied). LA3 supplied no OC2 at all: no row.
    eps = pd.concat([
        table("episodes", [ep("a", "2022-01-01", rne="S", la=la)]) for la in ["LA1", "LA2", "LA3"]
    ], ignore_index=True)
    headers = pd.concat([table("header", [hdr("a", la=la)]) for la in ["LA1", "LA2", "LA3"]])
    rows = frame_oc2([oc2("a", 2023, 1, la="LA1"), oc2("a", 2025, 1, la="LA2")])
    res = result(inputs(episodes=eps, header=headers, oc2=rows), [PE, "2024-04-30"])
    assert get(res, "oc2_health_check", PE, "LA1") == (1, 1, 1.0)
    assert get(res, "oc2_health_check", PE, "LA2") == (0, 0, None)
    # At 2024-04-30 (year 2025) LA2's 2025 rows apply.
    assert get(res, "oc2_health_check", "2024-04-30", "LA2") == (1, 1, 1.0)
    assert not has_row(res, "oc2_health_check", "LA3")
