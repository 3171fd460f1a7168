"""Files validated together (a batch of LAs, one validation run per table and year) give
exactly what validating each file alone gives: the same tables, rejects, repairs and QA."""

from __future__ import annotations

import shutil

import pandas as pd

from csc_outcomes.ingest.pipeline import ingest_folder

from .conftest import TODAY, write


def test_batched_equals_one_la_at_a_time(clean_dir):
    # a second LA with problems of every kind: bad values, duplicate keys, overlaps,
    # a row missing from the header and an unmatched feed row
    shutil.copytree(clean_dir / "E1", clean_dir / "E2")
    ep = clean_dir / "E2/ssda903/2025/episodes.csv"
    lines = ep.read_text().splitlines()
    lines += [lines[1], lines[1].replace(lines[1].split(",")[0], "NOBODY", 1), "C1,31/02/2025" + "," * 11]
    write(ep, "\n".join(lines) + "\n")
    att = clean_dir / "E2/school_census/attendance.csv"
    a = att.read_text().splitlines()
    write(att, "\n".join([*a, "Z999999999999" + a[1][a[1].index(","):]]) + "\n")
    batched = ingest_folder(clean_dir, today=TODAY)
    alone = ingest_folder(clean_dir, today=TODAY, batch_bytes=1)  # one LA per batch
    assert batched.qa["files"] == alone.qa["files"]
    assert batched.qa["summary"] == alone.qa["summary"]
    assert any(p["rule"] == "date_format" for f in batched.qa["files"] for p in f["problems"])
    for name in batched.tables:
        pd.testing.assert_frame_equal(batched.tables[name], alone.tables[name], obj=name)
    for attr in ("rejects", "repairs", "supplied"):
        pd.testing.assert_frame_equal(getattr(batched, attr), getattr(alone, attr), obj=attr)
    assert set(batched.timings) >= {"read", "validate", "cross_checks", "combine", "report"}
