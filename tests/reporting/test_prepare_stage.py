"""The run's prepare stage on the demo's data: each report's sections worked out before
its notebook, and the reports the same whichever way they were worked out (ahead here,
ahead on a Dask cluster, in the notebook, or in the notebook after the stage failed)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from csc_outcomes.reporting import prepare_stage
from csc_outcomes.reporting.config import RunConfig
from csc_outcomes.reporting.run import run

PERIOD = "2026-03-31"
NOTEBOOKS = ("cohort_outcomes", "placement_stability", "proportionality", "rereferrals")


def given(executed: Path) -> str:
    """The ``prepared`` parameter the run gave an executed notebook ("" when none)."""
    nb = nbformat.read(executed, as_version=4)
    return str(nb.metadata["papermill"]["parameters"].get("prepared", ""))


def same_reports(mine: Path, demo: Path, la: str) -> None:
    for name in NOTEBOOKS:
        page = mine / PERIOD / la / f"{name}.html"
        assert page.read_bytes() == (demo / PERIOD / la / f"{name}.html").read_bytes(), page


@pytest.mark.slow
@pytest.mark.xdist_group(name="demo")
def test_the_demos_notebooks_showed_the_sections_worked_out_ahead(demo_run) -> None:
    assert demo_run.code == 0, demo_run.err
    assert "report sections: 12 of 12 worked out" in demo_run.err
    restricted = demo_run.folder / "restricted"
    for la in ("SYN01", "SYN02", "SYN03"):
        for name in NOTEBOOKS:
            prepared = given(restricted / PERIOD / la / f"{name}.ipynb")
            assert prepared.endswith(f"/shared/prepared/{la}/{name}.json"), prepared
            assert not Path(prepared).exists(), "the run's shared folder is removed"
    manifest = json.loads((demo_run.folder / "reports" / PERIOD / "manifest.json").read_text())
    assert manifest["timings"]["prepare_s"] > 0


@pytest.mark.slow
@pytest.mark.xdist_group(name="demo")
@pytest.mark.parametrize("how", [("--no-prepare",), ("--cluster", "local")],
                         ids=["in the notebooks", "ahead on a local cluster"])
def test_the_reports_are_the_same_however_their_sections_are_worked_out(demo_run, tmp_path,
                                                                          how) -> None:
    assert demo_run.code == 0, demo_run.err
    proc = subprocess.run(
        [sys.executable, "-m", "csc_outcomes", "run", "--period-end", PERIOD, "--la", "SYN02",
         "--warehouse", "data/warehouse.duckdb", "--measures", "data/measures.csv",
         "--reports-dir", str(tmp_path / "reports"), "--restricted-dir", str(tmp_path / "restricted"),
         "--jobs", "2", *how], cwd=demo_run.folder, capture_output=True, text=True, timeout=600,
        check=False)
    assert proc.returncode == 0, proc.stderr
    same_reports(tmp_path / "reports", demo_run.folder / "reports", "SYN02")
    for name in NOTEBOOKS:
        prepared = given(tmp_path / "restricted" / PERIOD / "SYN02" / f"{name}.ipynb")
        assert bool(prepared) is ("--no-prepare" not in how), name
    assert ("report sections" in proc.stderr) is ("--no-prepare" not in how)


@pytest.mark.slow
@pytest.mark.xdist_group(name="demo")
def test_a_report_whose_sections_fail_ahead_is_worked_out_by_its_notebook(
        demo_run, tmp_path, monkeypatch, capsys) -> None:
    assert demo_run.code == 0, demo_run.err
    real = prepare_stage.prepare

    def failing(notebook: str, parameters: dict, path: str) -> Path:
        if notebook == "proportionality":
            raise RuntimeError("planted")
        return real(notebook, parameters, path)
    monkeypatch.setattr(prepare_stage, "prepare", failing)  # 4 reports, 2 jobs: run here
    data = demo_run.folder / "data"
    res = run(RunConfig(period_end=PERIOD, la_codes=("SYN03",), warehouse=data / "warehouse.duckdb",
                        measures_path=data / "measures.csv", reports_dir=tmp_path / "reports",
                        restricted_dir=tmp_path / "restricted", jobs=2))
    assert res.ok
    err = capsys.readouterr().err
    assert ("report sections of SYN03 proportionality could not be worked out ahead "
            "(RuntimeError: planted): its notebook works them out itself") in err
    assert "report sections: 3 of 4 worked out" in err
    executed = tmp_path / "restricted" / PERIOD / "SYN03"
    assert given(executed / "proportionality.ipynb") == ""
    assert given(executed / "rereferrals.ipynb")
    same_reports(tmp_path / "reports", demo_run.folder / "reports", "SYN03")
    assert (executed / "rereferral_tracker.csv").read_bytes() == \
        (demo_run.folder / "restricted" / PERIOD / "SYN03" / "rereferral_tracker.csv").read_bytes()


@pytest.mark.slow
@pytest.mark.xdist_group(name="demo")
def test_a_run_killed_once_its_sections_are_prepared_leaves_them_to_the_next_run_to_clear(
        demo_run, tmp_path) -> None:
    assert demo_run.code == 0, demo_run.err
    command = [sys.executable, "-m", "csc_outcomes", "run", "--period-end", PERIOD, "--la", "SYN01",
               "--warehouse", "data/warehouse.duckdb", "--measures", "data/measures.csv",
               "--reports-dir", str(tmp_path / "reports"),
               "--restricted-dir", str(tmp_path / "restricted"), "--jobs", "2"]
    killed = subprocess.run(command, cwd=demo_run.folder, capture_output=True, text=True,
                            timeout=600, check=False,
                            env={**os.environ, "CSC_OUTCOMES_KILL_AT": "prepared"})
    assert killed.returncode == -9, killed.stderr
    left = sorted((tmp_path / "restricted").rglob("prepared/SYN01/*.json"))
    assert [p.stem for p in left] == sorted(NOTEBOOKS)
    assert all(p.stat().st_mode & 0o777 == 0o600 for p in left), "prepared files are owner-only"
    assert not (tmp_path / "reports" / PERIOD).exists(), "nothing is published"
    again = subprocess.run(command, cwd=demo_run.folder, capture_output=True, text=True,
                           timeout=600, check=False)
    assert again.returncode == 0, again.stderr
    assert not list((tmp_path / "restricted").rglob("prepared")), "the next run clears them"
    same_reports(tmp_path / "reports", demo_run.folder / "reports", "SYN01")
