"""Atomic file writes: a reader sees the old file or the new one, never half of one.

Every write of a file that something else reads (measures table, manifest, index page,
reports, pickles, warehouse) goes through :func:`atomic_path`: the content is written
to a hidden temporary file in the same folder and moved into place with
``os.replace`` (atomic on one file system); on any error the temporary file is
removed and the old file is left as it was.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

#: The process's umask, read once: a new file gets the permissions ``open`` would give
#: it (``mkstemp`` alone would make every file owner-only).
_UMASK = os.umask(0o022)
os.umask(_UMASK)


@contextmanager
def atomic_path(target: str | Path, *, mode: int | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; on success move it onto ``target``.

    The caller writes the whole file to the yielded path (by any library). ``mode``
    sets the permission bits before the move (e.g. ``0o600`` for restricted files);
    without it the file gets the usual ``0o666`` less the umask.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, mode if mode is not None else 0o666 & ~_UMASK)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def write_text(target: str | Path, text: str, *, mode: int | None = None) -> Path:
    """Write ``text`` (UTF-8) to ``target`` atomically; return ``target``."""
    with atomic_path(target, mode=mode) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(target)


def write_bytes(target: str | Path, data: bytes, *, mode: int | None = None) -> Path:
    """Write ``data`` to ``target`` atomically; return ``target``."""
    with atomic_path(target, mode=mode) as tmp:
        tmp.write_bytes(data)
    return Path(target)
