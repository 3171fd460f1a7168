"""The plan of a run: periods the returns do not cover are refused before anything runs
(finding 7); the monthly schedule takes the latest period they cover; the run keeps its
own rows of the measures table; the run's LAs come from them."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from csc_outcomes import paths
from csc_outcomes.cli import build_parser, main
from csc_outcomes.commands.run import build_config
from csc_outcomes.measures import table
from csc_outcomes.reporting.config import RunError
from csc_outcomes.reporting.plan import prepare, run_las

from conftest import PERIOD, make_measures, tiny_config


def cli_args(tiny_setup: Path, out: Path, *extra: str) -> list[str]:
    """``csc-outcomes run`` on the tiny setup (its warehouse holds 2025 and 2026 returns)."""
    return ["run", "--warehouse", str(tiny_setup / "data" / "warehouse.duckdb"),
            "--measures", str(tiny_setup / "data" / "measures.csv"),
            "--reports-dir", str(out / "reports"), "--restricted-dir", str(out / "restricted"),
            "--parameters-dir", str(tiny_setup / "parameters"),
            "--notebooks-dir", str(tiny_setup / "notebooks"), "--renderer", "builtin",
            "--quiet", *extra]


def published_files(out: Path) -> list[Path]:
    return [p for p in (out / "reports").rglob("*") if p.is_file()] if out.exists() else []


def test_a_period_before_the_first_return_is_a_usage_error(tiny_setup, tmp_path, capsys):
    """Finding 7: --period-end 2019-03-31, before any return, computed and published
    '10 referrals, 100% long-term stability'."""
    assert main(cli_args(tiny_setup, tmp_path, "--period-end", "2019-03-31")) == 2
    err = capsys.readouterr().err
    assert "before the first statutory return" in err
    assert "SYN01 (first return: year ending 31 March 2025" in err
    assert not published_files(tmp_path)
    assert not list((tmp_path / "restricted").rglob("*.ipynb"))


def test_a_period_past_the_latest_return_fails_naming_the_las(tiny_setup, tmp_path, capsys):
    """Finding 7: a month past the returns was published from them with exit 0."""
    assert main(cli_args(tiny_setup, tmp_path, "--period-end", "2026-10-31")) == 1
    err = capsys.readouterr().err
    assert "SYN01 (latest return: year ending 31 March 2026)" in err
    assert "SYN02 (latest return: year ending 31 March 2026)" in err
    assert "--allow-incomplete" in err
    assert not published_files(tmp_path)
    assert not list((tmp_path / "restricted").rglob("*.ipynb"))


def test_the_monthly_schedule_defaults_to_the_latest_period_covered(tiny_setup, tmp_path):
    """Finding 7: the monthly schedule on 30 November published 'year ending 31 October
    2026' from returns ending in March. Now its period is the latest the returns cover."""
    params = tmp_path / "parameters"
    shutil.copytree(tiny_setup / "parameters", params)
    (params / "schedules").mkdir()
    shutil.copy(paths.parameters_dir() / "schedules" / "monthly.yaml", params / "schedules")
    argv = cli_args(tiny_setup, tmp_path, "--schedule", "monthly", "--parameters-dir", str(params))
    config = build_config(build_parser().parse_args(argv))
    assert config.period_end == "latest_covered"
    plan = prepare(config)
    assert plan.period_end == "2026-03-31" and plan.incomplete is None
    assert plan.la_codes == ("SYN01", "SYN02")


def test_allowed_incomplete_period_sets_the_banner(tiny_setup, tmp_path):
    measures = make_measures(tmp_path / "m.csv")  # the period must be computed: a copy
    with pytest.raises(RunError) as e:
        prepare(tiny_config(tiny_setup, tmp_path, period_end="2026-04-30", measures_path=measures))
    assert e.value.exit_code == 1
    plan = prepare(tiny_config(tiny_setup, tmp_path, period_end="2026-04-30",
                               measures_path=measures, allow_incomplete=True))
    assert plan.period_check.behind == {"SYN01": 2026}
    assert plan.incomplete and "SYN01 (latest return: year ending 31 March 2026)" in plan.incomplete
    assert plan.coverage_record()["years"] == {"SYN01": [2025, 2026]}
    # the run's rows: the incomplete period of its LA, and the earlier periods covered
    rows = plan.measures_rows
    assert set(rows.loc[rows["period_end"] == "2026-04-30", "la_code"]) == {"SYN01"}
    assert rows["period_end"].max() == table.read(measures)["period_end"].max()


def test_the_run_keeps_its_own_rows(tiny_setup, tmp_path):
    """Finding 8: every period shared one appended file, so a later run changed an
    earlier run's recorded input. A run now reads (and records) rows of its own."""
    measures = make_measures(tmp_path / "m.csv")
    plan = prepare(tiny_config(tiny_setup, tmp_path, measures_path=measures))
    assert plan.measures_path == plan.measures_snapshot
    assert plan.measures_snapshot.parent == tmp_path.resolve() / "restricted" / PERIOD / "runs"
    assert plan.measures_snapshot.name == f"{plan.run_id}-measures.csv"
    record = plan.measures_record()
    assert record["snapshot"] == f"{PERIOD}/runs/{plan.run_id}-measures.csv"
    assert record["table"] == "m.csv"  # relative to the project (the reports' parent)


def test_no_warehouse_says_what_to_run(tiny_setup, tmp_path):
    with pytest.raises(RunError, match="csc-outcomes ingest"):
        prepare(tiny_config(tiny_setup, tmp_path, warehouse=tmp_path / "absent.duckdb"))


def test_las_default_to_those_with_measures_for_the_period(tmp_path: Path) -> None:
    rows = table.read(make_measures(tmp_path / "m.csv", las=("B2", "A1")))
    assert run_las((), rows, "2026-03-31") == ("A1", "B2")
    assert run_las(("C3", "C3"), rows, "2026-03-31") == ("C3",)
    with pytest.raises(RunError, match="no LA has measures for 2025-03-31"):
        run_las((), rows, "2025-03-31")


def test_notebooks_get_the_qa_report_of_a_relative_warehouse_as_an_absolute_path(
        tiny_setup: Path, tmp_path: Path, monkeypatch) -> None:
    # a notebook runs in its LA's folder: a relative path once made the data quality
    # section say "no QA report" although the demo had written one
    from csc_outcomes.reporting.stages import notebook_jobs

    monkeypatch.chdir(tiny_setup)
    config = tiny_config(tiny_setup, tmp_path, warehouse=Path("data/warehouse.duckdb"))
    job = notebook_jobs(prepare(config))[0]
    assert job.parameters["qa_report"] == str(tiny_setup.resolve() / "data" / "warehouse.qa.json")
