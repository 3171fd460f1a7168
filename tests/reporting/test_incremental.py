"""Incremental and resumable runs (``reporting.incremental``).

Keys: each part of what a report depends on changes its key alone. Done records: a
tampered file is not reused; ``force`` reuses nothing. Runs (the tiny notebook, one
slow test): a run killed after 1 of 2 notebooks resumes with 1 execution; a change in
one LA's measures re-runs that LA only (for a notebook that reads its own LA's rows);
a rerun with nothing changed executes nothing, renders nothing and leaves the
published bytes as they were.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import duckdb
import nbformat
import pandas as pd
import pytest

from csc_outcomes.reporting import data_quality, incremental, render_builtin, stages
from csc_outcomes.reporting import manifest as mf
from csc_outcomes.reporting.config import RunError
from csc_outcomes.reporting.identifiers import IdentifierSet
from csc_outcomes.reporting.plan import prepare
from csc_outcomes.reporting.run import run
from csc_outcomes.reporting.workspace import KILL_ENV, clear_debris
from csc_outcomes.warehouse.content import la_digests

from conftest import PERIOD, published_agrees_with_manifest, tiny_config


@pytest.fixture(scope="module")
def plan(tiny_setup, tmp_path_factory):
    """A plan of the tiny notebook for SYN01 and SYN02 (no kernel: prepare only)."""
    out = tmp_path_factory.mktemp("incremental")
    return prepare(tiny_config(tiny_setup, out, ["SYN01", "SYN02"]), "20261130T000000-aaaaaa")


def keys_of(plan) -> dict[str, str]:
    return incremental.job_keys(plan, stages.notebook_jobs(plan))


def test_keys_are_per_job_and_stable(plan):
    keys = keys_of(plan)
    assert sorted(keys) == ["SYN01/rag_tracker", "SYN01/tiny", "SYN02/rag_tracker", "SYN02/tiny"]
    assert len(set(keys.values())) == 4
    assert keys_of(plan) == keys
    # the run's own paths are not inputs: another run id (snapshot, output folders) keeps the key
    other = dataclasses.replace(plan, run_id="20261201T000000-bbbbbb",
                                measures_path=plan.measures_path.with_name("other.csv"))
    assert keys_of(other) == keys


def changed_measures(plan):
    rows = plan.measures_rows.copy()
    rows.loc[rows["la_code"] == "SYN02", "value"] += 1
    return dataclasses.replace(plan, measures_rows=rows)


CHANGES = {
    "parameters": lambda p, mp, tmp: dataclasses.replace(
        p, config=dataclasses.replace(p.config, extra_parameters={"leak": "x"})),
    "la parameters": lambda p, mp, tmp: dataclasses.replace(
        p, la_parameters={**p.la_parameters, "SYN01": {"name": "Elsewhere"}}),
    "measures (every LA's rows)": lambda p, mp, tmp: changed_measures(p),
    "suppression threshold": lambda p, mp, tmp: dataclasses.replace(
        p, defaults={**p.defaults, "suppression_threshold": 10}),
    "renderer": lambda p, mp, tmp: dataclasses.replace(p, renderer="quarto"),
    "renderer version": lambda p, mp, tmp: mp.setattr(incremental, "renderer_version",
                                                      lambda r: "other 1.0"),
    "code": lambda p, mp, tmp: mp.setattr(mf, "tree_hash", lambda folders: "other"),
    "packages": lambda p, mp, tmp: mp.setattr(mf, "package_versions", lambda: {"pandas": "0"}),
    "published figures": lambda p, mp, tmp: mp.setattr(incremental.published_cache,
                                                       "content_key", lambda folder: "other"),
    "pooled models": lambda p, mp, tmp: mp.setattr(incremental, "pooled_keys",
                                                   lambda plan, nb, code: {"m": "other"}),
    "warehouse of the LA": lambda p, mp, tmp: mp.setattr(
        incremental, "memo_digest",
        lambda root, path, kind, compute, *said: {"SYN01": "x", "SYN02": "y"} if kind == "la-digests"
        else None),
}


@pytest.mark.parametrize("part", sorted(CHANGES))
def test_each_key_part_alone_changes_the_key(plan, part, monkeypatch, tmp_path):
    before = keys_of(plan)
    changed = CHANGES[part](plan, monkeypatch, tmp_path) or plan
    after = keys_of(changed)
    assert after["SYN01/tiny"] != before["SYN01/tiny"] or after["SYN02/tiny"] != before["SYN02/tiny"]


def test_file_inputs_change_the_key(plan, tmp_path):
    """The notebook's bytes, the LA's context file, the QA report (memoised by identity)."""
    setup = tmp_path / "setup"
    shutil.copytree(plan.notebooks_dir.parent, setup,
                    ignore=shutil.ignore_patterns("input", "*.duckdb*"))
    moved = dataclasses.replace(plan, notebooks=(setup / "notebooks" / "tiny.ipynb",),
                                parameters_dir=setup / "parameters")
    base = keys_of(moved)
    assert base == keys_of(plan), "the same bytes elsewhere: the same key"
    (setup / "notebooks" / "tiny.ipynb").write_text(
        (setup / "notebooks" / "tiny.ipynb").read_text().replace("Context", "Setting"))
    assert keys_of(moved) != base
    (setup / "notebooks" / "tiny.ipynb").write_bytes(plan.notebooks[0].read_bytes())
    context = setup / "parameters" / "context" / "SYN02" / f"{PERIOD}.md"
    context.parent.mkdir(parents=True)
    context.write_text("Two new teams started in January.\n")
    keys = keys_of(moved)
    assert keys["SYN02/tiny"] != base["SYN02/tiny"] and keys["SYN01/tiny"] == base["SYN01/tiny"]

    other, _ = warehouse_elsewhere(plan, tmp_path)
    assert keys_of(other) == keys_of(plan), "the same warehouse and QA report elsewhere: the same keys"


def warehouse_elsewhere(plan, tmp_path):
    """``plan`` reading a copy of its warehouse and QA report in another folder, and the
    copy's QA report."""
    copy = tmp_path / "w" / "warehouse.duckdb"
    copy.parent.mkdir()
    shutil.copy2(plan.config.warehouse, copy)
    qa = data_quality.qa_report_path(copy)
    shutil.copy2(data_quality.qa_report_path(Path(plan.config.warehouse).resolve()), qa)
    return dataclasses.replace(plan, config=dataclasses.replace(plan.config, warehouse=copy)), qa


