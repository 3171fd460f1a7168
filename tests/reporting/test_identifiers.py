"""What the leak scan looks for: every id, SW_ID, postcode and date of birth the
warehouse holds (finding 3 of issue 7), and the dates a report legitimately shows."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import pytest

from csc_outcomes.reporting.identifiers import (
    IdentifierSet,
    identifiers_from_warehouse,
    report_dates,
)
from csc_outcomes.warehouse import ingest_into

#: The ingest tests' clean input folder and the day it is read as of.
CLEAN = Path(__file__).resolve().parents[1] / "ingest" / "fixtures" / "clean"
TODAY = dt.date(2026, 1, 1)


@pytest.fixture(scope="module")
def clean_warehouse(tmp_path_factory) -> Path:
    """The ingest tests' clean fixture (one LA, E1) as a warehouse, written once."""
    path = tmp_path_factory.mktemp("wh") / "w.duckdb"
    ingest_into(CLEAN, path, today=TODAY, progress=False)
    return path


def test_every_kind_is_read_from_the_warehouse(clean_warehouse):
    """Values of the fixture's files (header.csv, episodes.csv, cin.xml), by hand."""
    held = identifiers_from_warehouse(clean_warehouse)
    assert held.ids["A123456789012"] == "UPN"  # header.csv and cin.xml
    assert held.postcodes["AB12CD"] == "HOME_POST" and held.postcodes["AB56GH"] == "PL_POST"
    assert held.dates[dt.date(2008, 3, 4)] == "DOB"  # header.csv: 2008-03-04
    assert held.dates[dt.date(2010, 2, 1)] == "PersonBirthDate, DOB"  # 01/02/2010 in both
    assert "SC654321" not in held.ids  # a URN: Ofsted's public number of a home
    # the fixture's CHILD (C1), SW_ID (SW1) and contact ids (CT1) are too short to look for
    assert "C1" not in held.ids and "SW1" not in held.ids and held.skipped >= 3


def test_sw_id_contact_id_and_rejected_ids_are_read(clean_warehouse, tmp_path):
    path = shutil.copy(clean_warehouse, tmp_path / "w.duckdb")
    with duckdb.connect(str(path)) as con:
        con.execute("UPDATE sw_episodes SET SW_ID = 'SW100001'")
        con.execute("UPDATE contacts SET contact_id = contact_id || '00001'")
        con.execute("INSERT INTO rejects VALUES ('E1', 'E1/x.csv', 'header', 3, 'UPN', "
                    "'Q12345678901', 'upn_format', 'bad UPN')")
        con.execute("INSERT INTO rejects VALUES ('E1', 'E1/x.csv', 'episodes', 4, 'DECOM', "
                    "'31/02/2024', 'date', 'not a date')")
    held = identifiers_from_warehouse(path)
    assert held.ids["SW100001"] == "SW_ID"
    assert held.ids["CT100001"] == "contact_id"
    assert held.ids["Q12345678901"] == "UPN"  # a malformed UPN is still a child's UPN
    assert "31/02/2024" not in held.ids


def test_only_the_las_asked_for_are_read(clean_warehouse):
    assert len(identifiers_from_warehouse(clean_warehouse, ["e1"])) > 0
    assert len(identifiers_from_warehouse(clean_warehouse, ["E9"])) == 0


def test_plain_strings_are_ids():
    held = IdentifierSet.of({"C0000123456", "2012-06-15"})
    assert dict(held.ids) == {"C0000123456": "identifier", "2012-06-15": "identifier"}
    assert IdentifierSet.of(held) is held and len(IdentifierSet.of(None)) == 0


def test_report_dates_are_period_ends_window_starts_and_run_days():
    days = report_dates("2026-03-31", "2026-04-01T23:50:00+01:00", today=dt.date(2026, 4, 3))
    for d in ["2026-03-31", "2025-04-01", "2025-03-31", "2016-04-30", "2025-10-31", "2025-11-01",
              "2026-04-01", "2026-04-02", "2026-04-03"]:
        assert dt.date.fromisoformat(d) in days, d
    for d in ["2026-03-30", "2026-04-04", "2012-06-15", "2015-03-31", "2016-02-29"]:
        assert dt.date.fromisoformat(d) not in days, d
