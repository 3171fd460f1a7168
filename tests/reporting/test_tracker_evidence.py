"""The RAG tracker against hand-worked children: each domain's threshold edges.

Period end 31 March 2026: the 12-month window starts 1 April 2025; the collection year
is 2026. Default thresholds (``tracker_rating.DEFAULT_THRESHOLDS``). Every child is in
care on the period end unless its test says it left; each is built to sit below, at or above a threshold of one
domain, and the test says by hand what the tracker must show for it.
"""

from __future__ import annotations

import pandas as pd
import pytest

from csc_outcomes.measures.inputs import MeasureInputs
from csc_outcomes.reporting.tracker_evidence import (
    CARE_LEAVER,
    LOOKED_AFTER,
    STILL_IN_CARE,
    age_band,
    child_evidence,
    time_in_care,
)
from csc_outcomes.reporting.tracker_rating import DEFAULT_THRESHOLDS, DOMAIN_KEYS, rate

LA = "LA1"
PE = "2026-03-31"
TEN = "2015-06-01"  # aged 10 on the period end
TABLES = ("header", "episodes", "missing", "sw_episodes", "oc2", "oc3", "attendance",
          "suspensions")


class Kids:
    """Rows of each canonical table, child by child."""

    def __init__(self) -> None:
        self.rows: dict[str, list[dict]] = {t: [] for t in (*TABLES, "contacts")}

    def child(self, cid: str, dob: str = TEN, start: str = "2020-01-01",
              moves: tuple[str, ...] = (), upn: str | None = None) -> None:
        """A child in care since ``start`` (one placement), moving on each date of ``moves``."""
        self.rows["header"].append({"CHILD": cid, "DOB": dob, "UPN": upn})
        dates = [start, *moves]
        for i, d in enumerate(dates):
            self.rows["episodes"].append({
                "CHILD": cid, "DECOM": d, "DEC": dates[i + 1] if i + 1 < len(dates) else None,
                "RNE": "S" if i == 0 else "P", "LS": "C2", "PLACE": f"U{1 + i % 6}",
                "URN": None, "PL_POST": None})

    def add(self, table: str, **row: object) -> None:
        self.rows[table].append(row)

    def inputs(self, supplied: tuple[str, ...] = TABLES) -> MeasureInputs:
        tables = {}
        for t, rows in self.rows.items():
            df = pd.DataFrame(rows)
            df.insert(0, "la_code", LA)
            for col in df.columns:
                if col in ("DOB", "DECOM", "DEC", "MIS_START", "SW_DECOM", "SW_DEC",
                           "term_start", "start_date"):
                    df[col] = pd.to_datetime(df[col])
            if t in ("oc2", "oc3") and len(df):
                year = df.get("collection_year", pd.Series(2026, index=df.index))
                df["collection_year"] = year.fillna(2026).astype(int)
            tables[t] = df
        sup = pd.DataFrame({"la_code": LA, "table_name": list(supplied), "collection_year": 2026})
        return MeasureInputs(tables=tables, supplied=sup)


def rated(kids: Kids, **options: object) -> pd.DataFrame:
    ev = child_evidence(kids.inputs(**options), LA, PE)  # type: ignore[arg-type]
    return rate(ev, DEFAULT_THRESHOLDS).set_index("CHILD")


def check(frame: pd.DataFrame, domain: str, expected: dict[str, tuple[str, str]]) -> None:
    """Each child's (rating, why) in ``domain``, as worked out by hand."""
    got = {c: (frame.loc[c, f"{domain}_rag"], frame.loc[c, f"{domain}_why"]) for c in expected}
    assert got == expected


def test_placement_moves_in_the_last_12_months():
    k = Kids()
    k.child("M0")
    k.child("M1", moves=("2025-06-01",))
    k.child("M2", moves=("2025-06-01", "2025-09-01"))
    k.child("M3", moves=("2025-06-01", "2025-09-01", "2025-12-01"))
    k.child("OLD", moves=("2025-03-31",))  # a move the day before the window: not counted
    check(rated(k), "placement_moves", {
        "M0": ("Green", "0 moves < amber at 1"), "M1": ("Amber", "1 moves >= amber at 1"),
        "M2": ("Red", "2 moves >= red at 2"), "M3": ("Red", "3 moves >= red at 2"),
        "OLD": ("Green", "0 moves < amber at 1")})


