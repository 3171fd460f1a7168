"""DfE's published figures, parsed once per release and kept in the user's cache.

Turning the published CSVs into the tidy table takes seconds, and every report
notebook (and the workbooks) needs it: parsed once, it is pickled under the user's
cache folder (``$CSC_OUTCOMES_CACHE``, else ``$XDG_CACHE_HOME/csc-outcomes``, else
``~/.cache/csc-outcomes``), keyed by the content of every published file and of the
code that reads them, so a newer release (``csc-outcomes published update``) or a new
version of the kit is parsed afresh. The figures are public; the file is still
written owner-only. A cache that cannot be written costs only the time.
"""

from __future__ import annotations

import hashlib
import os
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from csc_outcomes import atomic, paths
from csc_outcomes import published as published_package

T = TypeVar("T")


def cache_folder() -> Path:
    """Where parsed published figures are kept (see the module docstring)."""
    if os.environ.get("CSC_OUTCOMES_CACHE"):
        return Path(os.environ["CSC_OUTCOMES_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "csc-outcomes"


def content_key(folder: Path) -> str:
    """A digest of every file in ``folder`` and of the code that parses them."""
    digest = hashlib.sha256()
    code = [*sorted(Path(published_package.__file__).parent.glob("*.py")),
            *sorted((paths.contracts_dir() / "published").glob("*")),
            *sorted(Path(__file__).parent.glob("published_*.py")),
            Path(__file__).parent / "la_register.py", Path(__file__).parent / "rates.py"]
    for path in [*sorted(p for p in folder.iterdir() if p.is_file()), *code]:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:24]


def cached(folder: Path, build: Callable[[], T]) -> T:
    """``build()``'s result for the published files in ``folder``, from the cache when
    those files (and the code) are unchanged; built and stored otherwise."""
    path = cache_folder() / f"published-{content_key(folder)}.pkl"
    if path.is_file():
        with open(path, "rb") as fh:
            return pickle.load(fh)
    result = build()
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        with atomic.atomic_path(path, mode=0o600) as tmp, open(tmp, "wb") as fh:
            pickle.dump(result, fh, protocol=pickle.HIGHEST_PROTOCOL)
    except OSError:  # a read-only home: no cache, the figures are still right
        pass
    return result
