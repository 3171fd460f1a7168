"""Add a newer release of a published file: validate it whole, then swap it in.

A release replaces the file of the same publication (matched by name, as the contract
says) only when it is valid and reaches at least as far as the file it replaces, and
``SHA256SUMS`` is rewritten to match, so the folder is never half-updated.
"""

from __future__ import annotations

import fnmatch
import hashlib
import shutil
from dataclasses import dataclass
from pathlib import Path

from csc_outcomes import atomic
from csc_outcomes.paths import published_dir
from csc_outcomes.published.contract import (
    PublishedFileError,
    neighbour_model,
    publication_for,
)
from csc_outcomes.published.neighbours import all_neighbours
from csc_outcomes.published.read import read_ees
from csc_outcomes.published.tidy import cell_columns


@dataclass(frozen=True)
class Added:
    """One file added: what it replaced (if anything) and the years it holds."""

    name: str
    replaced: str | None
    last_year: int | None


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _pattern_of(name: str) -> str:
    """The glob (of the publication, or the neighbour model) that ``name`` matches."""
    pub = publication_for(name)
    if pub is not None:
        return next(p for p in pub.match if fnmatch.fnmatchcase(name, p))
    if fnmatch.fnmatchcase(name, neighbour_model().match):
        return neighbour_model().match
    raise ValueError(f"{name}: not a file of any publication the kit reads (see "
                     "data_contracts/published/measures.yaml for the names it expects)")


def _last_year(path: Path) -> int | None:
    pub = publication_for(path.name)
    if pub is None:
        return None
    frame = read_ees(path, pub.columns, cell_columns(pub))
    return int(frame["year"].max())


def validate(path: Path, folder: Path) -> int | None:
    """Read ``path`` as the contract says (raises on any problem); its last year."""
    if not path.is_file():
        raise PublishedFileError(path, "not a regular file")
    if _pattern_of(path.name) == neighbour_model().match:
        all_neighbours(folder, model_file=path)
    return _last_year(path)


def write_checksums(folder: Path) -> None:
    """``SHA256SUMS`` for every CSV in ``folder`` (``sha256sum -c`` reads it)."""
    lines = [f"{_sha256(p)}  {p.name}\n" for p in sorted(folder.glob("*.csv"))]
    atomic.write_text(folder / "SHA256SUMS", "".join(lines))


def add_release(files: list[Path], folder: str | Path | None = None) -> list[Added]:
    """Validate every file, then put each in ``folder`` in place of its older release."""
    folder = Path(folder) if folder else published_dir()
    plans = []
    for new in files:
        last = validate(new, folder)
        pattern = _pattern_of(new.name)
        old = [p for p in sorted(folder.glob(pattern)) if p.name != new.name]
        old_last = max((_last_year(p) or 0 for p in old), default=0)
        if last is not None and last < old_last:
            raise PublishedFileError(new, f"reaches only {last}, but {old[0].name} already "
                                     f"reaches {old_last}: not a newer release")
        plans.append((new, old, last))
    for new, old, _ in plans:
        with atomic.atomic_path(folder / new.name, mode=0o644) as tmp:
            shutil.copyfile(new, tmp)
        for p in old:
            p.unlink()
    write_checksums(folder)
    return [Added(new.name, ", ".join(p.name for p in old) or None, last) for new, old, last in plans]

