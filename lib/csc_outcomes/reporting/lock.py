"""One run at a time per reports tree (and per restricted tree).

Two runs publishing the same period at once interleave their files: the published set
ends up holding reports from two warehouses under one manifest. So a run holds a lock
on each tree it writes for its whole length: ``fcntl.flock`` on ``.<tree>.lock``
beside the tree, a file that names the holder (run id, pid, host, start) as JSON. A
second run cannot take it and stops at once (``RunError``, exit 1), naming the run in
progress.

The operating system releases a ``flock`` when the process holding it ends, however
it ends, so a lock left by a killed run never blocks: the next run takes it, finds the
killed run's record still in the file (a run that ends normally empties it), says so
and clears what that run left (``workspace.clear_debris``). The file is never deleted:
removing a lock file another process has open is what lets two runs both "hold" it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import socket
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from csc_outcomes.reporting.config import RunError

if sys.platform == "win32":  # pragma: no cover - the kit's tests run on Linux and macOS
    import msvcrt

    def try_lock(fd: int) -> bool:
        """Lock a byte far past the record (Windows locks are mandatory), without waiting."""
        os.lseek(fd, 1 << 30, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
else:
    import fcntl

    def try_lock(fd: int) -> bool:
        """``flock`` the file exclusively, without waiting; False when another holds it."""
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True


@dataclass(frozen=True)
class Holder:
    """The run holding a lock, as its lock file records it."""

    run_id: str
    pid: int
    host: str
    started: str

    def describe(self) -> str:
        """The holder in words, for messages."""
        return f"run {self.run_id} (pid {self.pid} on {self.host}, started {self.started})"


def lock_path(tree: str | Path) -> Path:
    """The lock file of a tree: ``.<name>.lock`` beside it (``reports`` -> ``.reports.lock``)."""
    tree = Path(tree).resolve()
    return tree.parent / f".{tree.name}.lock"


def read_holder(fd: int) -> Holder | None:
    """The record in an open lock file; None when it is empty or not one of ours."""
    os.lseek(fd, 0, os.SEEK_SET)
    data = os.read(fd, 4096)
    try:
        return Holder(**json.loads(data)) if data.strip() else None
    except (ValueError, TypeError):
        return None


def write_holder(fd: int, holder: Holder) -> None:
    """Replace the record in an open lock file by ``holder``'s."""
    os.ftruncate(fd, 0)
    os.lseek(fd, 0, os.SEEK_SET)
    os.write(fd, json.dumps(asdict(holder)).encode())
    os.fsync(fd)


def pid_alive(pid: int) -> bool:
    """Whether a process of this host has ``pid`` (another user's counts as alive)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def busy_message(tree: Path, path: Path, holder: Holder | None) -> str:
    """Why a run cannot start: who holds the tree, and what to do."""
    who = holder.describe() if holder else "a run that is just starting"
    stale = ""
    if holder and holder.host == socket.gethostname() and not pid_alive(holder.pid):
        stale = (f"; pid {holder.pid} has ended, but a process it started still holds "
                 f"the lock ('fuser {path}' names it): end that process")
    return (f"another run is in progress on {tree}: {who}{stale}. Nothing was run; run "
            "again once it has finished.")


#: How long a run waits for the processes a killed run left (a notebook's kernel, the
#: warm-kernel server) to see their parent gone and end, releasing the lock they inherited.
ORPHANS_WAIT = 10.0


def lock_after_orphans(fd: int, wait: float | None = None) -> bool:
    """Lock ``fd`` once the processes of a killed holder have ended, within ``wait``
    seconds (:data:`ORPHANS_WAIT`); False at once when the holder is alive or on another
    host.

    A kernel ends within a second of its run's death when the machine is idle (it polls
    its parent), but the next run (a scheduler's retry, a test) can ask for the lock in
    that second, and a loaded machine stretches it.
    """
    holder = read_holder(fd)
    if holder is None or holder.host != socket.gethostname() or pid_alive(holder.pid):
        return False
    deadline = time.monotonic() + (ORPHANS_WAIT if wait is None else wait)
    while time.monotonic() < deadline:
        time.sleep(0.1)
        if try_lock(fd):
            return True
    return False


@contextlib.contextmanager
def hold_one(tree: Path, run_id: str) -> Iterator[Holder | None]:
    """Hold ``tree``'s lock for the with-block; yield the killed run it was taken from."""
    path = lock_path(tree)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise RunError(f"cannot create the run's lock {path} ({exc.strerror}): the folder "
                       f"holding {tree.name} must be writable; nothing was run") from exc
    try:
        if not (try_lock(fd) or lock_after_orphans(fd)):
            raise RunError(busy_message(Path(tree).resolve(), path, read_holder(fd)))
        killed = read_holder(fd)
        started = dt.datetime.now(dt.UTC).astimezone().isoformat(timespec="seconds")
        write_holder(fd, Holder(run_id, os.getpid(), socket.gethostname(), started))
        try:
            yield killed
        finally:
            os.ftruncate(fd, 0)  # a run that ended leaves an empty record
    finally:
        os.close(fd)  # releases the lock


@contextlib.contextmanager
def hold(trees: Sequence[str | Path], run_id: str,
         log: Callable[[str], None] | None = None) -> Iterator[list[Holder]]:
    """Hold the lock of every tree in ``trees`` for the with-block, or raise ``RunError``.

    Yields the killed runs whose locks were taken over (their debris is the caller's
    to clear).
    """
    killed: list[Holder] = []
    with contextlib.ExitStack() as stack:
        for tree in dict.fromkeys(Path(t).resolve() for t in trees):
            holder = stack.enter_context(hold_one(tree, run_id))
            if holder is not None and holder not in killed:
                killed.append(holder)
                if log:
                    log(f"{holder.describe()} did not finish (it was killed); taking over "
                        f"its lock on {tree} and clearing what it left")
        yield killed
