"""The run and reproduce subcommands: help, usage errors, exit codes.

Options and parameter files are checked before any notebook starts (findings 2 and 9),
and a warehouse this kit cannot read stops run and reproduce with exit 1 (finding 6).
"""

import shutil
import time

import duckdb
import nbformat
import pytest

from csc_outcomes.cli import main

from conftest import PERIOD, tiny_config


@pytest.mark.parametrize("cmd", ["run", "reproduce"])
def test_help(cmd, capsys):
    with pytest.raises(SystemExit) as info:
        main([cmd, "--help"])
    assert info.value.code == 0
    text = capsys.readouterr().out
    assert "exit codes" in text
    if cmd == "run":
        for opt in ("--period-end", "--la", "--warehouse", "--measures", "--reports-dir",
                    "--format", "--jobs", "--notebook", "--schedule"):
            assert opt in text


def test_run_usage_errors(tmp_path, capsys):
    params = tmp_path / "parameters"
    params.mkdir()
    assert main(["run", "--period-end", "2026-03-31", "--parameters-dir", str(params)]) == 2
    assert "not a parameters folder" in capsys.readouterr().err  # no defaults.yaml
    (params / "defaults.yaml").write_text("{}\n")
    assert main(["run", "--parameters-dir", str(params)]) == 2
    assert "--period-end is required" in capsys.readouterr().err
    assert main(["run", "--period-end", "31/03/2026", "--parameters-dir", str(params)]) == 2
    assert main(["run", "--schedule", "weekly", "--parameters-dir", str(params)]) == 2


def test_reproduce_missing_manifest(tmp_path):
    assert main(["reproduce", str(tmp_path / "nope.json")]) == 2


def test_run_failure_exit_code(tiny_setup, tmp_path, capsys):
    nbdir = tmp_path / "nbs"
    nbdir.mkdir()
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell('la_code = "X"', metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell("raise RuntimeError('no data for ' + la_code)")]
    nbformat.write(nb, str(nbdir / "broken.ipynb"))
    rc = main(["run", "--period-end", PERIOD, "--la", "SYN01", "--notebook", "broken",
               "--notebooks-dir", str(nbdir), "--measures", str(tiny_setup / "data" / "measures.csv"),
               "--warehouse", str(tiny_setup / "data" / "warehouse.duckdb"),
               "--reports-dir", str(tmp_path / "reports"),
               "--restricted-dir", str(tmp_path / "restricted"),
               "--parameters-dir", str(tiny_setup / "parameters"), "--quiet"])
    assert rc == 1
    err = capsys.readouterr().err
    assert "notebook 'broken' for LA SYN01" in err and "RuntimeError: no data for SYN01" in err
    assert not (tmp_path / "reports").exists()


def test_monthly_schedule_resolves():
    from csc_outcomes.measures.coverage import period_spelling
    from csc_outcomes.reporting.parameters import load_schedule

    sched = load_schedule("monthly")  # checked against the schedule's schema as it is read
    assert sched["la_codes"] == "all" and sched["notebooks"] == "all"
    assert period_spelling(sched["period_end"])


def test_run_options_come_from_command_line_then_schedule_then_defaults(tmp_path):
    from csc_outcomes.cli import build_parser
    from csc_outcomes.commands.run import build_config

    params = tmp_path / "parameters"
    (params / "schedules").mkdir(parents=True)
    (params / "defaults.yaml").write_text("period_end: 2025-03-31\nformats: [pdf]\njobs: 3\n"
                                          "measures: m.csv\n")
    (params / "schedules" / "nightly.yaml").write_text("la_codes: all\nformats: [html, pdf]\n"
                                                       "notebooks: [rereferrals]\n")
    args = build_parser().parse_args(["run", "--parameters-dir", str(params), "--schedule",
                                      "nightly", "--la", "SYN02", "--jobs", "1"])
    config = build_config(args)
    assert config.period_end == "2025-03-31"  # defaults.yaml, a YAML date
    assert config.la_codes == ("SYN02",) and config.jobs == 1  # command line
    assert config.formats == ("html", "pdf") and config.notebooks == ("rereferrals",)
    assert str(config.measures_path) == "m.csv" and config.renderer == "auto"


