"""Referrals, re-referrals, NFA, sustained closures, contacts (hand-worked fixtures)."""

import pandas as pd

from .conftest import get, has_row, inputs, result, table

PE = "2024-03-31"  # window 2023-04-01 .. 2024-03-31


def ref(child, date, nfa=False, closure=None, la="LA1"):
    return {"la_code": la, "LAchildID": child, "CINreferralDate": date,
            "ReferralNFA": nfa, "CINclosureDate": closure}


def referral_rows():
    return [
        ref("A", "2022-06-15"),
        ref("A", "2023-06-15", nfa=False),
        ref("A", "2023-06-15", nfa=True),  # same-day duplicate: one event, later row wins
        ref("B", "2022-06-14"),
        ref("B", "2023-06-15"),  # 1 year + 1 day after: not a re-referral
        ref("C", "2023-04-01", nfa=True),  # first day of the window
        ref("C", "2024-03-31"),  # last day; earlier 2023-04-01 >= 2023-03-31: re-referral
        ref("D", "2024-04-01"),  # after the window
        ref("E", "2023-03-31"),  # before the window
    ]


def test_referrals_rereferrals_nfa():
    # In the window: A 2023-06-15, B 2023-06-15, C 2023-04-01, C 2024-03-31 -> 4.
    # Re-referrals: A (earlier 2022-06-15, exactly 1 year: counts), C 2024-03-31 -> 2/4.
    # NFA: A (the later duplicate row says true), C 2023-04-01 -> 2/4.
    res = result(inputs(cin_episodes=referral_rows()), [PE])
    assert get(res, "referrals", PE) == (4, None, 4.0)
    assert get(res, "rereferrals_within_12m", PE) == (2, 4, 0.5)
    assert get(res, "referrals_nfa", PE) == (2, 4, 0.5)


def test_rereferral_leap_day_period_end():
    # period_end 29 Feb 2024: window 1 Mar 2023 .. 29 Feb 2024.
    # F: 2023-02-28 (outside), 2024-02-29 (inside; 29 Feb - 1 year = 28 Feb: re-referral).
    # G: 2023-03-01 (inside, first day). Referrals 2, re-referrals 1.
    rows = [ref("F", "2023-02-28"), ref("F", "2024-02-29"), ref("G", "2023-03-01")]
    res = result(inputs(cin_episodes=rows), ["2024-02-29"])
    assert get(res, "referrals", "2024-02-29") == (2, None, 2.0)
    assert get(res, "rereferrals_within_12m", "2024-02-29") == (1, 2, 0.5)


def test_nfa_accepts_text_flags():
    rows = table("cin_episodes", [
        {"LAchildID": "A", "CINreferralDate": "2023-05-01", "ReferralNFA": "true"},
        {"LAchildID": "B", "CINreferralDate": "2023-05-01", "ReferralNFA": "1"},
        {"LAchildID": "C", "CINreferralDate": "2023-05-01", "ReferralNFA": "0"},
        {"LAchildID": "D", "CINreferralDate": "2023-05-01", "ReferralNFA": None},
    ])
    res = result(inputs(cin_episodes=rows), [PE])
    assert get(res, "referrals_nfa", PE) == (2, 4, 0.5)


def test_many_period_ends_in_one_pass():
    # Monthly: at 2024-05-31 (window 2023-06-01..2024-05-31) A 2023-06-15, B 2023-06-15,
    # C 2024-03-31, D 2024-04-01 -> 4; re-referrals A and C -> 2.
    res = result(inputs(cin_episodes=referral_rows()), [PE, "2024-05-31"])
    assert get(res, "referrals", "2024-05-31") == (4, None, 4.0)
    assert get(res, "rereferrals_within_12m", "2024-05-31") == (2, 4, 0.5)
    assert get(res, "referrals", PE) == (4, None, 4.0)


def test_cin_closures_sustained():
    # Closures counted: 2022-04-01 .. 2023-03-31 (the year ending one year before PE).
    # A closed 2022-06-01, re-referred 2023-06-01 (exactly +1 year): not sustained.
    # B closed 2022-06-01, re-referred 2023-06-02: sustained.
    # C closed 2023-03-31, never re-referred: sustained.
    # D closed 2023-04-01: outside. E closed 2022-05-01, referral the same day
    # (closure < referral is false): sustained. Denominator 4 (A B C E), numerator 3.
    rows = [
        ref("A", "2022-01-01", closure="2022-06-01"), ref("A", "2023-06-01"),
        ref("B", "2022-01-01", closure="2022-06-01"), ref("B", "2023-06-02"),
        ref("C", "2023-01-01", closure="2023-03-31"),
        ref("D", "2023-01-01", closure="2023-04-01"),
        ref("E", "2022-01-01", closure="2022-05-01"), ref("E", "2022-05-01"),
    ]
    res = result(inputs(cin_episodes=rows), [PE])
    assert get(res, "cin_closures_sustained_12m", PE) == (3, 4, 0.75)


def test_contacts_to_referrals_ratio_and_zero_referrals():
    # LA1: contacts in the window c1, c2, c3 (c2 twice: one contact), c4 outside -> 3;
    # referrals in the window 2 -> 3 / 2. LA2: no contacts feed -> no row.
    # LA3: contacts 1, no referral in the window -> denominator 0, empty value.
    cin = pd.concat([
        table("cin_episodes", [ref("A", "2023-05-01"), ref("B", "2023-06-01")]),
        table("cin_episodes", [ref("X", "2023-05-01", la="LA2")]),
        table("cin_episodes", [ref("Y", "2022-05-01", la="LA3")]),
    ], ignore_index=True)
    contacts = table("contacts", [
        {"la_code": "LA1", "contact_id": "c1", "CHILD": "A", "contact_date": "2023-04-20"},
        {"la_code": "LA1", "contact_id": "c2", "CHILD": "B", "contact_date": "2023-05-20"},
        {"la_code": "LA1", "contact_id": "c2", "CHILD": "B", "contact_date": "2023-05-20"},
        {"la_code": "LA1", "contact_id": "c3", "CHILD": "Z", "contact_date": "2024-03-31"},
        {"la_code": "LA1", "contact_id": "c4", "CHILD": "Z", "contact_date": "2023-03-31"},
        {"la_code": "LA3", "contact_id": "c1", "CHILD": "Y", "contact_date": "2023-09-01"},
    ])
    res = result(inputs(cin_episodes=cin, contacts=contacts), [PE])
    assert get(res, "contacts_to_referrals", PE) == (3, 2, 1.5)
    assert not has_row(res, "contacts_to_referrals", "LA2")
    assert get(res, "contacts_to_referrals", PE, "LA3") == (1, 0, None)
    assert get(res, "referrals", PE, "LA3") == (0, None, 0.0)
    assert get(res, "rereferrals_within_12m", PE, "LA3") == (0, 0, None)
