"""Stopping a command: Ctrl-C and SIGTERM, neither of them lost, the clean-up never cut short.

Why. Python runs a signal handler in whatever Python code the main thread runs next,
a garbage collector's weakref callback or a ``__del__`` included, and an exception
raised there is printed ("Exception ignored in ...") and dropped: a run told to stop
went on, published and exited 0. So the stop is recorded before it is raised, a raise
Python dropped is noticed (``sys.unraisablehook``), and the work asks again
(:func:`check`) as each piece comes back, before publishing and when the command ends.
Once a stop is on its way up, further signals are recorded, not raised: a second
Ctrl-C or SIGTERM would cut short the clean-up that removes the run's private folder.
SIGTERM (a scheduler's stop or time limit) raises :class:`Terminated`, a
``KeyboardInterrupt``, so a command unwinds from it as from Ctrl-C.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType
from typing import Any


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the work is."""


@dataclass
class Stop:
    """What :func:`handled` saw: the stop asked for (SIGTERM wins over Ctrl-C), whether
    its exception is on its way up, and whether signals are held (:func:`deferred`)."""

    kind: type[KeyboardInterrupt] | None = None
    raised: bool = False
    held: bool = False


#: The stop of the :func:`handled` block running now (None: none).
_current: Stop | None = None


def _on_signal(signum: int, _frame: FrameType | None) -> None:
    stop = _current
    if stop is None:  # a handler left behind: behave as Python's own
        raise KeyboardInterrupt
    if stop.kind is not Terminated:
        stop.kind = Terminated if signum == signal.SIGTERM else KeyboardInterrupt
    if stop.raised or stop.held:
        return  # one on its way up already, or held until the commit is done
    stop.raised = True
    raise stop.kind


def check() -> None:
    """Raise the stop asked for, if any. Called where work goes on, so a stop is there
    only if its raise did not get through: dropped by Python, held by :func:`deferred`,
    or turned into another exception and caught (DuckDB answers Ctrl-C in a query with
    its own ``InterruptException``, and a stage sets an item that raised aside)."""
    stop = _current
    if stop is not None and stop.kind is not None:
        stop.raised = True
        raise stop.kind


@contextmanager
def deferred() -> Iterator[None]:
    """Signals recorded but not raised while the block runs (publishing's swap and
    index: stopped halfway, readers would see the new reports without their index),
    then :func:`check`."""
    stop = _current
    if stop is None or stop.held:
        yield
        return
    stop.held = True
    try:
        yield
    finally:
        stop.held = False
    check()


def _noticing_dropped(previous: Any) -> Any:
    def hook(info: Any) -> None:
        stop = _current
        if stop is not None and isinstance(info.exc_value, KeyboardInterrupt):
            stop.raised = False  # Python dropped it: the next signal or check raises again
        previous(info)
    return hook


@contextmanager
def handled(*, ignored_after_a_stop: bool = False) -> Iterator[Stop]:
    """While the block runs, SIGINT and SIGTERM raise (``KeyboardInterrupt``,
    :class:`Terminated`) and are recorded (the :class:`Stop` yielded; :func:`check`);
    after it, the handlers and hook before are put back, or, with
    ``ignored_after_a_stop`` and a stop seen, both signals ignored (a command on its
    way out: a late Ctrl-C would break into the interpreter's own clean-up). Only in
    the main thread, where Python delivers signals. A signal the process was started
    ignoring stays ignored (a shell's background job ignores Ctrl-C)."""
    global _current
    stop = Stop()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return
    before = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    outer, hook = _current, sys.unraisablehook
    _current, sys.unraisablehook = stop, _noticing_dropped(hook)
    for signum, handler in before.items():
        if handler is not signal.SIG_IGN:
            signal.signal(signum, _on_signal)
    try:
        yield stop
    finally:
        for signum, handler in before.items():
            ignore = ignored_after_a_stop and stop.kind is not None
            signal.signal(signum, signal.SIG_IGN if ignore else handler)
        _current, sys.unraisablehook = outer, hook