def rewrite_qa(qa: Path, change) -> None:
    """Change the QA report's JSON with ``change(report)``; a new file, as an ingest writes."""
    report = json.loads(qa.read_text())
    change(report)
    qa.unlink()
    qa.write_text(json.dumps(report, indent=1))


def test_the_qa_report_keys_what_the_reports_read_of_it_only(plan, tmp_path):
    """Attacker (a stranger's review): the QA report's bytes were in every job's key, so
    a re-ingest of the same returns on another day (the report's ``today``), or of one
    LA's files, ran every LA's reports again. Now an LA's key takes its own counts and
    whether the report is the warehouse's, which is what its reports show."""
    other, qa = warehouse_elsewhere(plan, tmp_path)
    first = keys_of(other)
    qa.write_bytes(qa.read_bytes() + b" \n")
    rewrite_qa(qa, lambda r: r.update(today="2031-01-01"))
    assert keys_of(other) == first, "another day, the same returns: nothing to run"

    def one_more_rejected(report):
        row = next(f for f in report["files"] if f.get("la_code") == "SYN02")
        row["rows_rejected"] = int(row.get("rows_rejected") or 0) + 1
    rewrite_qa(qa, one_more_rejected)
    keys = keys_of(other)
    assert keys["SYN02/tiny"] != first["SYN02/tiny"] and keys["SYN01/tiny"] == first["SYN01/tiny"]

    rewrite_qa(qa, lambda r: r.update(input_hash="0" * 64))  # another ingest's: stale
    stale = keys_of(other)
    assert stale["SYN01/tiny"] != keys["SYN01/tiny"] and stale["SYN02/tiny"] != keys["SYN02/tiny"]
    qa.unlink()
    qa.write_text("{not json")
    assert keys_of(other)["SYN01/tiny"] not in {first["SYN01/tiny"], stale["SYN01/tiny"]}


