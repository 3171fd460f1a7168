"""The command line: every subcommand is registered, documented and exits cleanly."""

from __future__ import annotations

import subprocess
import sys

import pytest

from csc_outcomes.cli import COMMANDS, build_parser, main


def test_every_subcommand_is_registered_with_help() -> None:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    assert set(sub.choices) == set(COMMANDS)
    for name, subparser in sub.choices.items():
        help_text = subparser.format_help()
        assert "not yet available" not in help_text, f"{name} is still a placeholder"
        assert subparser.description, f"{name} --help has no description"


@pytest.mark.parametrize("command", COMMANDS)
def test_help_exits_zero(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main([command, "--help"])
    assert exc.value.code == 0
    assert f"csc-outcomes {command}" in capsys.readouterr().out


def test_no_command_prints_help_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "COMMAND" in capsys.readouterr().out


def test_unknown_command_is_a_usage_error() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "csc_outcomes", "no-such-command"],
        capture_output=True, text=True, check=False,
    )
    assert proc.returncode == 2
    assert "invalid choice" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_an_unexpected_error_is_one_line_and_exit_1(monkeypatch, tmp_path, capsys) -> None:
    from csc_outcomes import synth

    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(synth, "generate", broken)
    monkeypatch.delenv("CSC_OUTCOMES_DEBUG", raising=False)
    assert main(["synth", str(tmp_path / "out"), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "csc-outcomes synth: failed (RuntimeError: disk on fire)" in err
    assert "CSC_OUTCOMES_DEBUG=1" in err and "Traceback" not in err

    monkeypatch.setenv("CSC_OUTCOMES_DEBUG", "1")
    with pytest.raises(RuntimeError, match="disk on fire"):
        main(["synth", str(tmp_path / "out"), "--quiet"])
