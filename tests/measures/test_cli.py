"""The `measures` subcommand."""

import pandas as pd
import pytest

from csc_outcomes.cli import main
from csc_outcomes.commands import measures as cmd
from csc_outcomes.measures.inputs import MeasureInputs

from .conftest import table
from .test_referrals import referral_rows


@pytest.fixture
def fake_inputs(monkeypatch):
    inp = MeasureInputs({"cin_episodes": table("cin_episodes", referral_rows())})
    monkeypatch.setattr(cmd, "load_inputs", lambda path: inp)
    return inp


def test_help_lists_options(capsys):
    with pytest.raises(SystemExit) as e:
        main(["measures", "--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    for flag in ["--period-end", "--from", "--to", "--measure", "--output", "INPUT", "exit codes"]:
        assert flag in out


def test_writes_csv_for_a_month_range(tmp_path, fake_inputs):
    (tmp_path / "in").mkdir()
    out = tmp_path / "out" / "m.csv"
    code = main(["measures", str(tmp_path / "in"), "--from", "2024-01", "--to", "2024-03",
                 "--measure", "referrals", "rereferrals_within_12m", "--output", str(out)])
    assert code == 0
    df = pd.read_csv(out, keep_default_na=False)
    assert list(df.columns) == ["la_code", "period_end", "measure_id", "numerator",
                                "denominator", "value"]
    assert sorted(df.period_end.unique()) == ["2024-01-31", "2024-02-29", "2024-03-31"]
    row = df[(df.period_end == "2024-03-31") & (df.measure_id == "referrals")].iloc[0]
    assert row.numerator == 4 and row.denominator == "" and float(row.value) == 4
    assert [p.name for p in out.parent.iterdir()] == ["m.csv"]  # no temp files left


def test_usage_errors_exit_2(tmp_path, fake_inputs, capsys):
    (tmp_path / "in").mkdir()
    base = ["measures", str(tmp_path / "in"), "--output", str(tmp_path / "m.csv")]
    assert main(base) == 2  # no period
    assert main([*base, "--period-end", "31/03/2024"]) == 2
    assert main([*base, "--from", "2024-01"]) == 2
    assert main([*base, "--period-end", "2024-03-31", "--measure", "nope"]) == 2
    assert "nope" in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:
        main(["measures", str(tmp_path / "in")])  # --output missing
    assert e.value.code == 2


def test_unreadable_input_exits_1(tmp_path, capsys):
    code = main(["measures", str(tmp_path / "absent.duckdb"), "--period-end", "2024-03-31",
                 "--output", str(tmp_path / "m.csv")])
    assert code == 1 and "does not exist" in capsys.readouterr().err
    bad = tmp_path / "bad.duckdb"
    bad.write_text("not a database")
    code = main(["measures", str(bad), "--period-end", "2024-03-31",
                 "--output", str(tmp_path / "m.csv")])
    assert code == 1 and "cannot read" in capsys.readouterr().err
    assert not (tmp_path / "m.csv").exists()


def test_period_ends_the_returns_do_not_cover_are_refused(tmp_path, monkeypatch, capsys):
    """Finding 7: measures were computed for periods before any return, or past the latest."""
    supplied = pd.DataFrame({"la_code": ["LA1", "LA1"], "table_name": ["cin_episodes"] * 2,
                             "collection_year": [2023, 2024]})
    inp = MeasureInputs({"cin_episodes": table("cin_episodes", referral_rows())}, supplied)
    monkeypatch.setattr(cmd, "load_inputs", lambda path: inp)
    (tmp_path / "in").mkdir()
    base = ["measures", str(tmp_path / "in"), "--output", str(tmp_path / "m.csv")]
    assert main([*base, "--period-end", "2019-03-31"]) == 2
    assert "LA1 (first return: year ending 31 March 2023" in capsys.readouterr().err
    assert main([*base, "--from", "2024-01", "--to", "2024-06"]) == 1
    assert "LA1 (latest return: year ending 31 March 2024)" in capsys.readouterr().err
    assert not (tmp_path / "m.csv").exists()
    assert main([*base, "--from", "2024-01", "--to", "2024-06", "--allow-incomplete"]) == 0
    assert "incomplete data" in capsys.readouterr().err
    assert main([*base, "--period-end", "2024-03-31"]) == 0
