"""Finding the input: LA folders, their files, the batches they are read in, the input hash.

The input folder holds one sub-folder per LA, named by its LA code
(``<input>/<la_code>/ssda903/<year>/...``; the layout is in the ``ingest`` command's
help and ``docs/architecture.md``). Hidden files and folders, and folders starting
with ``_``, are not LAs.

Under an LA folder every entry must be a real folder or a regular file (a link to a
regular file is read through). Anything else (a FIFO, socket or device, a dangling
link, a link to a folder, a folder named like a data file) is listed in
:attr:`LaFolder.odd` so that the ingest refuses it by name: skipping it would read the
LA's return as if a table were simply absent.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

#: Suffixes of the files ingest reads: a folder named so stands where a data file belongs.
DATA_SUFFIXES = (".csv", ".xml")

#: Bytes read at a time when hashing a file.
HASH_CHUNK = 2**20

#: What an LA code looks like (upper case): letters, digits, ``-`` and ``_``, never a path.
LA_CODE_PATTERN = r"[A-Z0-9][A-Z0-9_-]{0,19}"


class UsageError(ValueError):
    """The command was called wrongly (missing input folder, unknown LA); exit code 2."""


def la_code(text: str) -> str:
    """``text`` as an LA code (stripped, upper case); :class:`UsageError` when it is not
    one (an LA code names a folder of the input and of the reports: it is never a path)."""
    code = str(text).strip().upper()
    if not re.fullmatch(LA_CODE_PATTERN, code):
        raise UsageError(f"{text!r} is not an LA code: use letters, digits, - or _ "
                         "(e.g. E09000001 or SYN01), never a path")
    return code


@dataclass(frozen=True)
class LaFolder:
    """One LA's folder, the regular files in it and the entries that are not (sorted)."""

    path: Path
    files: list[Path]
    odd: list[Path] = field(default_factory=list)

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


def files_in(folder: Path) -> tuple[list[Path], list[Path]]:
    """The regular files under ``folder`` (at any depth, hidden entries left out) and the
    entries that are neither a real folder nor a regular file, each sorted."""
    files, odd = [], []
    for p in folder.rglob("*"):
        if p.name.startswith("."):
            continue
        if p.is_file():
            files.append(p)
        elif not p.is_dir() or p.is_symlink() or p.suffix.lower() in DATA_SUFFIXES:
            odd.append(p)
    return sorted(files), sorted(odd)


def odd_entry_message(path: Path, label: str) -> str:
    """Why an entry that is not a regular file is refused, and what to do."""
    if path.is_symlink() and not path.exists():
        what = f"a link to {path.readlink()}, which does not exist"
    elif path.is_symlink() and path.is_dir():
        what = "a link to a folder (ingest reads only real folders under an LA folder)"
    elif path.is_dir():
        what = "a folder where a data file belongs"
    else:
        what = "not a regular file (a FIFO, socket or device)"
    return f"{label}: {what}; put the exported file itself in its place, or remove the entry"


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
    return [LaFolder(p, *files_in(p)) for p in folders]


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


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file's bytes, as hex (read a chunk at a time)."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(HASH_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def input_files(input_dir: Path, files: list[tuple[str, Path]]) -> list[dict]:
    """One record per ``(la_code, file)``: la_code, path (relative), size and sha256,
    sorted by path: what the warehouse's ``input_files`` table holds."""
    out = [{"la_code": la, "path": relative(f, input_dir), "size": f.stat().st_size, "sha256": file_sha256(f)}
           for la, f in files]
    return sorted(out, key=lambda r: r["path"])


def input_hash(records: list[dict]) -> str:
    """SHA-256 over the relative paths and contents' hashes of :func:`input_files` records."""
    h = hashlib.sha256()
    for r in sorted(records, key=lambda r: r["path"]):
        h.update(r["path"].encode())
        h.update(b"\0")
        h.update(bytes.fromhex(r["sha256"]))
    return h.hexdigest()
