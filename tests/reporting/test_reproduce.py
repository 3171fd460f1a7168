"""reproduce proves something (finding 8): a changed raw byte, a tampered published page,
a recomputed measure that differs, a different code version or package set are each
named; re-ingesting identical inputs reproduces.

One small project is published once (module fixture); each test works on a copy of it.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from csc_outcomes.cli import main
from csc_outcomes.measures import table
from csc_outcomes.measures.compute import compute_measures
from csc_outcomes.measures.inputs import MeasureInputs
from csc_outcomes.reporting import manifest as mf
from csc_outcomes.reporting import reproduce as rp
from csc_outcomes.reporting.config import RunConfig
from csc_outcomes.reporting.run import run
from csc_outcomes.warehouse import ingest_into

from conftest import PERIOD, make_notebook, make_warehouse

PLAIN = [
    ("markdown", "## Context\n\nA plain report."),
    ("code", ("import pandas as pd\nm = pd.read_csv(measures_path, dtype={'la_code': str})\n"
              "mine = m[(m.la_code == la_code) & (m.period_end == period_end)]\n"
              "print(f'{len(mine)} measures for {la_code}')")),
]


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> Path:
    """A project (input/, data/, notebooks/, parameters/) with one run published."""
    root = tmp_path_factory.mktemp("project")
    warehouse = make_warehouse(root)
    measures = compute_measures(MeasureInputs.from_warehouse(warehouse, measures_only=True),
                                ["2025-03-31", PERIOD])
    table.write(measures, root / "data" / "measures.csv")
    make_notebook(root / "notebooks", "plain", PLAIN)
    (root / "parameters").mkdir()
    (root / "parameters" / "defaults.yaml").write_text("notebooks: [plain]\n")
    run(RunConfig(PERIOD, warehouse=warehouse, measures_path=root / "data" / "measures.csv",
                  la_codes=("SYN01",), reports_dir=root / "reports",
                  restricted_dir=root / "restricted", notebooks_dir=root / "notebooks",
                  parameters_dir=root / "parameters", renderer="builtin", progress=False))
    return root


@pytest.fixture
def project(published, tmp_path) -> Path:
    """A copy of the published project, to change."""
    return Path(shutil.copytree(published, tmp_path / "project", symlinks=True))


def manifest_of(project: Path) -> Path:
    return project / "reports" / PERIOD / "manifest.json"


def check(project: Path, **options) -> rp.ReproduceReport:
    """reproduce without re-running the notebooks (that is tested once, below)."""
    return rp.reproduce(manifest_of(project), input_dir=project / "input", rerun=False,
                        **options)


def failing(report: rp.ReproduceReport, kind: str) -> list[rp.Comparison]:
    return [c for c in report.failures() if c.kind == kind]


def command(manifest: Path, project: Path, *options: str) -> tuple[int, dict]:
    """``csc-outcomes reproduce --json`` without re-run or recomputation: (exit, report)."""
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["reproduce", str(manifest), "--input", str(project / "input"),
                     "--no-rerun", "--no-recompute", "--json", *options])
    return code, json.loads(out.getvalue())


def named(report: dict, kind: str) -> list[tuple[str, str]]:
    """(item, status) of what did not match, of one kind."""
    return [(c["item"], c["status"]) for c in report["comparisons"]
            if c["kind"] == kind and c["status"] != "match"]


def test_untouched_project_reproduces(project):
    report = check(project)
    assert report.ok, report.summary()
    statuses = {(c.kind, c.status) for c in report.comparisons}
    for kind in ("input", "warehouse", "measures", "published"):
        assert (kind, "match") in statuses, report.summary()
    assert len([c for c in report.comparisons if c.kind == "input"]) > 20  # every raw file


def test_a_changed_raw_byte_is_named(project):
    """Finding 8: a changed byte in a raw input file was 'reproduced'."""
    raw = project / "input" / "SYN01" / "ssda903" / "2026" / "episodes.csv"
    data = bytearray(raw.read_bytes())
    data[-2] = ord("9") if data[-2] != ord("9") else ord("8")
    raw.write_bytes(bytes(data))
    code, report = command(manifest_of(project), project)
    assert code == 1 and not report["ok"]
    assert named(report, "input") == [("SYN01/ssda903/2026/episodes.csv", "differs")]


def test_an_added_or_missing_raw_file_is_named(project):
    (project / "input" / "SYN02" / "ssda903" / "2026" / "reviews.csv").unlink()
    (project / "input" / "SYN01" / "ssda903" / "2026" / "extra.csv").write_text("CHILD\n1\n")
    (project / "input" / "SYN01" / "README.txt").write_text("notes (ingest reads no .txt)")
    found = {(c.item, c.status) for c in failing(check(project, recompute_measures=False),
                                                 "input")}
    assert found == {("SYN02/ssda903/2026/reviews.csv", "missing"),
                     ("SYN01/ssda903/2026/extra.csv", "added")}


def test_a_changed_parameter_file_is_named(project):
    (project / "parameters" / "defaults.yaml").write_text("notebooks: [plain]\njobs: 1\n")
    code, report = command(manifest_of(project), project)
    assert code == 1 and named(report, "input") == [("parameters/defaults.yaml", "differs")]


def test_a_tampered_published_page_is_named(project):
    """Finding 8: a tampered published HTML was 'reproduced'."""
    page = project / "reports" / PERIOD / "SYN01" / "plain.html"
    page.write_text(page.read_text().replace("A plain report", "A tampered report"))
    code, report = command(manifest_of(project), project)
    assert code == 1
    assert named(report, "published") == [(f"{PERIOD}/SYN01/plain.html", "differs")]


def test_a_recomputed_measure_that_differs_names_la_measure_period_and_values(project,
                                                                               monkeypatch):
    """Finding 8: the measures were compared by one hash, if at all. A measure whose
    computation changed now names the LA, measure, period and both values."""
    recorded = table.read(project / "restricted" / PERIOD / "runs" /
                          next(p.name for p in (project / "restricted" / PERIOD / "runs")
                               .glob("*-measures.csv")))
    row = recorded[(recorded["la_code"] == "SYN01") & (recorded["measure_id"] == "referrals")
                   & (recorded["period_end"] == PERIOD)].iloc[0]
    real = rp.compute_measures

    def changed(inputs, periods):
        out = real(inputs, periods)
        hit = ((out["la_code"] == "SYN01") & (out["measure_id"] == "referrals")
               & (out["period_end"] == PERIOD))
        out.loc[hit, ["numerator", "value"]] += 1
        return out

    monkeypatch.setattr(rp, "compute_measures", changed)
    report = check(project)
    lines = [c.line() for c in failing(report, "measures")]
    before, after = int(row["numerator"]), int(row["numerator"]) + 1
    assert lines == [
        f"    DIFFERS: SYN01 referrals {PERIOD} (numerator: recorded {before}, recomputed {after})",
        f"    DIFFERS: SYN01 referrals {PERIOD} (value: recorded {before}, recomputed {after})"]


def test_code_and_package_differences_fail_only_when_strict(project, capsys):
    """Finding 8: a different code version or package set was 'reproduced' silently."""
    man = json.loads(manifest_of(project).read_text())
    man["code_version"]["commit"] = "0" * 40
    man["packages"]["pandas"] = "0.0.1"
    other = project / "reports" / PERIOD / "runs" / "other-code.json"
    other.write_text(json.dumps(man))
    code, report = command(other, project)
    assert code == 0 and report["ok"]
    assert ("commit", "differs") in named(report, "code")
    assert named(report, "packages") == [("pandas", "differs")]
    assert command(other, project, "--strict")[0] == 1
    assert main(["reproduce", str(other), "--input", str(project / "input"), "--no-rerun",
                 "--no-recompute"]) == 0
    out = capsys.readouterr().out
    assert "DIFFERS: pandas (recorded 0.0.1, now" in out and "fails only with --strict" in out


def test_reingesting_identical_inputs_reproduces(project):
    """Finding 8: re-ingesting identical inputs gave a false 'not reproduced'."""
    warehouse = project / "data" / "warehouse.duckdb"
    before = mf.sha256_file(warehouse)
    ingest_into(project / "input", warehouse, progress=False, jobs=1)
    assert mf.sha256_file(warehouse) != before  # a new file (timestamps), the same content
    report = check(project)
    assert report.ok, report.summary()


def test_different_data_in_the_warehouse_is_named(project):
    shutil.rmtree(project / "input" / "SYN02")
    ingest_into(project / "input", project / "data" / "warehouse.duckdb", progress=False, jobs=1)
    report = check(project, recompute_measures=False)
    assert [c.kind for c in failing(report, "warehouse")] == ["warehouse"]


def test_a_later_period_added_to_the_measures_table_changes_nothing_recorded(project):
    """Finding 8: measures for every period shared one appended file, so a later run
    changed an earlier run's recorded input."""
    shared = project / "data" / "measures.csv"
    rows = table.read(shared)
    later = rows[rows["period_end"] == PERIOD].assign(period_end=pd.Timestamp("2027-03-31"))
    table.write(pd.concat([rows, later]), shared)
    assert check(project, recompute_measures=False).ok


def test_an_old_manifest_is_refused(project):
    man = json.loads(manifest_of(project).read_text())
    man["manifest_version"] = 1
    old = project / "reports" / PERIOD / "runs" / "old.json"
    old.write_text(json.dumps(man))
    with pytest.raises(ValueError, match="version 1 manifest"):
        rp.reproduce(old)
    assert main(["reproduce", str(old)]) == 2


@pytest.mark.slow
def test_the_rerun_reproduces_the_reports(project, tmp_path):
    report = rp.reproduce(manifest_of(project), input_dir=project / "input",
                          workdir=tmp_path / "scratch")
    assert report.rerun_error is None and report.ok, report.summary()
    data = [c for c in report.comparisons if c.kind == "report_data"]
    assert [c.status for c in data] == ["match"]
    assert (tmp_path / "scratch" / "reports" / PERIOD / "SYN01" / "plain.html").is_file()