def test_la_digests_change_with_that_la_only_and_are_memoised(plan, tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy2(plan.config.warehouse, warehouse)
    before = la_digests(warehouse)
    assert sorted(before) == ["SYN01", "SYN02"]
    with duckdb.connect(str(warehouse)) as con:
        con.execute("UPDATE episodes SET PLACE = 'U1' WHERE rowid = (SELECT min(rowid) FROM "
                    "episodes WHERE la_code = 'SYN02' AND PLACE <> 'U1')")
    after = la_digests(warehouse)
    assert after["SYN01"] == before["SYN01"] and after["SYN02"] != before["SYN02"]

    calls = []

    def compute(path):
        calls.append(path)
        return la_digests(path)

    said = []
    for _ in range(2):
        assert incremental.memo_digest(tmp_path, warehouse, "la-digests", compute, said.append,
                                       "each LA's digest") == after
    assert len(calls) == 1, "the second look-up is the memo's"
    assert len(said) == 2 and said[0].startswith("each LA's digest: working it out for ")
    assert re.fullmatch(r"each LA's digest: done in \d+\.\d s", said[1]), "said once, when made"
    os.utime(warehouse, ns=(1, 1))  # another file identity: computed again
    incremental.memo_digest(tmp_path, warehouse, "la-digests", compute)
    assert len(calls) == 2


def test_the_warehouse_content_hash_is_remembered_by_file_identity(tiny_setup, tmp_path,
                                                                   monkeypatch):
    """A rerun's plan does not hash the whole warehouse again (a national one: many seconds)."""
    calls = []
    real = mf.wh.content_hash
    monkeypatch.setattr(mf.wh, "content_hash", lambda path: calls.append(path) or real(path))
    config = tiny_config(tiny_setup, tmp_path, ["SYN01"])
    first = prepare(config).inputs["warehouse"]["content_sha256"]
    assert prepare(config).inputs["warehouse"]["content_sha256"] == first
    assert len(calls) == 1
    assert (tmp_path / "restricted").stat().st_mode & 0o077 == 0, "created owner-only"


def test_a_tampered_or_forced_record_is_not_reused(plan, tmp_path):
    job = stages.notebook_jobs(plan)[0]
    executed, html = tmp_path / "tiny.ipynb", tmp_path / "tiny.html"
    executed.write_text("{}")
    html.write_text("<p>report</p>")
    folder = incremental.done_dir(plan, job.la_code, job.name)
    incremental.save(plan, folder, "k1", {incremental.EXECUTED: executed, "tiny.html": html})
    assert json.loads((folder / incremental.RECORD).read_text())["key"] == "k1"
    assert incremental.reuse_of(plan, job, "k1") == incremental.REUSED
    assert incremental.reuse_of(plan, job, "k2") == incremental.RAN, "another key"
    forced = dataclasses.replace(plan, config=dataclasses.replace(plan.config, force=True))
    assert incremental.reuse_of(forced, job, "k1") == incremental.RAN
    (folder / "tiny.html").write_text("<p>changed</p>")
    assert incremental.reuse_of(plan, job, "k1") == incremental.RENDERED, "html tampered"
    (folder / incremental.EXECUTED).write_text('{"cells": []}')
    assert incremental.reuse_of(plan, job, "k1") == incremental.RAN, "notebook tampered"
    assert not clear_debris(plan.reports_dir, plan.restricted_dir) or folder.is_dir()
    assert (folder / incremental.RECORD).is_file(), "done records are not debris"


def test_the_days_reused_reports_were_made_are_those_recorded_of_this_runs_reuse(plan, tmp_path):
    """Attacker (a second review): the days allowed were every day between a record's
    first and last, of every record, stale ones included: a record saved on two days far
    apart let any child's date of birth between them through, in every report."""
    job = stages.notebook_jobs(plan)[0]
    jid = incremental.job_id(job)
    html = tmp_path / "tiny.html"
    html.write_text("<p>report</p>")
    folder = incremental.done_dir(plan, job.la_code, job.name)
    keyed = dataclasses.replace(plan, job_keys={jid: "k1"})
    incremental.save(keyed, folder, "k1", {"tiny.html": html})
    record = json.loads((folder / incremental.RECORD).read_text())
    record["made"] = ["2026-01-10", "2026-12-01"]
    (folder / incremental.RECORD).write_text(json.dumps(record))
    days = incremental.made_days(keyed, {jid: incremental.REUSED})
    assert days == {dt.date(2026, 1, 10), dt.date(2026, 12, 1)}, "the days recorded, none between"
    assert incremental.made_days(keyed, {jid: incremental.RENDERED}) == set(), "rendered today"
    stale = dataclasses.replace(plan, job_keys={jid: "k2"})
    assert incremental.made_days(stale, {jid: incremental.REUSED}) == set(), "another key's"


DRIVER = """
import json, sys
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from conftest import tiny_config
from csc_outcomes.reporting.run import run
run(tiny_config(Path(sys.argv[2]), Path(sys.argv[3]), ["SYN01", "SYN02"],
                measures_path=Path(sys.argv[4]), notebooks_dir=Path(sys.argv[5]), jobs=1))
"""


class Counter:
    """``stages.run_notebooks`` and ``stages.write_tracker`` counting what they are given."""

    def __init__(self, monkeypatch):
        self.jobs: list[str] = []
        self.trackers: list[str] = []
        run_notebooks, write_tracker = stages.run_notebooks, stages.write_tracker

        def counted(jobs, **kw):
            self.jobs += [incremental.job_id(j) for j in jobs]
            return run_notebooks(jobs, **kw)

        def tracker(warehouse, la, *args):
            self.trackers.append(la)
            return write_tracker(warehouse, la, *args)

        monkeypatch.setattr(stages, "run_notebooks", counted)
        monkeypatch.setattr(stages, "write_tracker", tracker)


def published_bytes(period: Path) -> dict[str, bytes]:
    return {p.relative_to(period).as_posix(): p.read_bytes() for p in period.rglob("*.html")}


@pytest.mark.slow
def test_killed_run_resumes_and_reruns_redo_only_what_changed(tiny_setup, tmp_path, monkeypatch):
    # a notebook that declares it reads its own LA's measures rows only
    nb_dir = tmp_path / "notebooks"
    nb_dir.mkdir()
    nb = nbformat.read(str(tiny_setup / "notebooks" / "tiny.ipynb"), as_version=4)
    nb.metadata["csc_outcomes"] = {"measures": "own"}
    nbformat.write(nb, str(nb_dir / "tiny.ipynb"))
    measures = tmp_path / "measures.csv"
    shutil.copy2(tiny_setup / "data" / "measures.csv", measures)
    out = tmp_path / "out"
    config = tiny_config(tiny_setup, out, ["SYN01", "SYN02"], measures_path=measures,
                         notebooks_dir=nb_dir, jobs=1)

    proc = subprocess.run(
        [sys.executable, "-c", DRIVER, str(Path(__file__).parent), str(tiny_setup), str(out),
         str(measures), str(nb_dir)], env={**os.environ, KILL_ENV: "executed:1"}, check=False)
    assert proc.returncode == -signal.SIGKILL
    assert not (out / "reports" / PERIOD).exists()

    counter = Counter(monkeypatch)
    result = run(config)
    assert counter.jobs == ["SYN02/tiny"], "resumed: 1 of 2 notebooks ran before the kill"
    assert counter.trackers == [], "the killed run's trackers are kept"
    assert result.reuse == {"SYN01/tiny": incremental.RENDERED, "SYN02/tiny": incremental.RAN}
    period = out / "reports" / PERIOD
    man = json.loads((period / "manifest.json").read_text())
    assert {r["la_code"]: r["reuse"] for r in man["runs"]} == {"SYN01": "rendered", "SYN02": "ran"}
    assert {f"{r['la_code']}/{r['notebook']}": r["key"] for r in man["runs"]} == {
        k: v for k, v in result.keys.items() if k.endswith("/tiny")}
    assert published_agrees_with_manifest(period)
    first = published_bytes(period)

    frame = pd.read_csv(measures, dtype={"la_code": str})
    frame.loc[frame["la_code"] == "SYN02", "value"] += 1
    frame.to_csv(measures, index=False)
    counter.jobs.clear()
    result = run(config)
    assert counter.jobs == ["SYN02/tiny"], "only the LA whose rows changed"
    assert counter.trackers == [], "the warehouse did not change"
    assert result.reuse == {"SYN01/tiny": incremental.REUSED, "SYN02/tiny": incremental.RAN}
    second = published_bytes(period)
    assert second["SYN01/tiny.html"] == first["SYN01/tiny.html"]
    assert second["SYN02/tiny.html"] != first["SYN02/tiny.html"]
    published = json.loads((period / "manifest.json").read_text())["run_id"]

    counter.jobs.clear()
    result = run(config)
    assert counter.jobs == [] and result.ok
    assert result.reuse == {"SYN01/tiny": incremental.REUSED, "SYN02/tiny": incremental.REUSED}
    assert published_bytes(period) == second
    assert json.loads((period / "manifest.json").read_text())["run_id"] == published, "not republished"


@pytest.mark.slow
def test_a_report_reused_from_a_run_on_a_childs_birthday_is_not_taken_for_a_leak(
        tiny_setup, tmp_path, monkeypatch):
    """Attacker (a stranger's review): a report says the day it was produced. Reused by a
    later run, that day is no longer one of the run's own, and when a child was born on it
    the leak scan flagged the footer as a date of birth: the run failed, and only
    ``--force`` (running everything again) got past it. The done record now keeps the
    days its files were made on, and the scan allows them as it allows the run's own."""
    birthday = dt.date(2025, 6, 29)
    ids = IdentifierSet.build(ids=[("C0000123456", "LAchildID")],
                              dates=[(birthday, "PersonBirthDate")])
    config = tiny_config(tiny_setup, tmp_path, ["SYN01", "SYN02"], identifiers=ids)
    # the first run, as if on the child's birthday
    monkeypatch.setattr(incremental, "made_today", lambda: {birthday.isoformat()})
    run_days = stages.report_dates
    monkeypatch.setattr(stages, "report_dates", lambda *a, **k: run_days(*a, **k) | {birthday})
    monkeypatch.setattr(render_builtin, "produced_by",
                        lambda generated=None: "Produced by csc-outcomes on 29 June 2025.")
    assert run(config).ok
    page = tmp_path / "reports" / PERIOD / "SYN02" / "tiny.html"
    assert "on 29 June 2025." in page.read_text()
    monkeypatch.undo()

    page.unlink()  # so that the rerun is not "nothing changed" and scans again
    again = run(config)
    assert again.ok and not again.leaks
    assert set(again.reuse.values()) == {incremental.REUSED}
    assert "on 29 June 2025." in page.read_text()

    for record in (tmp_path / "restricted").rglob(incremental.RECORD):  # as kept before
        kept = json.loads(record.read_text())
        kept.pop("made", None)
        record.write_text(json.dumps(kept))
    page.unlink()
    with pytest.raises(RunError, match=r"(?s)date_of_birth.*kept by an earlier run"):
        run(config)
