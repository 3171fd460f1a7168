"""How a pooled model is built: its columns read, its frame made, its fit run or refused.

Why a module of its own. A pooled model's cache key holds the version of the code that
makes it (``pooled.PooledModel.code``: the sources of ``pooled`` and what it imports of
the kit), so every step that builds a model must be in a module that ``pooled`` imports.
These steps were in the reports' helpers (``context``), which the key did not cover: a
change to them reused models fitted by the old code. The
key also holds the versions of the libraries a fit is computed and pickled with
(:func:`library_versions`).
"""

from __future__ import annotations

import platform
from collections.abc import Callable, Iterable, Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any, Protocol

import pandas as pd

from csc_outcomes import warehouse

#: The libraries a pooled model's frame and fit are computed and pickled with.
LIBRARIES = ("duckdb", "numpy", "pandas", "scipy", "statsmodels")


class ModelRecipe(Protocol):
    """What :func:`build` needs of a pooled model (``pooled.PooledModel``)."""

    @property
    def frame(self) -> Callable[[Mapping[str, pd.DataFrame], Any], pd.DataFrame]: ...
    @property
    def fit(self) -> Callable[..., Any]: ...
    @property
    def reads(self) -> Mapping[str, Sequence[str]]: ...
    @property
    def min_rows(self) -> int: ...
    @property
    def what(self) -> str: ...
    @property
    def options(self) -> Mapping[str, Any]: ...


def build(m: ModelRecipe, warehouse_path: Path, period_end: Any) -> tuple[pd.DataFrame, Any, str | None]:
    """``(frame, fit, reason)``: the model's frame from only the columns it reads
    (``warehouse.read_tables(columns=)``, never the whole warehouse), then its fit, or
    None and the reason in words (:func:`fit_or_reason`)."""
    tables, _ = warehouse.read_tables(Path(warehouse_path), columns=m.reads)
    frame = m.frame(tables, period_end)
    fit, why = fit_or_reason(m.fit, frame, min_rows=m.min_rows, what=m.what, **m.options)
    return frame, fit, why


def missing_warehouse(path: Path) -> str:
    """Why a report's sections that model child-level records are left out."""
    return (f"The warehouse ({path.name}) was not found, so the sections that model "
            "child-level records are left out of this report.")


def fit_or_reason(fit: Callable[..., Any], *args: Any, min_rows: int = 30,
                  what: str = "the model", **kwargs: Any) -> tuple[Any, str | None]:
    """Run ``fit(*args, **kwargs)``; on thin data return ``(None, reason)`` not an error."""
    frame = args[0] if args else None
    if isinstance(frame, pd.DataFrame) and len(frame) < min_rows:
        return None, (f"Too few records ({len(frame)}) to fit {what} for this period; "
                      f"at least {min_rows} are needed.")
    try:
        return fit(*args, **kwargs), None
    except Exception as exc:  # noqa: BLE001 - reported as words, not a traceback
        return None, f"{what.capitalize()} could not be fitted on this data ({type(exc).__name__})."


def library_versions(names: Iterable[str] = LIBRARIES) -> dict[str, str | None]:
    """Python's version and each distribution's of ``names`` (None when not installed)."""
    out: dict[str, str | None] = {"python": platform.python_version()}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out
