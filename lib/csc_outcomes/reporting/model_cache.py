"""The pooled models' cache: content-addressed entries in the restricted tree, built once.

Why. A pooled model is fitted on every LA's child-level records: minutes at national
scale, and the same result for every run (one LA, another format, a rerun) until its
inputs, its specification or the code change. So it is kept under a key naming
exactly those (``pooled.model_key``) and reused until one of them changes.

Where. ``<restricted>/cache/models/<key>.pkl``: the entry holds child-level frames, so
it lives in the restricted tree, owner-only (folders ``0700``, files ``0600``), never
under ``reports/``. Entries are written atomically (``csc_outcomes.atomic``): an entry
is whole or absent.

One build per entry. While an entry is built its lock ``<key>.lock`` is held
(``fcntl.flock``): two processes asking for the same entry (the run's model stage and
a notebook in JupyterLab, or two notebooks) build it once; the second waits, then
reads it. A process killed mid-build leaves no entry, only a temporary file named
``.<key>.pkl.*.tmp`` (which :func:`clear` and the next run's
``workspace.clear_debris`` remove); the kernel releases its lock.
``csc-outcomes cache list|clear`` shows and empties the cache.

Superseded entries. An entry holds child-level frames, so one the run will never ask
for again is not kept: the run's model stage describes each entry it fits or finds
(``<key>.about``: the model, the period end and the warehouse file), and removes the
other described entries of the same model, period and warehouse (:func:`supersede`),
those of a warehouse since corrected or re-ingested. An entry built by a notebook alone
(JupyterLab) is not described, and stays until ``cache clear``.
"""

from __future__ import annotations

import ast
import contextlib
import fcntl
import hashlib
import json
import os
import pickle
import re
import stat
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

import csc_outcomes
from csc_outcomes import __version__, atomic
from csc_outcomes.reporting import file_memo

#: ``<restricted>/cache``: what a run passes its notebooks as ``model_cache``.
CACHE_FOLDER = "cache"
#: The models' folder inside the cache.
MODELS_FOLDER = "models"
ENTRY_SUFFIX = ".pkl"
LOCK_SUFFIX = ".lock"
MEMO_SUFFIX = ".json"
#: What an entry is (model, period end, warehouse), beside it: ``<key>.about``.
ABOUT_SUFFIX = ".about"
#: A key: a SHA-256 in hex (anything else is refused, so a key is never a path).
KEY = re.compile(r"[0-9a-f]{64}")
#: The package whose modules a code version hashes.
PACKAGE = "csc_outcomes"

Value = TypeVar("Value")


@dataclass(frozen=True)
class Entry:
    """One cached model on disk."""

    key: str
    path: Path
    size: int
    modified: float  # seconds since the epoch
    about: Mapping[str, str] | None = None  # what it is, when the run described it


def cache_root(restricted_dir: str | Path) -> Path:
    """The cache folder of a restricted tree: ``<restricted>/cache``."""
    return Path(restricted_dir) / CACHE_FOLDER


def models_dir(cache_dir: str | Path) -> Path:
    """Where the model entries of a cache folder are."""
    return Path(cache_dir) / MODELS_FOLDER


def entry_path(cache_dir: str | Path, key: str) -> Path:
    """The entry of ``key`` (refused unless ``key`` is a SHA-256 in hex)."""
    if not KEY.fullmatch(key):
        raise ValueError(f"not a model cache key: {key!r} (64 hex digits expected)")
    return models_dir(cache_dir) / f"{key}{ENTRY_SUFFIX}"


#: A key from its named parts: SHA-256 of canonical JSON (the one rule, in ``file_memo``).
digest = file_memo.digest


def source_file(module: str) -> Path | None:
    """The source file of a module of the package (``None`` for a name that is not
    one, e.g. a function imported from a module)."""
    parts = module.split(".")
    if parts[0] != PACKAGE:
        return None
    base = Path(csc_outcomes.__file__).parent.joinpath(*parts[1:])
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


