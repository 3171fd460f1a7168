"""The run and reproduce subcommands: help, usage errors, exit codes."""

import nbformat
import pytest
from conftest import PERIOD

from csc_outcomes.cli import main


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
               "--warehouse", str(tmp_path / "w.duckdb"), "--reports-dir", str(tmp_path / "reports"),
               "--restricted-dir", str(tmp_path / "restricted"),
               "--parameters-dir", str(tiny_setup / "parameters"), "--quiet"])
    assert rc == 1
    err = capsys.readouterr().err
    assert "notebook 'broken' for LA SYN01" in err and "RuntimeError: no data for SYN01" in err
    assert not (tmp_path / "reports").exists()


def test_monthly_schedule_resolves():
    import datetime as dt

    from csc_outcomes.measures.table import parse_period_end
    from csc_outcomes.reporting.parameters import load_schedule

    sched = load_schedule("monthly")
    assert sched["period_end"] == "last_month_end"
    assert parse_period_end(sched["period_end"], today=dt.date(2026, 3, 2)) == dt.date(2026, 2, 28)


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
