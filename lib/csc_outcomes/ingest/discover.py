"""Finding the input: LA folders, their files, the batches they are read in, the input hash.

The input folder holds one sub-folder per LA, named by its LA code
(``<input>/<la_code>/ssda903/<year>/...``; the layout is in the ``ingest`` command's
help and ``docs/architecture.md``). Hidden files and folders, and folders starting
with ``_``, are not LAs.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path


class UsageError(ValueError):
    """The command was called wrongly (missing input folder, unknown LA); exit code 2."""


@dataclass(frozen=True)
class LaFolder:
    """One LA's folder and the files in it (sorted)."""

    path: Path
    files: list[Path]

    @property
    def la_code(self) -> str:
        """The LA code: the folder's name, upper case."""
        return self.path.name.strip().upper()

    @property
    def size(self) -> int:
        """Bytes of input in the folder."""
        return sum(f.stat().st_size for f in self.files)


def check_input_dir(input_dir: Path) -> None:
    """Raise :class:`UsageError` unless ``input_dir`` is an existing folder."""
    if not input_dir.exists():
        raise UsageError(f"input folder {input_dir} does not exist")
    if not input_dir.is_dir():
        raise UsageError(f"{input_dir} is not a folder; give the folder holding one sub-folder per LA")


def files_in(folder: Path) -> list[Path]:
    """Every file under ``folder`` (at any depth, hidden files left out), sorted."""
    return sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))


def la_folders(input_dir: Path, la_codes: list[str] | None) -> list[LaFolder]:
    """The LA folders of ``input_dir`` (only those of ``la_codes`` when given), sorted.

    Raises :class:`UsageError` when an LA asked for has no folder, or there is none.
    """
    folders = sorted(p for p in input_dir.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))
    if la_codes:
        wanted = {c.strip().upper() for c in la_codes}
        found = {p.name.upper() for p in folders}
        missing = sorted(wanted - found)
        if missing:
            raise UsageError(f"no folder for LA code(s) {', '.join(missing)} in {input_dir} "
                             f"(found: {', '.join(sorted(found)) or 'none'})")
        folders = [p for p in folders if p.name.upper() in wanted]
    if not folders:
        raise UsageError(f"{input_dir} holds no LA folders (expected <input>/<la_code>/ssda903/<year>/...)")
    return [LaFolder(p, files_in(p)) for p in folders]


def la_batches(folders: list[LaFolder], batch_bytes: int) -> list[list[LaFolder]]:
    """LA folders in groups of about ``batch_bytes`` of input (at least one LA each)."""
    batches: list[list[LaFolder]] = []
    size = 0
    for folder in folders:
        n = folder.size
        if not batches or (size + n > batch_bytes and batches[-1]):
            batches.append([])
            size = 0
        batches[-1].append(folder)
        size += n
    return batches


def relative(path: Path, root: Path) -> str:
    """``path`` relative to ``root``, with ``/`` (how files are named in reports)."""
    return path.relative_to(root).as_posix()


def input_hash(input_dir: Path, files: list[Path]) -> str:
    """SHA-256 over the relative paths and contents of the files read."""
    h = hashlib.sha256()
    for f in sorted(files):
        h.update(relative(f, input_dir).encode())
        h.update(b"\0")
        h.update(hashlib.sha256(f.read_bytes()).digest())
    return h.hexdigest()