def test_long_term_stability_counts_carer_changes_in_two_years():
    k = Kids()
    k.child("S0")
    k.child("S_EDGE", moves=("2024-03-31",))  # exactly two years before: outside
    k.child("S1", moves=("2024-04-01",))  # the day after: inside
    k.child("S2", moves=("2024-06-01", "2025-01-01"))
    k.child("S16", dob="2010-01-01", moves=("2025-01-01",))  # aged 16: not followed
    k.child("SNEW", start="2023-10-01")  # in care under 2 years 6 months
    check(rated(k), "stability", {
        "S0": ("Green", "0 carer changes < amber at 1"),
        "S_EDGE": ("Green", "0 carer changes < amber at 1"),
        "S1": ("Amber", "1 carer changes >= amber at 1"),
        "S2": ("Red", "2 carer changes >= red at 2"),
        "S16": ("Not applicable", ""), "SNEW": ("Not applicable", "")})


def test_missing_episodes_and_social_workers():
    k = Kids()
    for cid, n in (("X0", 0), ("X1", 1), ("X2", 2), ("X3", 3)):
        k.child(cid)
        for i in range(n):
            k.add("missing", CHILD=cid, MISSING="M", MIS_START=f"2025-0{4 + i}-01")
    k.add("missing", CHILD="X0", MISSING="M", MIS_START="2025-03-31")  # before the window
    k.add("missing", CHILD="X0", MISSING="A", MIS_START="2025-05-01")  # away, not missing
    for cid, workers in (("X1", "A"), ("X2", "AB"), ("X3", "ABC"), ("X0", "ABA")):
        for i, w in enumerate(workers):
            k.add("sw_episodes", CHILD=cid, SW_ID=w, SW_DECOM=f"2025-0{4 + i}-01", SW_DEC=None)
    frame = rated(k)
    check(frame, "missing", {
        "X0": ("Green", "0 missing episodes < amber at 1"),
        "X1": ("Amber", "1 missing episodes >= amber at 1"),
        "X2": ("Amber", "2 missing episodes >= amber at 1"),
        "X3": ("Red", "3 missing episodes >= red at 3")})
    check(frame, "social_workers", {  # a return to worker A adds nothing
        "X0": ("Amber", "2 social workers >= amber at 2"),
        "X1": ("Green", "1 social workers < amber at 2"),
        "X2": ("Amber", "2 social workers >= amber at 2"),
        "X3": ("Red", "3 social workers >= red at 3")})


def test_social_workers_not_in_the_years_return_are_no_data():
    k = Kids()
    k.child("X1")
    k.add("sw_episodes", CHILD="X1", SW_ID="A", SW_DECOM="2025-04-01", SW_DEC=None)
    frame = rated(k, supplied=tuple(t for t in TABLES if t != "sw_episodes"))
    assert frame.loc["X1", "social_workers_rag"] == "No data"
    assert frame.loc["X1", "social_workers_evidence"] == "no sw_episodes table in this year's return"


def test_health_checks_and_sdq_bands():
    k = Kids()
    oc2 = {"H0": (1, 1, 1, 13), "H1": (1, 0, 1, 14), "H2": (0, 1, 0, 16), "H3": (0, 0, 0, 17),
           "HBLANK": (None, None, None, None)}
    for cid, (hc, teeth, imm, sdq) in oc2.items():
        k.child(cid)
        k.add("oc2", CHILD=cid, DOB=TEN, HEALTH_CHECK=hc, TEETH_CHECK=teeth, IMMUNISATIONS=imm,
              SDQ_SCORE=sdq)
    k.child("HNONE")  # no OC2 row
    k.child("HNEW", start="2025-06-01")  # in care under 12 months
    k.child("H3YO", dob="2022-06-01")
    k.add("oc2", CHILD="H3YO", DOB="2022-06-01", HEALTH_CHECK=1, TEETH_CHECK=1,
          IMMUNISATIONS=1, SDQ_SCORE=20)
    frame = rated(k)
    check(frame, "health", {
        "H0": ("Green", "0 of 3 not done < amber at 1"),
        "H1": ("Amber", "1 of 3 not done >= amber at 1"),
        "H2": ("Red", "2 of 3 not done >= red at 2"), "H3": ("Red", "3 of 3 not done >= red at 2"),
        "HBLANK": ("No data", ""), "HNONE": ("No data", ""), "HNEW": ("Not applicable", "")})
    assert frame.loc["H1", "health_evidence"] == (
        "health check done; dental check not done; immunisations done")
    check(frame, "sdq", {
        "H0": ("Green", "SDQ 13 < amber at 14"), "H1": ("Amber", "SDQ 14 >= amber at 14"),
        "H2": ("Amber", "SDQ 16 >= amber at 14"), "H3": ("Red", "SDQ 17 >= red at 17"),
        "HBLANK": ("No data", ""), "H3YO": ("Not applicable", "")})


