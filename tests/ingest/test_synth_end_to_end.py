"""End to end on the synthetic generator: clean data ingests with zero rejects; injected
faults are reported at their file and line."""

from __future__ import annotations

import datetime as dt
import json

import pytest

synth = pytest.importorskip("csc_outcomes.synth")

from csc_outcomes.ingest.pipeline import ingest_folder

TODAY = dt.date(2026, 6, 1)
#: Fault kinds that are problems to report; the others (BOM, CRLF, blanks, case, encoding)
#: are what the readers cope with silently.
REPORTED = {"impossible_date": "date_format", "dec_before_decom": "date_order",
            "duplicate_row": "duplicate_key", "extra_column": "extra_columns"}


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    out = tmp_path_factory.mktemp("synth") / "clean"
    synth.generate(out, n_las=1, seed=11, scale=0.5, progress=False)
    return ingest_folder(out, today=TODAY)


@pytest.fixture(scope="module")
def faulty(tmp_path_factory):
    out = tmp_path_factory.mktemp("synth") / "faults"
    synth.generate(out, n_las=1, seed=12, scale=0.5, faults=True, progress=False)
    return ingest_folder(out, today=TODAY), json.loads((out / "synth_truth.json").read_text())["faults"]


def test_synthetic_ingests_with_zero_rejects(clean):
    assert clean.exit_code == 0
    assert clean.rejects.empty, clean.rejects.head().to_dict("records")
    for f in clean.qa["files"]:
        assert f["rows_read"] == f["rows_accepted"] + f["rows_rejected"]
    assert len(clean.tables["episodes"]) > 0 and len(clean.tables["cin_episodes"]) > 0


def test_injected_faults_reported(faulty):
    result, faults = faulty
    assert result.exit_code == 0
    found = {(f["path"], p["line"], p["rule"]) for f in result.qa["files"] for p in f["problems"]}
    for fault in faults:
        rule = REPORTED.get(fault["kind"])
        if rule is None:
            continue
        line = 1 if fault["kind"] == "extra_column" else fault["line"]
        assert (fault["file"], line, rule) in found, fault
    for f in result.qa["files"]:
        assert f["rows_read"] == f["rows_accepted"] + f["rows_rejected"]