@lru_cache(maxsize=32)
def module_closure(roots: tuple[str, ...]) -> dict[str, Path]:
    """``roots`` and every module of the package they import, directly or not:
    name -> source file, sorted by name (once per process).

    Read from the sources (``ast``), not from what happens to be imported: the code a
    model depends on is the code its modules could run. A package's ``__init__`` is
    followed too, so this is wider than needed (the warehouse's brings in ingest):
    an entry is rebuilt after any change that could matter, and some that do not.
    """
    found: dict[str, Path] = {}
    todo = list(roots)
    while todo:
        name = todo.pop()
        source = source_file(name) if name not in found else None
        if source is None:
            continue
        found[name] = source
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                todo += [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            elif isinstance(node, ast.Import):
                todo += [a.name for a in node.names]
    return dict(sorted(found.items()))


def code_version(roots: Iterable[str]) -> str:
    """SHA-256 of the package version and the sources of ``roots``' module closure
    (hashed again only when one of the files changed: a run asks once per notebook)."""
    closure = module_closure(tuple(sorted(roots)))
    stamps = tuple((name, p.stat().st_mtime_ns, p.stat().st_size) for name, p in closure.items())
    return _sources_digest(__version__, stamps, tuple(closure.values()))


@lru_cache(maxsize=32)
def _sources_digest(version: str, stamps: tuple[tuple[str, int, int], ...],
                    files: tuple[Path, ...]) -> str:
    """SHA-256 of the package version and each module's name and source."""
    h = hashlib.sha256(f"{PACKAGE} {version}\0".encode())
    for (name, _, _), source in zip(stamps, files, strict=True):
        h.update(name.encode() + b"\0" + source.read_bytes() + b"\0")
    return h.hexdigest()


def private_folder(cache_dir: str | Path) -> Path:
    """The models' folder, made owner-only (``0700``, the cache folder too): entries
    hold child-level frames, and an entry is unpickled, so no one else may write one."""
    folder = models_dir(cache_dir)
    for f in (Path(cache_dir), folder):
        f.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(f, 0o700)
    return folder


@contextmanager
def locked(path: Path, *, wait: bool = True) -> Iterator[bool]:
    """Hold ``fcntl.flock`` on ``path`` (made ``0600``); yield whether it was taken
    (always, when ``wait``). The kernel releases it if the process dies."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)  # closing the last descriptor releases the lock


class UntrustedEntry(RuntimeError):
    """A cache entry someone other than its owner could have written: never unpickled."""


def untrusted_because(path: Path, cache_dir: Path) -> str | None:
    """Why the entry at ``path`` cannot be trusted, or None.

    Unpickling runs code, so an entry is read only when it and every folder from the
    cache folder down to it belong to this user and no one else can write them (a shared
    file system, a ``chmod`` or a copied tree can break what ``private_folder`` set up).
    """
    me = os.geteuid()
    between = [cache_dir / q for q in reversed(path.relative_to(cache_dir).parents[:-1])]
    for full in [cache_dir, *between, path]:
        st = full.stat()
        if st.st_uid != me:
            return f"{full} belongs to user id {st.st_uid}, not to you ({me})"
        loose = st.st_mode & (0o077 if full == path else 0o022)
        if loose & 0o022:
            return f"{full} has mode {stat.filemode(st.st_mode)}: others could have written it"
        if loose:  # an entry others can read: child-level frames open to them
            return (f"{full} has mode {stat.filemode(st.st_mode)}: others can read it (it "
                    "holds child-level records and must be yours alone, 0600)")
    return None


#: Entries this process loaded ahead (:func:`hold`), by path and file version.
_HELD: dict[file_memo.FileVersion, Any] = {}


def load(path: Path, cache_dir: str | Path) -> Any:
    """An entry's value, once it is shown to be this user's alone (:func:`untrusted_because`):
    the one this process holds (:func:`hold`) while the file is that version, else unpickled."""
    why = untrusted_because(path, Path(cache_dir))
    if why:
        raise UntrustedEntry(
            f"refusing to load the cached model {path.name}: {why}. Find out who changed the "
            f"cache's permissions, then remove it with 'csc-outcomes cache clear "
            f"--restricted-dir {Path(cache_dir).parent}' (the models are fitted again)")
    held = _HELD.get(file_memo.file_version(Path(path)))
    if held is not None:
        return held
    with open(path, "rb") as fh:
        try:
            return pickle.load(fh)
        except Exception as exc:  # a damaged pickle raises almost anything
            raise DamagedEntry(f"the cached model {path.name} could not be read "
                               f"({type(exc).__name__}: {exc})") from exc


class DamagedEntry(RuntimeError):
    """An entry that is this user's alone but cannot be unpickled (a truncated file, a
    pickle of classes the code no longer has): :func:`fetch` builds it again."""


def hold(path: Path, cache_dir: str | Path) -> None:
    """Load the entry at ``path`` now and keep it for this process's :func:`load` calls.

    Why: the run's fork server (``kernel_forkserver --hold``) holds the run's models
    before it forks the notebooks' kernels, so each kernel finds them loaded, its pages
    shared with the others, instead of unpickling 20-140 MB again (0.3-0.5 s in each of
    459 national notebooks). A held entry is the file as it was when held: one replaced
    since (``run --force``) is a new version, read from disk."""
    version = file_memo.file_version(Path(path))
    value = load(path, cache_dir)
    if file_memo.file_version(Path(path)) == version:
        _HELD[version] = value


def hold_only(paths: Iterable[Path], cache_dir: str | Path) -> None:
    """Hold the entries at ``paths`` (each loaded once, :func:`hold`) and let go of every
    other entry this process holds: a worker preparing report after report keeps the
    models of the report in hand, not every model it has read."""
    wanted = {file_memo.file_version(Path(p)): Path(p) for p in paths}
    for version in [v for v in _HELD if v not in wanted]:
        del _HELD[version]
    for version, path in wanted.items():
        if version not in _HELD:
            hold(path, cache_dir)


def fetch(cache_dir: str | Path, key: str, build: Callable[[], Value], *,
          refresh: bool = False) -> tuple[Value, bool]:
    """The value cached under ``key``, built (``build()``) under the entry's lock when
    missing or damaged (:class:`DamagedEntry`: it is replaced), or always when
    ``refresh`` (``run --force``: the entry is replaced); and whether this call built it.
    An entry others could write or read is never loaded (:class:`UntrustedEntry`).
    See the module docstring."""
    path = entry_path(cache_dir, key)
    if path.is_file() and not refresh:
        with contextlib.suppress(DamagedEntry):  # built again below, under the lock
            return load(path, cache_dir), False
    folder = private_folder(cache_dir)
    with locked(folder / f"{key}{LOCK_SUFFIX}"):
        if path.is_file() and not refresh:  # built by whoever held the lock before us
            with contextlib.suppress(DamagedEntry):
                return load(path, cache_dir), False
        value = build()
        with atomic.atomic_path(path, mode=0o600) as tmp, open(tmp, "wb") as fh:
            pickle.dump(value, fh, protocol=pickle.HIGHEST_PROTOCOL)
    return value, True


def remembered(cache_dir: str | Path, source: Path, parts: Mapping[str, Any],
               compute: Callable[[], dict[str, str]]) -> dict[str, str]:
    """``compute()`` on the file ``source``, kept in the cache's models folder until that
    version of the file is gone (:func:`prune`; the rule: ``file_memo.remembered``).

    For what is costly to compute from a file (a warehouse's inputs digest): the run's
    stage computes it, and each notebook then reads it instead of scanning again.
    """
    private_folder(cache_dir)
    return dict(file_memo.remembered(models_dir(cache_dir), source, parts, compute))


def prune(cache_dir: str | Path) -> int:
    """Remove what :func:`remembered` kept of file versions that are gone; how many."""
    return file_memo.prune(models_dir(cache_dir))


def entries(cache_dir: str | Path) -> list[Entry]:
    """The entries of the cache, oldest first."""
    folder = models_dir(cache_dir)
    found = []
    for p in folder.glob(f"*{ENTRY_SUFFIX}") if folder.is_dir() else []:
        key = p.name.removesuffix(ENTRY_SUFFIX)
        if KEY.fullmatch(key):
            st = p.stat()
            found.append(Entry(key, p, st.st_size, st.st_mtime, about_entry(folder, key)))
    return sorted(found, key=lambda e: (e.modified, e.key))


def about_entry(folder: Path, key: str) -> dict[str, str] | None:
    """What the run said entry ``key`` is (:func:`supersede`), or None."""
    try:
        about = json.loads((folder / f"{key}{ABOUT_SUFFIX}").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return {str(k): str(v) for k, v in about.items()} if isinstance(about, dict) else None


def supersede(cache_dir: str | Path, key: str, about: Mapping[str, str]) -> list[str]:
    """Describe entry ``key`` as ``about`` (model, period end, warehouse), then remove
    every other entry described the same, but one being built; the keys removed."""
    folder = private_folder(cache_dir)
    about = {str(k): str(v) for k, v in about.items()}
    atomic.write_text(folder / f"{key}{ABOUT_SUFFIX}", json.dumps(about, sort_keys=True),
                      mode=0o600)
    removed = []
    for entry in entries(cache_dir):
        if entry.key != key and entry.about == about and not being_built(entry.path):
            entry.path.unlink(missing_ok=True)
            (folder / f"{entry.key}{ABOUT_SUFFIX}").unlink(missing_ok=True)
            removed.append(entry.key)
    return removed


def being_built(path: Path) -> bool:
    """Whether ``path`` (an entry, or its temporary file ``.<key>...tmp``) belongs to an
    entry whose lock is held now: a process is building it."""
    key = path.name.lstrip(".")[:64]
    lock = path.parent / f"{key}{LOCK_SUFFIX}"
    if not KEY.fullmatch(key) or not lock.is_file():
        return False
    with locked(lock, wait=False) as free:
        return not free


def clear(cache_dir: str | Path) -> tuple[int, int, int]:
    """Remove every entry and temporary file of the cache but those of entries being
    built (their lock held: the builder finishes them); return (entries removed, bytes
    removed, entries being built and left). Files not named by a key are kept, and so are
    the empty lock files: removing one while a builder takes it would let a second
    builder lock a new file of the same name and build the same entry at once."""
    folder = models_dir(cache_dir)
    if not folder.is_dir():
        return 0, 0, 0
    busy = set()
    for lock in folder.glob(f"*{LOCK_SUFFIX}"):
        with locked(lock, wait=False) as free:
            if not free:
                busy.add(lock.name.removesuffix(LOCK_SUFFIX))
    removed = size = 0
    for p in sorted(folder.iterdir()):
        key = p.name.lstrip(".")[:64]
        if not KEY.fullmatch(key) or key in busy or not p.is_file() or p.suffix == LOCK_SUFFIX:
            continue
        size += p.stat().st_size
        removed += p.name == f"{key}{ENTRY_SUFFIX}"
        p.unlink()
    return removed, size, len(busy)
