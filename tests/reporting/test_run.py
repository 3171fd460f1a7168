"""The run machinery on a tiny throwaway notebook: papermill, render, leak scan, publish."""

from __future__ import annotations

import json
import sys

import pytest

from csc_outcomes.reporting import manifest as mf
from csc_outcomes.reporting.config import RunConfig, RunError
from csc_outcomes.reporting.papermill_runs import KERNEL_NAME, ensure_kernel
from csc_outcomes.reporting.run import run

from conftest import PERIOD, copy_tree, published_agrees_with_manifest, tiny_config


def test_kernel_runs_this_interpreter():
    spec = ensure_kernel(KERNEL_NAME)
    assert spec["name"] == "python3"
    assert spec["python"] == sys.executable


def test_run_publishes_reports_manifest_index(tiny_run):
    res, out = tiny_run
    assert res.ok
    reports = out / "reports"
    for la in ("SYN01", "SYN02"):
        for fmt in ("html", "pdf"):
            assert (reports / PERIOD / la / f"tiny.{fmt}").is_file()
        # executed notebooks only in the restricted tree
        assert (out / "restricted" / PERIOD / la / "tiny.ipynb").is_file()
    assert not list(reports.rglob("*.ipynb")), "executed notebooks must never be published"
    assert (reports / "index.html").is_file()
    assert (reports / PERIOD / "manifest.json").is_file()
    assert not list((out / "restricted" / PERIOD).glob(".run-*")), "staging left behind"
    assert not list(reports.glob(".publish-*")), "publishing folder left behind"
    for la in ("SYN01", "SYN02"):  # child-level: owner-only
        assert (out / "restricted" / PERIOD / la).stat().st_mode & 0o777 == 0o700
        assert (out / "restricted" / PERIOD / la / "tiny.ipynb").stat().st_mode & 0o777 == 0o600


def test_manifest_contents_and_hashes(tiny_run, tiny_setup):
    res, out = tiny_run
    man = json.loads(res.manifest_path.read_text())
    assert man["status"] == "ok" and man["period_end"] == PERIOD
    assert man["la_codes"] == ["SYN01", "SYN02"] and man["formats"] == ["html", "pdf"]
    # inputs: notebook and parameter files, with their hashes, relative to the project
    # (the reports folder's parent); raw files and warehouse: test_published_manifest.py
    for rec in man["inputs"]["notebooks"] + man["inputs"]["parameters"]:
        assert rec["sha256"] == mf.sha256_file(out / rec["path"])
    assert man["measures"]["period_rows_sha256"]
    # parameters of each notebook run
    runs = {(r["la_code"], r["notebook"]): r for r in man["runs"]}
    assert runs[("SYN01", "tiny")]["parameters"]["la_code"] == "SYN01"
    assert runs[("SYN01", "tiny")]["parameters"]["la_name"] == "Synthetia"
    # versions and code version
    assert man["packages"]["papermill"] and man["packages"]["pandas"] and man["packages"]["python"]
    cv = man["code_version"]
    assert cv["package_version"] and len(cv["tree_hash"]) == 64
    assert "commit" in cv
    # every published output with a matching hash (manifests themselves excluded)
    published = {p.relative_to(out / "reports").as_posix()
                 for p in (out / "reports" / PERIOD).rglob("*") if p.is_file()}
    manifests = {f"{PERIOD}/manifest.json", f"{PERIOD}/runs/{man['run_id']}.json"}
    listed = {o["path"] for o in man["outputs"]}
    assert listed == published - manifests
    assert {o["path"] for o in man["published"]} == listed
    assert (out / "reports" / PERIOD / "runs" / f"{man['run_id']}.json").is_file()
    assert mf.verify_outputs(man, out / "reports")["changed"] == []
    assert mf.verify_outputs(man, out / "reports")["missing"] == []
    # restricted outputs carry a content hash for reproduce
    for rec in man["restricted_outputs"]:
        p = out / "restricted" / rec["path"]
        assert rec["content_sha256"] == mf.notebook_content_hash(p)
    assert man["timings"]["notebooks_s"] > 0 and man["timings"]["total_s"] > 0


def test_executed_notebook_gets_subtitle(tiny_run):
    from csc_outcomes.reporting.frontmatter import read_front_matter

    _, out = tiny_run
    front = read_front_matter(out / "restricted" / PERIOD / "SYN01" / "tiny.ipynb")
    assert front["title"] == "Tiny report"
    assert front["subtitle"] == "Synthetia (SYN01), year ending 31 March 2026"


def _run(tiny_setup, tmp_path, la_codes, **kw):
    return run(tiny_config(tiny_setup, tmp_path, la_codes, **kw))


