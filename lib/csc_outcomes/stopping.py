"""Stopping a command: Ctrl-C and SIGTERM, neither of them ever lost.

Why. Python runs a signal handler in whatever Python code the main thread runs next,
a garbage collector's weakref callback or a ``__del__`` included, and an exception
raised there is printed ("Exception ignored in ...") and dropped: a run told to stop
went on, published and exited 0. So the handler records the stop before it raises,
and the run asks again (:func:`check`) as each piece of work comes back and before it
publishes. SIGTERM (a scheduler's stop or time limit) raises :class:`Terminated`, a
``KeyboardInterrupt``, so a command unwinds from it as from Ctrl-C: a run kills its
kernels and removes its private folder instead of leaving them to the next run.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the work is."""


#: The stop asked for while :func:`handled` is in force (None: none).
_requested: type[KeyboardInterrupt] | None = None


def _on_signal(signum: int, _frame: FrameType | None) -> None:
    global _requested  # noqa: PLW0603 - the one record a signal handler can leave
    stop = Terminated if signum == signal.SIGTERM else KeyboardInterrupt
    if _requested is None or stop is Terminated:
        _requested = stop
    raise stop


def check() -> None:
    """Raise the stop asked for, if any: its first raise may have been dropped."""
    if _requested is not None:
        raise _requested


@contextmanager
def handled() -> Iterator[None]:
    """While the block runs, SIGINT and SIGTERM raise (``KeyboardInterrupt``,
    :class:`Terminated`) and are recorded for :func:`check`; then the handlers before
    are put back and the record cleared. Only in the main thread, where Python
    delivers signals; elsewhere the block runs as it is. A signal the process was
    started ignoring stays ignored (a shell's background job ignores Ctrl-C)."""
    global _requested  # noqa: PLW0603
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    before = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    for signum, handler in before.items():
        if handler is not signal.SIG_IGN:
            signal.signal(signum, _on_signal)
    try:
        yield
    finally:
        for signum, handler in before.items():
            signal.signal(signum, handler)
        _requested = None
