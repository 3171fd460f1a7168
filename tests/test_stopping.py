"""Ctrl-C and SIGTERM while a command runs: raised where the work is, and never lost."""

from __future__ import annotations

import os
import signal
import sys
import time
import weakref

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
    Now the stop is recorded: ``check`` raises it, and a second SIGTERM still stops."""
    dropped: list[type[BaseException] | None] = []
    monkeypatch.setattr(sys, "unraisablehook", lambda info: dropped.append(info.exc_type))
    before = signal.getsignal(signal.SIGTERM)
    with stopping.handled():
        sigterm_in_a_callback()  # we are still here: the exception was dropped
        assert dropped == [stopping.Terminated]
        with pytest.raises(stopping.Terminated):
            stopping.check()
        with pytest.raises(stopping.Terminated):
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)
    stopping.check()  # the record goes with the block
    assert signal.getsignal(signal.SIGTERM) is before


def test_ctrl_c_is_a_keyboard_interrupt_and_sigterm_wins_over_it(ctrl_c_raises: None) -> None:
    with stopping.handled():
        with pytest.raises(KeyboardInterrupt) as info:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(5)
        assert not isinstance(info.value, stopping.Terminated)
        with pytest.raises(stopping.Terminated):
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)
        with pytest.raises(stopping.Terminated):  # the stronger of the two is recorded
            stopping.check()


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