def test_failing_notebook_fails_run_naming_notebook_and_la(tiny_setup, tmp_path):
    with pytest.raises(RunError) as info:
        _run(tiny_setup, tmp_path, ["SYN02"], extra_parameters={"fail": True})
    msg = str(info.value)
    assert "notebook 'tiny' for LA SYN02" in msg
    assert "ValueError: deliberate failure for SYN02" in msg
    assert "raise ValueError" in msg  # the error cell's source
    assert not (tmp_path / "reports").exists() or not any((tmp_path / "reports").rglob("*.*"))
    failed = list((tmp_path / "restricted" / PERIOD / "runs").glob("*-failed.json"))
    assert len(failed) == 1 and json.loads(failed[0].read_text())["status"] == "failed"


def test_an_la_whose_notebook_fails_does_not_stop_the_others(tiny_setup, tiny_run, tmp_path):
    _, earlier = tiny_run
    out = copy_tree(earlier, tmp_path / "out")  # SYN01 and SYN02 published, html and pdf
    before = json.loads((out / "reports" / PERIOD / "manifest.json").read_text())
    with pytest.raises(RunError) as info:
        _run(tiny_setup, out, ["SYN01", "SYN02"], extra_parameters={"fail": "SYN02"})
    msg = str(info.value)
    assert "1 LA(s) not published (SYN02); the others (SYN01) were" in msg
    assert "ValueError: deliberate failure for SYN02" in msg
    period = out / "reports" / PERIOD
    man = json.loads((period / "manifest.json").read_text())
    assert man["status"] == "partial"
    # cells: front matter 0, parameters 1, papermill's injected parameters 2, markdown 3
    assert man["failed"] == [{"la_code": "SYN02", "notebook": "tiny", "stage": "notebook",
                              "cell": 4, "error": "ValueError: deliberate failure for SYN02"}]
    runs = {r["path"]: r["run_id"] for r in man["published"]}
    # SYN01 republished (html only: its earlier pdf goes with the report it replaces);
    # SYN02 keeps what the earlier run published, still vouched for
    assert runs == {f"{PERIOD}/SYN01/tiny.html": man["run_id"],
                    f"{PERIOD}/SYN02/tiny.html": before["run_id"],
                    f"{PERIOD}/SYN02/tiny.pdf": before["run_id"],
                    # the Excel workbooks (workbook.py): the period's is rewritten each run
                    f"{PERIOD}/workbook.xlsx": man["run_id"],
                    f"{PERIOD}/SYN01/workbook.xlsx": man["run_id"],
                    f"{PERIOD}/SYN02/workbook.xlsx": before["run_id"]}
    assert published_agrees_with_manifest(period)
    index = (out / "reports" / "index.html").read_text()
    assert "Run status: partial" in index
    assert "SYN02" in index and "cell 4" in index and "deliberate failure for SYN02" in index


def test_leak_scan_hit_publishes_nothing(tiny_setup, tmp_path):
    with pytest.raises(RunError, match="leak scan") as info:
        _run(tiny_setup, tmp_path, ["SYN01"], extra_parameters={"leak": "child C0000123456"})
    assert "known_identifier" in str(info.value)
    assert "C0000123456" not in str(info.value), "the message must mask the identifier"
    reports = tmp_path / "reports"
    assert not reports.exists() or not [p for p in reports.rglob("*") if p.is_file()]
    quarantine = list((tmp_path / "restricted" / PERIOD).glob("quarantine-*"))
    assert quarantine and list(quarantine[0].rglob("tiny.html"))
    assert not list((tmp_path / "restricted" / PERIOD).glob(".run-*"))


def test_bad_options_fail_before_running(tiny_setup, tmp_path):
    with pytest.raises(RunError, match="unknown format"):
        _run(tiny_setup, tmp_path, ["SYN01"], formats=("docx",))
    with pytest.raises(RunError, match="notebook 'nope' not found"):
        _run(tiny_setup, tmp_path, ["SYN01"], notebooks=("nope",))
    with pytest.raises(RunError, match="restricted folder must not be inside"):
        run(RunConfig(PERIOD, la_codes=("SYN01",), warehouse=tmp_path / "w",
                      measures_path=tmp_path / "m", reports_dir=tmp_path / "r",
                      restricted_dir=tmp_path / "r" / "x"))
    with pytest.raises(RunError, match="is not a date"):
        _run(tiny_setup, tmp_path, ["SYN01"], period_end="31/03/2026")
    assert not (tmp_path / "restricted").exists(), "nothing may run before the checks"


def test_papermill_records_error_cell(tiny_setup, tmp_path):
    from csc_outcomes.reporting.papermill_runs import NotebookJob, error_cells, execute_job

    job = NotebookJob(notebook=tiny_setup / "notebooks" / "tiny.ipynb", la_code="SYN09",
                      period_end=PERIOD, output_path=tmp_path / "x" / "tiny.ipynb",
                      parameters={"la_code": "SYN09", "fail": True,
                                  "measures_path": str(tiny_setup / "data" / "measures.csv")})
    # same kernel start cost as a run; keep it to this one direct call
    res = execute_job(job)
    assert not res.ok and res.error.startswith("ValueError")
    assert res.output_path and error_cells(res.output_path)[0]["error"].startswith("ValueError")