def test_school_absence_and_suspensions_by_upn():
    k = Kids()
    absent = {"A4": (4, 100), "A5": (5, 100), "A99": (99, 1000), "A10": (100, 1000),
              "A496": (6, 121), "A4996": (4996, 100000)}
    for cid, (missed, possible) in absent.items():
        k.child(cid, upn=f"UPN{cid}")
        k.add("attendance", UPN=f"UPN{cid}", term_start="2025-09-01", sessions_possible=possible,
              sessions_authorised_absence=missed, sessions_unauthorised_absence=0)
    k.child("ANOUPN")  # not matched to the school census
    k.child("AYOUNG", dob="2021-09-01", upn="UPNY")  # aged 4
    for i in range(2):
        k.add("suspensions", UPN="UPNA10", start_date=f"2025-1{i}-01", category="FIXD")
    k.add("suspensions", UPN="UPNA5", start_date="2025-10-01", category="FIXD")
    k.add("suspensions", UPN="UPNA4", start_date="2025-03-31", category="FIXD")  # before
    k.add("suspensions", UPN="UPNA4", start_date="2025-10-01", category="PERM")  # exclusion
    frame = rated(k)
    check(frame, "absence", {
        "A4": ("Green", "4% absent < amber at 5"), "A5": ("Amber", "5% absent >= amber at 5"),
        "A99": ("Amber", "9.9% absent >= amber at 5"), "A10": ("Red", "10% absent >= red at 10"),
        # 6 of 121 is 4.96%: "5.0% absent < amber at 5" would read as a wrong rating
        "A496": ("Green", "4.96% absent < amber at 5"),
        "A4996": ("Green", "4.996% absent < amber at 5"),
        "ANOUPN": ("No data", ""), "AYOUNG": ("Not applicable", "")})
    assert frame.loc["A496", "absence_evidence"] == "6 of 121 sessions missed (4.96%)"
    check(frame, "suspensions", {
        "A4": ("Green", "0 suspensions < amber at 1"), "A5": ("Amber", "1 suspensions >= amber at 1"),
        "A10": ("Red", "2 suspensions >= red at 2"), "ANOUPN": ("No data", ""),
        "AYOUNG": ("Not applicable", "")})


def test_care_leavers_activity_and_accommodation():
    k = Kids()
    seventeen = "2008-06-01"
    for cid, activ, accom in (("L0", "F1", "B1"), ("L1", "G4", "B1"), ("L2", "G4", "B2")):
        k.child(cid, dob=seventeen)
        k.add("oc3", CHILD=cid, DOB=seventeen, IN_TOUCH="YES", ACTIV=activ, ACCOM=accom)
    k.child("LNONE", dob=seventeen)
    k.child("L16", dob="2009-06-01")
    frame = rated(k)
    check(frame, "care_leaver", {
        "L0": ("Green", "0 of 2 not met < amber at 1"), "L1": ("Amber", "1 of 2 not met >= amber at 1"),
        "L2": ("Red", "2 of 2 not met >= red at 2"), "LNONE": ("Not applicable", ""),
        "L16": ("Not applicable", "")})
    # in care at 17 with no OC3 row: OC3 is returned after leaving care, not missing data
    assert frame.loc["LNONE", "care_leaver_evidence"] == STILL_IN_CARE