@pytest.fixture
def checked_run(tiny_setup, tmp_path):
    """The arguments of a run of the tiny notebook in ``tmp_path`` (a copy of its parameters
    folder and warehouse, to be spoilt), and a check that it stopped at once."""
    params = shutil.copytree(tiny_setup / "parameters", tmp_path / "parameters")
    wh = shutil.copy(tiny_setup / "data" / "warehouse.duckdb", tmp_path / "w.duckdb")
    args = ["run", "--period-end", PERIOD, "--notebooks-dir", str(tiny_setup / "notebooks"),
            "--measures", str(tiny_setup / "data" / "measures.csv"), "--warehouse", str(wh),
            "--reports-dir", str(tmp_path / "reports"), "--restricted-dir", str(tmp_path / "restricted"),
            "--parameters-dir", str(params), "--quiet"]

    def stopped(extra, code, *said):
        from csc_outcomes.cli import main as cli

        started = time.perf_counter()
        assert cli([*args, *extra]) == code
        assert time.perf_counter() - started < 20  # no notebook ran
        assert not (tmp_path / "restricted").exists() and not (tmp_path / "reports").exists()
        return said

    return params, wh, stopped


def _err_has(capsys, *said):
    err = capsys.readouterr().err
    for text in said:
        assert text in err, err
    return err


def test_threshold_0_is_refused_naming_file_and_key(checked_run, capsys):
    params, _, stopped = checked_run
    (params / "defaults.yaml").write_text("notebooks: [tiny]\nsuppression_threshold: 0\n")
    stopped([], 2)
    _err_has(capsys, f"{params / 'defaults.yaml'}: suppression_threshold: expected a whole number of "
                     "at least 5, got 0")


def test_bad_parameter_values_are_refused_at_once(checked_run, capsys):
    params, _, stopped = checked_run
    (params / "SYN01.yaml").write_text("name: Synthetia\nstatistical_neighbours: 7\n")
    stopped([], 2)
    _err_has(capsys, "SYN01.yaml: statistical_neighbours: expected a list", "got 7")
    (params / "SYN01.yaml").write_text("name: Synthetia\n")
    (params / "schedules").mkdir()
    (params / "schedules" / "nightly.yaml").write_text('jobs: "two"\n')
    stopped(["--schedule", "nightly"], 2)
    _err_has(capsys, "nightly.yaml: jobs: expected a whole number of at least 1, got 'two'")
    (params / "schedules" / "nightly.yaml").write_text("formats: [html\njobs: 2\n")
    stopped([], 2)  # every file is checked, the schedule too, even when not asked for
    err = _err_has(capsys, "nightly.yaml, line 2, column 5: not valid YAML")
    assert len(err.strip().splitlines()) == 1


def test_la_codes_and_jobs_are_checked_at_once(checked_run, capsys, tmp_path):
    _, _, stopped = checked_run
    with pytest.raises(SystemExit) as exc:
        stopped(["--la", "../../escape"], 2)
    assert exc.value.code == 2
    _err_has(capsys, "'../../escape' is not an LA code")
    assert not (tmp_path.parent / "escape").exists()
    stopped(["--la", "SYN09"], 2)
    _err_has(capsys, "--la SYN09: no such LA in the warehouse", "SYN01, SYN02")
    for jobs in ("0", "two"):
        with pytest.raises(SystemExit) as exc:
            stopped(["--jobs", jobs], 2)
        assert exc.value.code == 2
        _err_has(capsys, "argument --jobs: expected a whole number of at least 1")


@pytest.mark.parametrize(("sql", "said"), [
    ('ALTER TABLE episodes DROP COLUMN "DEC"', "lacks column episodes.DEC"),
    ("DROP TABLE supplied", "lacks table supplied"),
    ("DROP TABLE schema_version", "records no schema version (no table schema_version)")])
def test_run_refuses_a_warehouse_to_rebuild(checked_run, capsys, sql, said):
    _, wh, stopped = checked_run
    with duckdb.connect(str(wh)) as con:
        con.execute(sql)
    stopped([], 1)
    _err_has(capsys, said, f"csc-outcomes ingest INPUT --warehouse {wh}")


@pytest.mark.slow
def test_reproduce_refuses_a_warehouse_to_rebuild(tiny_setup, tmp_path, capsys):
    from csc_outcomes.reporting.run import run

    setup = shutil.copytree(tiny_setup, tmp_path / "project")
    result = run(tiny_config(setup, tmp_path / "project", formats=("html",)))
    wh = setup / "data" / "warehouse.duckdb"
    with duckdb.connect(str(wh)) as con:
        con.execute('ALTER TABLE episodes DROP COLUMN "DEC"')
    assert main(["reproduce", str(result.manifest_path), "--no-rerun"]) == 1
    _err_has(capsys, "episodes.DEC", "csc-outcomes ingest INPUT --warehouse")
