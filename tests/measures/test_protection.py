"""Assessments, initial conferences and child protection plans (hand-worked fixtures)."""

from .conftest import get, inputs, result


def asmt(child, start, auth):
    return {"LAchildID": child, "CINreferralDate": "2024-01-01",
            "AssessmentActualStartDate": start, "AssessmentAuthorisationDate": auth}


def test_assessments_within_45_working_days_across_easter_and_christmas():
    # Window 2023-07-01 .. 2024-06-30. From Fri 1 Mar 2024, Good Friday (29 Mar), Easter
    # Monday (1 Apr) and early May (6 May) skipped: 8 May is working day 45, 9 May 46.
    # a1: duplicate rows for the same start date; the later (auth 8 May, 45) wins: in.
    # a2: auth 9 May (46): out. a3: auth 2023-06-30, outside the window.
    # a4: Fri 22 Dec 2023 -> Tue 2 Jan 2024 = 4 working days (Christmas, New Year): in.
    # a5: no start date: left out. Denominator 3 (a1 a2 a4), numerator 2.
    rows = [
        asmt("a1", "2024-03-01", "2024-05-20"),
        asmt("a1", "2024-03-01", "2024-05-08"),
        asmt("a2", "2024-03-01", "2024-05-09"),
        asmt("a3", "2023-05-01", "2023-06-30"),
        asmt("a4", "2023-12-22", "2024-01-02"),
        asmt("a5", None, "2024-02-01"),
    ]
    res = result(inputs(assessments=rows), ["2024-06-30"])
    n, d, v = get(res, "assessments_within_45wd", "2024-06-30")
    assert (n, d) == (2, 3) and abs(v - 2 / 3) < 1e-12


def s47(child, start, conf):
    return {"LAchildID": child, "CINreferralDate": "2023-04-01",
            "S47ActualStartDate": start, "DateOfInitialCPC": conf}


def test_icpc_within_15_working_days_across_coronation_and_conference_before_enquiry():
    # Window 2022-07-01 .. 2023-06-30. From Mon 24 Apr 2023, skipping 1 May (early May)
    # and 8 May (the coronation): 17 May is working day 15, 18 May is 16.
    # s1 conf 17 May: in. s2 conf 18 May: out. s3 conference before the enquiry:
    # excluded from both. s4 no conference: not in the denominator. s5 same day (0): in.
    # Denominator 3 (s1 s2 s5), numerator 2.
    rows = [
        s47("s1", "2023-04-24", "2023-05-17"),
        s47("s2", "2023-04-24", "2023-05-18"),
        s47("s3", "2023-05-02", "2023-05-01"),
        s47("s4", "2023-05-02", None),
        s47("s5", "2023-06-30", "2023-06-30"),
    ]
    res = result(inputs(section47=rows), ["2023-06-30"])
    n, d, v = get(res, "icpc_within_15wd", "2023-06-30")
    assert (n, d) == (2, 3) and abs(v - 2 / 3) < 1e-12


def plan(child, start, end=None, previous=None):
    return {"LAchildID": child, "CINreferralDate": start, "CPPstartDate": start,
            "CPPendDate": end, "NumberOfPreviousCPP": previous}


def test_child_protection_plans():
    # Window 2023-04-01 .. 2024-03-31.
    # A: plan 2015 (ended 2015) and 2023-05-01 (previous 0, but an earlier plan: 2nd).
    # B: 2023-06-01 with NumberOfPreviousCPP 2: 2nd. C: 2023-07-01 twice (duplicate: one
    # plan), no earlier plan. Started 3, second or subsequent 2.
    # Ended in the window: D 2021-05-01 -> 2023-05-01 (exactly 2 years: counts),
    # E 2021-05-02 -> 2023-05-01 (a day short). 1 of 2.
    rows = [
        plan("A", "2015-01-10", "2015-12-01"),
        plan("A", "2023-05-01", previous=0),
        plan("B", "2023-06-01", previous=2),
        plan("C", "2023-07-01"),
        plan("C", "2023-07-01"),
        plan("D", "2021-05-01", "2023-05-01"),
        plan("E", "2021-05-02", "2023-05-01"),
    ]
    res = result(inputs(cp_plans=rows), ["2024-03-31"])
    assert get(res, "cpp_started", "2024-03-31") == (3, None, 3.0)
    n, d, _ = get(res, "cpp_second_or_subsequent", "2024-03-31")
    assert (n, d) == (2, 3)
    assert get(res, "cpp_ended_2y_plus", "2024-03-31") == (1, 2, 0.5)
