"""Which period ends the loaded returns cover: the rule every step uses (finding 7)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from csc_outcomes.measures.coverage import (
    Coverage,
    PeriodNotCovered,
    period_spelling,
    years_touched,
)


def supplied(rows: list[tuple[str, str, int]]) -> pd.DataFrame:
    """A ``supplied`` frame from (la_code, table_name, collection_year)."""
    return pd.DataFrame(rows, columns=["la_code", "table_name", "collection_year"])


# A1: SSDA903 2022-2026, CIN 2023-2026 -> covered years 2023-2026 (both returns needed).
# B2: SSDA903 and CIN 2025 only. C3: a contacts feed only (not a return). D4: a gap in 2024.
COVERAGE = Coverage.from_supplied(supplied(
    [("A1", "episodes", y) for y in range(2022, 2027)]
    + [("A1", "cin_episodes", y) for y in range(2023, 2027)]
    + [("A1", "contacts", 2027)]
    + [("B2", "header", 2025), ("B2", "cp_plans", 2025)]
    + [("C3", "contacts", 2026)]
    + [("D4", "episodes", y) for y in (2023, 2025, 2026)]))


def test_years_are_those_of_every_statutory_return_an_la_supplies():
    assert COVERAGE.years == {"A1": frozenset({2023, 2024, 2025, 2026}),
                              "B2": frozenset({2025}), "C3": frozenset(),
                              "D4": frozenset({2023, 2025, 2026})}


def test_the_window_of_a_period_end_touches_these_collection_years():
    assert years_touched("2026-03-31") == [2026]  # 1 Apr 2025 - 31 Mar 2026
    assert years_touched("2026-10-31") == [2026, 2027]  # 1 Nov 2025 - 31 Oct 2026
    assert years_touched("2025-04-30") == [2025, 2026]  # 1 May 2024 - 30 Apr 2025


def test_before_the_first_return_is_a_usage_error():
    with pytest.raises(PeriodNotCovered) as e:
        COVERAGE.require("2019-03-31", ["A1"])
    assert e.value.exit_code == 2
    assert "A1 (first return: year ending 31 March 2023" in str(e.value)
    assert "earliest period end covered 2023-03-31" in str(e.value)
    # a window reaching back before the first year is not covered either
    assert COVERAGE.check("2023-02-28", ["A1"]).before == {"A1": 2023}
    # an LA with no return at all covers nothing
    with pytest.raises(PeriodNotCovered, match=r"C3 \(no SSDA903 or CIN return") as e:
        COVERAGE.require("2026-03-31", ["C3"])
    assert e.value.exit_code == 2


def test_after_the_latest_return_names_the_las_and_their_latest_return():
    with pytest.raises(PeriodNotCovered) as e:
        COVERAGE.require("2026-10-31", ["A1", "B2"])
    assert e.value.exit_code == 1
    message = str(e.value)
    assert "A1 (latest return: year ending 31 March 2026)" in message
    assert "B2 (latest return: year ending 31 March 2025)" in message
    assert "--allow-incomplete" in message and "--period-end 2025-03-31" in message
    assert COVERAGE.require("2026-03-31", ["A1"]).covered


def test_a_gap_between_returns_is_incomplete_too():
    check = COVERAGE.check("2024-03-31", ["D4"])
    assert check.gaps == {"D4": (2024,)} and not check.before and not check.behind
    with pytest.raises(PeriodNotCovered, match=r"D4 \(no return for the year ending 31 March 2024\)"):
        COVERAGE.require("2024-03-31", ["D4"])


def test_allowed_incomplete_periods_carry_a_banner():
    check = COVERAGE.require("2026-10-31", ["A1"], allow_incomplete=True)
    assert check.behind == {"A1": 2026}
    assert check.banner() is not None and check.banner().startswith("Incomplete data:")
    assert "A1 (latest return: year ending 31 March 2026)" in check.banner()
    assert COVERAGE.require("2026-03-31", ["A1"], allow_incomplete=True).banner() is None
    with pytest.raises(PeriodNotCovered):  # before the first return: never allowed
        COVERAGE.require("2019-03-31", ["A1"], allow_incomplete=True)


def test_latest_covered_is_the_latest_31_march_every_la_reaches():
    assert COVERAGE.latest_covered(["A1"]) == dt.date(2026, 3, 31)
    assert COVERAGE.latest_covered(["A1", "B2"]) == dt.date(2025, 3, 31)
    assert COVERAGE.resolve("latest_covered", ["A1", "D4"]) == dt.date(2026, 3, 31)
    assert COVERAGE.resolve("2024-06-30") == dt.date(2024, 6, 30)
    with pytest.raises(PeriodNotCovered, match="C3"):
        COVERAGE.latest_covered(["A1", "C3"])


def test_period_spellings():
    assert period_spelling("latest_covered") == "latest_covered"
    assert period_spelling(" latest-covered ") == "latest_covered"
    assert period_spelling(dt.date(2026, 3, 31)) == "2026-03-31"
    with pytest.raises(ValueError, match="is not a date"):
        period_spelling("31/03/2026")


def test_supported_mask_keeps_the_rows_the_returns_cover():
    frame = pd.DataFrame({"la_code": ["A1", "A1", "A1", "B2", "B2"],
                          "period_end": pd.to_datetime(["2022-03-31", "2023-03-31", "2026-10-31",
                                                        "2025-03-31", "2026-03-31"])})
    assert COVERAGE.supported_mask(frame).tolist() == [False, True, False, True, False]
    kept = COVERAGE.supported_mask(frame, keep=[("A1", "2026-10-31")])
    assert kept.tolist() == [False, True, True, True, False]
