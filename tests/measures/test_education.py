"""Education of children looked after from the school census (matched by UPN)."""

from .conftest import get, has_row, inputs, result, table
from .test_cla import ep, hdr

PE = "2024-03-31"


def att(upn, term, possible, auth, unauth):
    return {"UPN": upn, "term_start": term, "sessions_possible": possible,
            "sessions_authorised_absence": auth, "sessions_unauthorised_absence": unauth}


def susp(upn, start, category):
    return {"UPN": upn, "start_date": start, "category": category, "sessions": 2}


def fixture(with_suspensions=True):
    eps = [ep(c, "2022-01-01", rne="S") for c in ["e1", "e2", "e3", "e4", "e6"]]
    eps.append(ep("e5", "2022-01-01", "2023-12-01", rne="S"))  # left care: not in the cohort
    headers = [hdr("e1", upn="A1"), hdr("e2", upn="A2"), hdr("e3", upn=""),
               hdr("e4", upn="A4"), hdr("e5", upn="A5"), hdr("e6", upn="A6")]
    attendance = [
        att("A1", "2023-09-01", 100, 5, 5), att("A1", "2024-01-08", 100, 0, 0),
        att("A1", "2023-01-04", 100, 100, 0),  # a term before the window
        att("A2", "2023-09-01", 100, 6, 4),  # exactly 90%: persistent absence
        att("", "2023-09-01", 100, 50, 0),
        att("A4", "2023-01-04", 100, 0, 0),  # only a term before the window: unmatched
        att("A5", "2023-09-01", 100, 50, 0),
        att("A6", "2023-04-17", 50, 10, 0),  # 80%
    ]
    tables = {"episodes": eps, "header": headers, "attendance": table("attendance", attendance)}
    tables["attendance"] = tables["attendance"].astype(
        dict.fromkeys(["sessions_possible", "sessions_authorised_absence", "sessions_unauthorised_absence"], "Int64"))
    if with_suspensions:
        tables["suspensions"] = table("suspensions", [
            susp("A2", "2023-10-01", "FIXD"), susp("A4", "2023-10-01", "FIXD"),
            susp("A6", "2023-05-01", "PERM"), susp("A6", "2023-03-01", "FIXD"),
        ])
    return tables


def test_education_measures():
    # Matched: e1, e2, e6 (e3 blank UPN, e4 no term in the window, e5 not looked after).
    # Attendance: (190 + 90 + 40) / (200 + 100 + 50) = 320 / 350.
    # Persistent absence (<= 90%): e2 (90%), e6 (80%) -> 2 of 3.
    # Suspended (FIXD starting in the window): e2 -> 1 of 3 (e4 unmatched; e6 PERM or
    # before the window).
    res = result(inputs(**fixture()), [PE])
    assert get(res, "cla_attendance_rate", PE) == (320, 350, 320 / 350)
    n, d, _ = get(res, "cla_persistent_absence", PE)
    assert (n, d) == (2, 3)
    n, d, _ = get(res, "cla_suspended", PE)
    assert (n, d) == (1, 3)


def test_suspensions_absent_means_no_row():
    res = result(inputs(**fixture(with_suspensions=False)), [PE])
    assert has_row(res, "cla_attendance_rate")
    assert not has_row(res, "cla_suspended")
