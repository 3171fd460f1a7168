"""A value computed from a large file, remembered by the file's identity.

Digests of a national warehouse take seconds each, and a run with nothing changed must
not pay them again; notebooks must not scan the warehouse again for a digest the run
has just computed. A file's identity (device, inode, size, modification time) changes
whenever it is replaced (ingest writes a new warehouse with ``os.replace``), so a value
kept under it is valid while that identity holds. The one rule, used by the run's
content hash and per-LA digests (``restricted/digests``) and by the pooled models'
inputs digests (the model cache).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from csc_outcomes import atomic

T = TypeVar("T")

#: A memo's file name: a SHA-256 in hex, then this.
SUFFIX = ".json"
#: A file's version (:func:`file_version`): what a process keeps of the file is kept under it.
FileVersion = tuple[str, tuple[int, ...]]


def file_identity(path: Path) -> list[int]:
    """A file's version as the file system sees it: device, inode, size, mtime (ns)."""
    st = path.stat()
    return [st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns]


def file_version(path: Path) -> FileVersion:
    """The file's resolved path and identity (:func:`file_identity`): a key for what this
    process keeps of it in memory (a model it unpickled, a report it parsed)."""
    return str(path.resolve()), tuple(file_identity(path))


def digest(parts: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of ``parts`` as canonical JSON: a key from its named parts."""
    text = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def memo_name(source: Path, identity: list[int], parts: Mapping[str, Any]) -> str:
    """The memo's file name: SHA-256 of what it is of (``parts``), the file and its version."""
    return digest({**parts, "source": str(source), "identity": identity}) + SUFFIX


def remembered(memo_dir: Path, source: Path, parts: Mapping[str, Any],
               compute: Callable[[], T]) -> T:
    """``compute()``, kept in ``memo_dir`` for this version of ``source`` (JSON values).

    A value computed while the file changed under it is returned but not kept. The
    folder and any missing parents are made owner-only: memos name inputs.
    """
    source = source.resolve()
    identity = file_identity(source)
    memo = memo_dir / memo_name(source, identity, parts)
    if memo.is_file():
        return json.loads(memo.read_text(encoding="utf-8"))["value"]
    value = compute()
    if file_identity(source) == identity:
        for folder in reversed([memo_dir, *memo_dir.parents]):
            if not folder.exists():
                folder.mkdir(mode=0o700)
        atomic.write_text(memo, json.dumps({"source": str(source), "identity": identity,
                                            "value": value}), mode=0o600)
    return value


def prune(memo_dir: Path) -> int:
    """Remove the memos of file versions that are gone (a run's own copy of the warehouse,
    removed when the run ends; a warehouse ingested again); return how many."""
    gone = 0
    for memo in memo_dir.glob(f"*{SUFFIX}") if memo_dir.is_dir() else []:
        try:
            kept = json.loads(memo.read_text(encoding="utf-8"))
            source = Path(kept["source"])
            current = source.exists() and file_identity(source) == kept["identity"]
        except (OSError, ValueError, KeyError, TypeError):
            current = False  # not a memo of ours, or damaged: never trusted again
        if not current:
            memo.unlink(missing_ok=True)
            gone += 1
    return gone
