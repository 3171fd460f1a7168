"""reproduce re-runs a manifest into a scratch folder and compares."""

from conftest import PERIOD

from csc_outcomes.reporting.reproduce import reproduce


def test_reproduce_tiny_run(tiny_run, tmp_path):
    res, _ = tiny_run
    report = reproduce(res.manifest_path, workdir=tmp_path / "scratch",
                       identifiers={"C0000123456"}, recompute_measures=False)
    assert report.rerun_error is None, report.summary()
    data = [c for c in report.comparisons if c.kind == "report_data"]
    assert len(data) == 2 and all(c.status == "match" for c in data), report.summary()
    assert any(c.kind == "measures" and c.status == "match" for c in report.comparisons)
    assert report.ok, report.summary()
    assert "reproduced" in report.summary()
    # the published tree was not touched by the re-run
    assert (tmp_path / "scratch" / "reports" / PERIOD / "SYN01" / "tiny.html").is_file()


def test_changed_input_is_reported(tiny_run, tmp_path):
    import json

    res, _ = tiny_run
    man = json.loads(res.manifest_path.read_text())
    man["inputs"][0]["sha256"] = "0" * 64
    man["restricted_outputs"][0]["content_sha256"] = "1" * 64
    man["la_codes"] = ["SYN01"]
    changed = tmp_path / "manifest.json"
    changed.write_text(json.dumps(man))
    report = reproduce(changed, identifiers={"C0000123456"}, recompute_measures=False)
    assert not report.ok
    assert [c for c in report.comparisons if c.kind == "input" and c.status == "differs"]
    assert [c for c in report.comparisons if c.kind == "report_data" and c.status == "differs"]
    assert "NOT reproduced" in report.summary()
