"""What the leak scan looks for: every id, SW_ID, postcode and date of birth the
warehouse holds (finding 3 of issue 7), and the dates a report legitimately shows."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import pytest

from csc_outcomes import warehouse as wh
from csc_outcomes.keys import TABLE_SOURCE
from csc_outcomes.reporting.identifiers import (
    IDENTIFIER_COLUMNS,
    IdentifierSet,
    identifiers_from_warehouse,
    report_dates,
    spilling,
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


def _built_in_python(path: Path) -> IdentifierSet:
    """The ids as ``IdentifierSet.build`` makes them from every (value, column) read in
    turn (the way the set was built before DuckDB took the forms): the reference."""
    pairs = []
    with duckdb.connect(str(path), read_only=True) as con:
        for table, column in con.execute("SELECT table_name, column_name FROM "
                                         "information_schema.columns").fetchall():
            if table in TABLE_SOURCE and column in IDENTIFIER_COLUMNS:
                pairs += [(v, column) for (v,) in con.execute(
                    f'SELECT DISTINCT "{column}" FROM "{table}" WHERE "{column}" IS NOT NULL'
                ).fetchall()]
        for column in IDENTIFIER_COLUMNS:
            pairs += con.execute('SELECT DISTINCT value, "column" FROM rejects WHERE "column" = ?',
                                 [column]).fetchall()
    return IdentifierSet.build(ids=pairs)


def test_ids_formed_in_duckdb_are_those_python_forms(clean_warehouse, tmp_path):
    """The forms (edge punctuation off, upper case), the columns each is in and in which
    order, the short ones left out: as ``id_form`` and ``long_enough`` make them, for
    ASCII ids (formed in SQL) and others (``straße`` upper-cases to ``STRASSE`` in
    Python, ``STRAẞE`` in DuckDB), the same id in several columns and in ``rejects``."""
    path = shutil.copy(clean_warehouse, tmp_path / "w.duckdb")
    odd = ["  -ab-1234- ", "straße99", "ı2345", "(C123)", "12345", "123456", "--", "x y z 1",
           "Ab12345678", "AB12345678", "aﬀ0001"]
    with duckdb.connect(str(path)) as con:
        for i, value in enumerate(odd):
            con.execute("INSERT INTO sw_episodes (la_code, \"CHILD\", \"SW_ID\") VALUES "
                        "('E1', ?, ?)", [value, odd[-1 - i]])
            con.execute("INSERT INTO rejects VALUES ('E1', 'E1/x.csv', 'header', 3, 'UPN', ?, "
                        "'upn_format', 'bad UPN')", [value])
    held, reference = identifiers_from_warehouse(path), _built_in_python(path)
    assert dict(held.ids) == dict(reference.ids)
    assert (held.max_parts, held.max_length, held.skipped) == (
        reference.max_parts, reference.max_length, reference.skipped)
    assert held.ids["STRASSE99"] == "CHILD, SW_ID, UPN" and held.ids["AB-1234"] == "CHILD, SW_ID, UPN"
    assert "12345" not in held.ids and held.ids["123456"] == "CHILD, SW_ID, UPN"
    assert held.max_parts == 4 and held.ids["AFF0001"] == "CHILD, SW_ID, UPN"


def test_only_the_las_asked_for_are_read(clean_warehouse):
    assert len(identifiers_from_warehouse(clean_warehouse, ["e1"])) > 0
    assert len(identifiers_from_warehouse(clean_warehouse, ["E9"])) == 0


def test_a_spilling_build_gives_the_same_set_and_keeps_its_folder_private(clean_warehouse,
                                                                          tmp_path):
    spill = tmp_path / "run" / "spill"
    held = identifiers_from_warehouse(clean_warehouse, spill_dir=spill)
    assert held == identifiers_from_warehouse(clean_warehouse) and len(held.ids) > 0
    assert spill.stat().st_mode & 0o777 == 0o700
    with wh.connect(clean_warehouse) as other:  # open beside it: the same database in DuckDB
        before = other.execute("SELECT current_setting('memory_limit')").fetchone()
        identifiers_from_warehouse(clean_warehouse, spill_dir=spill)
        after = other.execute("SELECT current_setting('memory_limit'), "
                              "current_setting('temp_directory')").fetchone()
    assert after[0] == before[0], "its memory settings are put back"


#: A sort that spills in 20 MB of DuckDB's memory.
SPILLING_SORT = "SELECT count(*) FROM (SELECT x FROM range(3000000) t(x) ORDER BY hash(x))"


def test_spilling_holds_when_duckdb_has_spilled_before_or_inside_it(tmp_path):
    """A national run failed at its leak scan: "Cannot switch temporary directory after
    the current one has been used". DuckDB cannot change its spill folder once it has
    spilled, so neither setting it (spilled before) nor putting it back (spilled inside
    the block, which the old code did) may fail the build."""
    for spilled_before in (True, False):
        folder = tmp_path / str(spilled_before)
        folder.mkdir()
        with duckdb.connect(str(folder / "w.duckdb")) as con:
            con.execute("SET threads = 1; SET memory_limit = '20MB'")
            if spilled_before:
                assert con.execute(SPILLING_SORT).fetchone() == (3000000,)
            with spilling(con, folder / "spill"):
                con.execute("SET memory_limit = '20MB'")  # so that it spills in here too
                assert con.execute(SPILLING_SORT).fetchone() == (3000000,)
            limit = con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
            assert limit != "20.0 MiB", "the memory limit is put back"


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
