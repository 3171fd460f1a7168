"""Ctrl-C and SIGTERM while a command runs: raised where the work is, and never lost."""

from __future__ import annotations

import os
import signal
import sys
import time
import weakref
from types import SimpleNamespace

import pytest

from csc_outcomes import stopping


class Victim:
    """Something whose end runs a callback (as the garbage collector's weakrefs do)."""


def sigterm_in_a_callback() -> weakref.ref:
    """A weakref whose callback sends this process SIGTERM and goes on running Python,
    so the handler runs inside the callback, where Python prints and drops exceptions."""
    def callback(_ref: weakref.ref) -> None:
        os.kill(os.getpid(), signal.SIGTERM)
        sum(i for i in range(10_000))  # Python code: the handler runs here

    victim = Victim()
    ref = weakref.ref(victim, callback)
    del victim  # CPython: the callback runs now
    return ref


def test_a_stop_dropped_where_python_drops_exceptions_is_raised_again_by_check(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Attacker: SIGTERM arrives while a weakref callback runs. Before, the Terminated
    raised there was dropped and SIGTERM then ignored: the run published and exited 0.
    Now the stop is recorded: ``check`` raises it, and the handlers and hook are put
    back after."""
    dropped: list[type[BaseException] | None] = []
    monkeypatch.setattr(sys, "unraisablehook", lambda info: dropped.append(info.exc_type))
    before = signal.getsignal(signal.SIGTERM)
    with stopping.handled() as stop:
        sigterm_in_a_callback()  # we are still here: the exception was dropped
        assert dropped == [stopping.Terminated] and stop.kind is stopping.Terminated
        for _ in range(2):  # wherever work goes on, until the command ends
            with pytest.raises(stopping.Terminated):
                stopping.check()
    stopping.check()  # the record goes with the block
    assert signal.getsignal(signal.SIGTERM) is before
    assert sys.unraisablehook is not None and dropped == [stopping.Terminated]


def test_a_second_signal_is_recorded_not_raised_and_sigterm_wins(ctrl_c_raises: None) -> None:
    """Attacker (a reviewer's find): a second signal as the first unwinds would cut its
    clean-up short (the run's private folder, with the warehouse copy, was left). It is
    recorded instead; SIGTERM, even second, decides the exit (143)."""
    with stopping.handled() as stop:
        with pytest.raises(KeyboardInterrupt) as info:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(5)
        assert not isinstance(info.value, stopping.Terminated)
        os.kill(os.getpid(), signal.SIGTERM)  # during the "clean-up": not raised
        sum(range(100_000))
        assert stop.kind is stopping.Terminated


def test_a_stop_held_while_publishing_is_raised_when_the_commit_is_done() -> None:
    with stopping.handled() as stop:
        with pytest.raises(stopping.Terminated), stopping.deferred():
            os.kill(os.getpid(), signal.SIGTERM)
            sum(range(100_000))  # the handler runs here, and holds it
            committed = True
        assert committed and stop.kind is stopping.Terminated


def test_after_a_stop_a_command_on_its_way_out_ignores_late_signals() -> None:
    before = signal.getsignal(signal.SIGTERM)
    try:
        with pytest.raises(stopping.Terminated), stopping.handled(ignored_after_a_stop=True):
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)
        assert signal.getsignal(signal.SIGTERM) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGTERM, before)


def test_a_signal_the_command_was_started_ignoring_stays_ignored() -> None:
    """A command a shell started in the background ignores Ctrl-C: so does its run."""
    before = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with stopping.handled():
            assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
            assert signal.getsignal(signal.SIGTERM) not in (signal.SIG_DFL, signal.SIG_IGN)
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, before)


def test_a_command_whose_stop_became_another_error_exits_as_stopped(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    """SIGTERM turned into a library's own error (DuckDB's interrupt) that reaches the
    command: exit 143 and "stopped by SIGTERM", not exit 1 and "failed"."""
    from csc_outcomes import cli

    def interrupted_query(_args: object) -> int:
        try:
            os.kill(os.getpid(), signal.SIGTERM)
            sum(range(100_000))
        except KeyboardInterrupt as exc:
            raise RuntimeError("INTERRUPT Error: Interrupted!") from exc
        return 0

    parser = cli.build_parser()
    monkeypatch.setattr(cli, "build_parser", lambda: parser)
    monkeypatch.setattr(parser, "parse_args",
                        lambda argv: SimpleNamespace(func=interrupted_query, command="x"))
    before = signal.getsignal(signal.SIGTERM)
    try:
        assert cli.main(["x"]) == 143
    finally:
        signal.signal(signal.SIGTERM, before)
    assert "stopped by SIGTERM" in capsys.readouterr().err
