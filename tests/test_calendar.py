"""The calendar rules (csc_outcomes.calendar): windows, ages, working days, collection years."""

import pandas as pd

from csc_outcomes import calendar as cal

T = pd.Timestamp


def test_add_years_maps_29_february_to_28_february():
    assert cal.add_years("2024-02-29", -1) == T("2023-02-28")
    assert cal.add_years("2024-02-29", 1) == T("2025-02-28")
    assert cal.add_years("2024-02-29", 4) == T("2028-02-29")
    s = pd.Series(pd.to_datetime(["2024-02-29", "2023-06-15"]))
    assert list(cal.add_years(s, -1)) == [T("2023-02-28"), T("2022-06-15")]


def test_window_start_leap_day_and_statutory_year():
    assert cal.window_start("2024-02-29") == T("2023-03-01")
    assert cal.window_start("2024-03-31") == T("2023-04-01")
    assert cal.window_start("2025-02-28") == T("2024-02-29")


def test_months_before_clips_to_month_end():
    assert cal.months_before("2024-03-31", 30) == T("2021-09-30")
    assert cal.months_before("2024-08-31", 30) == T("2022-02-28")
    assert cal.months_before("2024-06-30", 30) == T("2021-12-30")


def test_working_days_same_day_friday_monday_and_bank_holidays():
    assert cal.working_days("2024-03-08", "2024-03-08") == 0
    assert cal.working_days("2024-03-08", "2024-03-11") == 1  # Fri -> Mon
    # Easter 2024: Good Friday 29 March and Easter Monday 1 April are not working days.
    assert cal.working_days("2024-03-28", "2024-04-02") == 1
    # Christmas 2023: 25, 26 December and 1 January are bank holidays.
    assert cal.working_days("2023-12-22", "2024-01-02") == 4
    # The coronation bank holiday, Monday 8 May 2023 (and early May, 1 May 2023).
    assert cal.working_days("2023-05-05", "2023-05-09") == 1
    assert cal.working_days("2023-04-28", "2023-05-02") == 1
    s = pd.Series(pd.to_datetime(pd.Series(["2024-03-01", None])))
    e = pd.Series(pd.to_datetime(["2024-05-08", "2024-05-08"]))
    out = cal.working_days(s, e)
    assert out.iloc[0] == 45 and pd.isna(out.iloc[1])


def test_age_at_and_birthday_for_29_february():
    assert cal.age_at("2012-02-29", "2023-02-28") == 10
    assert cal.age_at("2012-02-29", "2023-03-01") == 11
    assert cal.age_at("2012-02-29", "2024-02-29") == 12
    assert cal.age_at("2008-03-31", "2024-03-31") == 16
    assert cal.age_at("2008-04-01", "2024-03-31") == 15
    dob = pd.Series(pd.to_datetime(["2004-02-29", "2004-02-29", "2004-03-01"]))
    assert list(cal.birthday(dob, 19)) == [T("2023-03-01"), T("2023-03-01"), T("2023-03-01")]
    assert cal.birthday(dob, 20).iloc[0] == T("2024-02-29")


def test_collection_year():
    assert cal.collection_year("2024-03-31") == 2024
    assert cal.collection_year("2024-04-01") == 2025
    assert cal.month_ends("2024-01-15", "2024-03-31") == [
        T("2024-01-31"), T("2024-02-29"), T("2024-03-31")
    ]
