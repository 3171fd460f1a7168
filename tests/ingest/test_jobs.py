"""Files read by worker processes (``jobs=2``) give exactly what reading them in the
ingest's own process (``jobs=1``) gives: the same QA report file, byte for byte, and
the same warehouse tables, row for row (only the run's start and finish times differ)."""

from __future__ import annotations

import json

import duckdb
import pandas as pd
import pytest

from csc_outcomes import synth
from csc_outcomes.ingest import UsageError, ingest_folder
from csc_outcomes.warehouse import ingest_into

from .conftest import TODAY


def _dump(path) -> dict[str, pd.DataFrame]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        out = {}
        for (name,) in con.execute("SELECT table_name FROM information_schema.tables ORDER BY table_name").fetchall():
            df = con.execute(f'SELECT * FROM "{name}"').df()
            if name == "ingest_runs":
                df = df.drop(columns=[c for c in ("started", "finished") if c in df.columns])
            schema = con.execute("SELECT column_name, data_type FROM information_schema.columns "
                                 "WHERE table_name = ? ORDER BY ordinal_position", [name]).fetchall()
            out[name] = (df, schema)
        return out
    finally:
        con.close()


def test_jobs_give_the_same_warehouse_and_qa_report(tmp_path, capsys):
    inp = tmp_path / "synth"
    synth.generate(inp, n_las=2, seed=3, scale=0.2, faults=True, progress=False)
    wh = tmp_path / "out" / "w.duckdb"
    qa = tmp_path / "out" / "w.qa.json"
    runs = {}
    for jobs in (1, 2):
        res = ingest_into(inp, wh, qa_report=qa, today=TODAY, progress=True, keep_going=True, jobs=jobs)
        err = capsys.readouterr().err
        runs[jobs] = (res, qa.read_bytes(), _dump(wh), [ln for ln in err.splitlines() if ln.startswith("[")])
    r1, qa1, wh1, prog1 = runs[1]
    r2, qa2, wh2, prog2 = runs[2]
    assert qa1 == qa2
    assert json.loads(qa1)["summary"]["rows_read"] > 0
    assert any(p["severity"] == "error" for f in r1.qa["files"] for p in f["problems"])  # faults were read
    assert prog1 == prog2 and len(prog1) == 2  # one progress line per LA, either way
    assert r1.exit_code == r2.exit_code
    assert list(wh1) == list(wh2)
    for name in wh1:
        df1, schema1 = wh1[name]
        df2, schema2 = wh2[name]
        assert schema1 == schema2, name
        pd.testing.assert_frame_equal(df1, df2, obj=name)
    for name in r1.tables:
        pd.testing.assert_frame_equal(r1.tables[name], r2.tables[name], obj=name)
    for attr in ("rejects", "repairs", "supplied"):
        pd.testing.assert_frame_equal(getattr(r1, attr), getattr(r2, attr), obj=attr)


def test_jobs_must_be_positive(clean_dir):
    with pytest.raises(UsageError):
        ingest_folder(clean_dir, today=TODAY, jobs=0)


def test_jobs_with_one_la_per_batch(clean_dir):
    # the workers read the next batch while this one is validated: same result
    import shutil

    shutil.copytree(clean_dir / "E1", clean_dir / "E2")
    a = ingest_folder(clean_dir, today=TODAY, jobs=1)
    assert {f["la_code"] for f in a.qa["files"]} == {"E1", "E2"}
    for jobs in (1, 2):
        b = ingest_folder(clean_dir, today=TODAY, jobs=jobs, batch_bytes=1)  # one LA per batch
        assert b.qa == a.qa, jobs
        for name in a.tables:
            pd.testing.assert_frame_equal(a.tables[name], b.tables[name], obj=f"{name} (jobs={jobs})")


