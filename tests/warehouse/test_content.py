"""The warehouse's content hash (what a manifest records and ``reproduce`` checks): the
same for the same inputs however and whenever they were ingested, different after one
changed byte of a raw file; and ``input_files``, every raw file behind the warehouse."""

from __future__ import annotations

import hashlib
import shutil

import duckdb
import pandas as pd

from csc_outcomes import warehouse
from csc_outcomes.ingest import ingest_folder
from csc_outcomes.warehouse import content_hash, ingest_into, write
from csc_outcomes.warehouse.content import la_digests, projection_digest
from csc_outcomes.warehouse.schema import column_types

from .conftest import TODAY


def test_the_same_inputs_give_the_same_hash_however_ingested(clean_dir, tmp_path):
    a, b = tmp_path / "a.duckdb", tmp_path / "b.duckdb"
    ingest_into(clean_dir, a, today=TODAY, progress=False, jobs=1)
    moved = shutil.copytree(clean_dir, tmp_path / "elsewhere" / "input")  # another folder, same files
    ingest_into(moved, b, today=TODAY, progress=False, jobs=2)
    assert a.read_bytes() != b.read_bytes()  # the files differ (ingest times, layout) ...
    assert content_hash(a) == content_hash(b)  # ... the content does not
    assert len(content_hash(a)) == 64


def test_one_changed_byte_changes_the_hash(clean_dir, tmp_path):
    a, b = tmp_path / "a.duckdb", tmp_path / "b.duckdb"
    ingest_into(clean_dir, a, today=TODAY, progress=False)
    header = clean_dir / "E1/ssda903/2025/header.csv"
    text = header.read_bytes()
    assert b"01/02/2010" in text
    header.write_bytes(text.replace(b"01/02/2010", b"01/02/2011", 1))  # one byte: a date of birth
    ingest_into(clean_dir, b, today=TODAY, progress=False)
    assert content_hash(a) != content_hash(b)


def test_a_byte_that_changes_no_value_still_changes_the_hash(clean_dir, tmp_path):
    a, b = tmp_path / "a.duckdb", tmp_path / "b.duckdb"
    ingest_into(clean_dir, a, today=TODAY, progress=False)
    header = clean_dir / "E1/ssda903/2025/header.csv"
    header.write_bytes(header.read_bytes().replace(b"\n", b"\r\n", 1))  # same rows, other bytes
    ingest_into(clean_dir, b, today=TODAY, progress=False)
    tables_a, _ = warehouse.read_tables(a)
    tables_b, _ = warehouse.read_tables(b)
    assert tables_a["header"].equals(tables_b["header"])
    assert content_hash(a) != content_hash(b)  # input_files records the file's new sha256


def test_row_order_does_not_matter(clean_dir, tmp_path):
    result = ingest_folder(clean_dir, today=TODAY, jobs=1)
    write(tmp_path / "a.duckdb", result)
    result.tables["episodes"] = result.tables["episodes"].iloc[::-1].reset_index(drop=True)
    result.input_files = result.input_files.iloc[::-1]
    write(tmp_path / "b.duckdb", result)
    assert content_hash(tmp_path / "a.duckdb") == content_hash(tmp_path / "b.duckdb")
    result.tables["episodes"] = result.tables["episodes"].iloc[1:]  # one row fewer
    write(tmp_path / "c.duckdb", result)
    assert content_hash(tmp_path / "c.duckdb") != content_hash(tmp_path / "a.duckdb")
    a, b, c = (la_digests(tmp_path / f"{x}.duckdb") for x in "abc")
    assert list(a) == ["E1"] and a == b, "an LA's digest: row order does not matter either"
    assert c != a
    result.tables["episodes"] = pd.concat([result.tables["episodes"]] * 2, ignore_index=True)
    write(tmp_path / "d.duckdb", result)
    assert la_digests(tmp_path / "d.duckdb") not in (a, c), "a repeated row counts"


def test_input_files_table(clean_dir, tmp_path):
    wh = tmp_path / "w.duckdb"
    ingest_into(clean_dir, wh, today=TODAY, progress=False)
    files = warehouse.read_table(wh, warehouse.INPUT_FILES)
    assert list(files.columns) == ["la_code", "path", "size", "sha256"]
    on_disk = sorted(p for p in clean_dir.rglob("*") if p.is_file())
    assert list(files["path"]) == [p.relative_to(clean_dir).as_posix() for p in on_disk]
    assert list(files["size"]) == [p.stat().st_size for p in on_disk]
    assert list(files["sha256"]) == [hashlib.sha256(p.read_bytes()).hexdigest() for p in on_disk]
    assert set(files["la_code"]) == {"E1"}


def test_projection_digest_covers_exactly_its_columns_whatever_the_row_order():
    types = column_types("episodes")
    con = duckdb.connect()
    con.execute("CREATE TABLE episodes (" + ", ".join(f'"{c}" {t}' for c, t in types.items()) + ")")
    con.execute("""INSERT INTO episodes (la_code, CHILD, DECOM, PLACE) VALUES
                   ('E1', 'C1', DATE '2025-01-01', 'U1'), ('E1', 'C2', DATE '2025-02-01', 'U1'),
                   ('E2', 'C1', NULL, 'U4')""")
    cols = ["la_code", "CHILD", "DECOM"]
    before = projection_digest(con, "episodes", cols)
    assert len(before) == 64 and before == projection_digest(con, "episodes", cols)
    con.execute("CREATE TABLE e2 AS SELECT * FROM episodes ORDER BY CHILD DESC, la_code DESC; "
                "DELETE FROM episodes; INSERT INTO episodes SELECT * FROM e2")
    assert projection_digest(con, "episodes", cols) == before, "row order does not matter"
    con.execute("UPDATE episodes SET PLACE = 'Z1'")
    assert projection_digest(con, "episodes", cols) == before, "nor a column not digested"
    con.execute("UPDATE episodes SET DECOM = DATE '2025-01-02' WHERE DECOM = DATE '2025-01-01'")
    changed = projection_digest(con, "episodes", cols)
    assert changed != before
    con.execute("INSERT INTO episodes SELECT * FROM episodes LIMIT 1")
    assert projection_digest(con, "episodes", cols) not in (before, changed), "a duplicate counts"
    assert projection_digest(con, "episodes", ["la_code", "CHILD"]) != before