def test_care_leavers_are_rows_rated_only_as_care_leavers():
    k = Kids()
    eighteen = "2007-06-01"
    k.child("IN", dob=eighteen)  # still in care, no OC3 row
    for cid, activ, accom in (("CL0", "F1", "B1"), ("CL2", "G4", "B2"), ("CLBLANK", None, None)):
        k.child(cid, dob=eighteen, start="2020-01-01")
        k.rows["episodes"][-1]["DEC"] = "2025-06-01"  # left care in the year
        k.add("oc3", CHILD=cid, DOB=eighteen, IN_TOUCH="YES", ACTIV=activ, ACCOM=accom)
    k.child("OLDYEAR", dob=eighteen)
    k.rows["episodes"][-1]["DEC"] = "2024-06-01"
    k.add("oc3", CHILD="OLDYEAR", DOB=eighteen, ACTIV="F1", ACCOM="B1", collection_year=2025)
    k.add("oc3", CHILD="ONLYOC3", DOB=eighteen, ACTIV="G4", ACCOM="B1")  # not in the 903 header
    frame = rated(k)
    assert list(frame.index) == ["CL0", "CL2", "CLBLANK", "IN", "ONLYOC3"]
    check(frame, "care_leaver", {
        "CL0": ("Green", "0 of 2 not met < amber at 1"), "CL2": ("Red", "2 of 2 not met >= red at 2"),
        "CLBLANK": ("No data", ""), "ONLYOC3": ("Amber", "1 of 2 not met >= amber at 1"),
        "IN": ("Not applicable", "")})
    leavers = frame.loc[["CL0", "CL2", "CLBLANK", "ONLYOC3"]]
    assert set(leavers["status"]) == {CARE_LEAVER} and frame.loc["IN", "status"] == LOOKED_AFTER
    assert set(leavers["age_band"]) == {"16 and over"}
    for key in DOMAIN_KEYS[:-1]:
        assert set(leavers[f"{key}_rag"]) == {"Not applicable"}, key


def test_who_each_child_is():
    k = Kids()
    k.child("W1", start="2024-01-15", moves=("2025-06-01",))
    k.child("GONE", start="2020-01-01")
    k.rows["episodes"][-1]["DEC"] = "2025-01-01"  # left care: not in the tracker
    frame = rated(k)
    assert list(frame.index) == ["W1"]
    row = frame.loc["W1"]
    assert (row["age_band"], row["legal_status"], row["placement"], row["time_in_care"]) == (
        "10 to 15", "C2", "U2", "2 y 2 m")


@pytest.mark.parametrize(("age", "band"), [(0, "Under 1"), (1, "1 to 4"), (4, "1 to 4"),
                                           (5, "5 to 9"), (15, "10 to 15"), (16, "16 and over"),
                                           (float("nan"), "Unknown")])
def test_age_bands(age, band):
    assert age_band(age) == band


def test_time_in_care_counts_whole_months():
    pe = pd.Timestamp(PE)
    assert time_in_care(pd.Timestamp("2025-03-31"), pe) == "1 y 0 m"
    assert time_in_care(pd.Timestamp("2025-04-01"), pe) == "0 y 11 m"


def test_front_door_contacts_from_the_contacts_feed():
    k = Kids()
    for cid, n in (("X0", 0), ("X1", 1), ("X2", 2), ("X3", 3)):
        k.child(cid)
        for i in range(n):
            k.add("contacts", CHILD=cid, contact_date=f"2025-0{4 + i}-01")
    k.add("contacts", CHILD="X0", contact_date="2025-03-31")  # the day before the window
    k.add("contacts", CHILD="X0", contact_date="2026-04-01")  # after the period end
    k.add("contacts", CHILD="NOT-IN-CARE", contact_date="2025-06-01")
    frame = rated(k, supplied=(*TABLES, "contacts"))
    check(frame, "contacts", {
        "X0": ("Green", "0 contacts < amber at 1"),
        "X1": ("Amber", "1 contacts >= amber at 1"),
        "X2": ("Amber", "2 contacts >= amber at 1"),
        "X3": ("Red", "3 contacts >= red at 3")})
    assert "NOT-IN-CARE" not in frame.index
    without = rated(k)  # no contacts feed supplied for the year
    assert set(without["contacts_rag"]) == {"No data"}
