"""Publishing a period: its new tree built beside the old one and swapped in at once.

A run that moved its files into ``reports/<period>/`` one by one could be killed
half-way and leave one LA's new report beside eleven old ones, under a manifest that
vouches for neither. So the new tree of the period is built whole beside it, in
``reports/.publish-<run_id>/<period>/``:

- each LA this run published gets the reports it rendered (a report rendered again
  replaces every format of it); its other reports, and the LAs it did not publish
  (not asked for, or whose notebook failed), keep the files the previous manifest
  vouches for, linked (not copied) from the current tree after their hashes are
  checked; a file no manifest vouches for, or changed since, is not carried;
- ``runs/`` keeps every earlier run's manifest and gains this run's;
- ``manifest.json`` lists exactly the files of the new tree, with their hashes.

Then one rename (``renameat2(RENAME_EXCHANGE)`` on Linux) swaps the new tree and the
old, and the old is removed. Whenever the run is killed, ``reports/<period>/`` is the
old tree or the new one, each with the manifest that describes it. Where the exchange
is not available the old tree is renamed aside first; a run killed between the two
renames leaves the period missing, and the next run puts the old tree back
(``workspace.clear_debris``).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
import shutil
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from csc_outcomes.reporting import manifest as mf
from csc_outcomes.reporting.workspace import PUBLISH_FOLDER, kill_point

#: ``renameat2`` flags and the "current folder" descriptor, from ``<linux/fs.h>``.
RENAME_EXCHANGE = 2
AT_FDCWD = -100


def work_folder(reports_dir: Path, run_id: str) -> Path:
    """``reports/.publish-<run_id>``: where the period's new tree is built."""
    return reports_dir / f"{PUBLISH_FOLDER}{run_id}"


def previous_records(period_dir: Path) -> list[dict[str, Any]]:
    """The files the period's current manifest vouches for (none without one)."""
    path = period_dir / "manifest.json"
    if not path.is_file():
        return []
    try:
        man = mf.read_manifest(path)
    except (OSError, ValueError):
        return []
    return list(man.get("published", man.get("outputs", [])))


def report_key(relative: str) -> tuple[str, str]:
    """(LA, report) of a published path ``<period>/<la>/<report>.<fmt>``."""
    parts = Path(relative).parts
    return (parts[1], Path(parts[-1]).stem) if len(parts) >= 3 else ("", relative)


def link_or_copy(source: Path, target: Path) -> None:
    """A hard link (no copy, same bytes) where the file system allows, else a copy."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def carry_forward(reports_dir: Path, new_root: Path, records: Iterable[Mapping[str, Any]],
                  replaced: set[tuple[str, str]], log: Callable[[str], None]) -> None:
    """Link the earlier files this run does not replace into the new tree.

    A file is carried only when the earlier manifest vouches for it and its bytes still
    match the hash recorded; others are left out, and said so.
    """
    dropped = []
    for rec in records:
        rel = str(rec["path"])
        source = reports_dir / rel
        if report_key(rel) in replaced or not source.is_file():
            continue
        if mf.sha256_file(source) != rec.get("sha256"):
            dropped.append(rel)
            continue
        link_or_copy(source, new_root / rel)
    if dropped:
        log(f"not carried forward (changed since published): {', '.join(dropped)}")


def carry_run_records(period_dir: Path, new_period: Path) -> None:
    """Keep every earlier run's manifest (``runs/<run_id>.json``) in the new tree."""
    for old in sorted((period_dir / "runs").glob("*.json")):
        link_or_copy(old, new_period / "runs" / old.name)


def exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one step (Linux ``renameat2``); False where it is not available."""
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        return False
    rc = renameat2(AT_FDCWD, os.fsencode(a), AT_FDCWD, os.fsencode(b), RENAME_EXCHANGE)
    if rc == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
        return False
    raise OSError(err, f"could not swap {a} and {b}: {os.strerror(err)}")


def swap_in(new: Path, target: Path, aside: Path) -> None:
    """Put the tree ``new`` at ``target`` in one step; the old one ends up in ``new``'s place.

    ``aside`` is where the old tree waits when the exchange is not available.
    """
    if not target.exists():
        new.rename(target)
    elif not exchange(new, target):
        aside.parent.mkdir(parents=True, exist_ok=True)
        target.rename(aside)
        kill_point("publish:aside")
        new.rename(target)
