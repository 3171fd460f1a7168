"""Care leavers aged 19-21 (OC3): birthdays in the window, exclusions, 29 February."""

from .conftest import get, inputs, result, table

PE = "2024-03-31"  # window 2023-04-01 .. 2024-03-31


def oc3(child, dob, touch, activ, accom, year=2024, la="LA1"):
    return {"la_code": la, "CHILD": child, "DOB": dob, "IN_TOUCH": touch, "ACTIV": activ,
            "ACCOM": accom, "collection_year": year}


def test_care_leavers():
    # k1 19th birthday 2023-04-01 (first day): F1, B1, YES.
    # k2 20th birthday 2023-03-31 (out) but 21st 2024-03-31 (last day, in): G4 U2 NO.
    # k3 21st birthday 2023-03-31: out. k5 DIED, k6 RHOM: excluded.
    # k7 REFU, P5, ACCOM 0. k9 NREQ, ACTIV 0, ACCOM C1.
    # Denominator k1 k2 k7 k9 = 4; EET k1 k7 = 2; suitable k1 k9 = 2; in touch k1 = 1.
    rows = [
        oc3("k1", "2004-04-01", "YES", "F1", "B1"),
        oc3("k2", "2003-03-31", "NO", "G4", "U2"),
        oc3("k3", "2002-03-31", "YES", "F1", "B1"),
        oc3("k5", "2004-06-01", "DIED", "F1", "B1"),
        oc3("k6", "2004-06-01", "RHOM", "F1", "B1"),
        oc3("k7", "2004-06-01", "REFU", "P5", "0"),
        oc3("k9", "2003-06-01", "NREQ", "0", "C1"),
    ]
    res = result(inputs(oc3=table("oc3", rows)), [PE])
    assert get(res, "care_leavers_eet_19_21", PE) == (2, 4, 0.5)
    assert get(res, "care_leavers_suitable_accom_19_21", PE) == (2, 4, 0.5)
    assert get(res, "care_leavers_in_touch_19_21", PE) == (1, 4, 0.25)


def test_care_leaver_born_29_february():
    # Born 29 Feb 2004: 19th birthday is 1 March 2023 (non-leap year), outside the
    # window ending 28 Feb 2023 (2022-03-01 .. 2023-02-28) -> denominator 0, empty value;
    # inside the window ending 31 Mar 2023. A child born 28 Feb 2004 turns 19 on
    # 28 Feb 2023: in both windows.
    rows = [oc3("leap", "2004-02-29", "YES", "F1", "B1", year=2023),
            oc3("feb28", "2004-02-28", "NO", "G4", "B2", year=2023)]
    res = result(inputs(oc3=table("oc3", rows)), ["2023-02-28", "2023-03-31"])
    assert get(res, "care_leavers_in_touch_19_21", "2023-02-28") == (0, 1, 0.0)
    assert get(res, "care_leavers_in_touch_19_21", "2023-03-31") == (1, 2, 0.5)
    only_leap = result(inputs(oc3=table("oc3", rows[:1])), ["2023-02-28"])
    assert get(only_leap, "care_leavers_eet_19_21", "2023-02-28") == (0, 0, None)
