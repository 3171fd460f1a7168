"""Where the project's folders are: the one place that knows the repository layout.

The package is installed editable from a checkout, so the repository root is found
once, from this file, by the folder that holds ``data_contracts/``. Every module that
needs a project folder (contracts, notebooks, parameters, report templates) asks here
rather than climbing ``Path(__file__).parents``.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path


@lru_cache(maxsize=1)
def repo_root() -> Path:
    """The checkout's root: the nearest folder above this package holding ``data_contracts``."""
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "data_contracts").is_dir():
            return parent
    raise FileNotFoundError(
        "data_contracts/ not found above the csc_outcomes package: install the kit "
        "editable from a checkout (pip install -e .)"
    )


def contracts_dir() -> Path:
    """``data_contracts/``: the YAML contracts and code lists."""
    return repo_root() / "data_contracts"


def published_dir() -> Path:
    """``published/``: DfE's published statistics, as published (Open Government Licence)."""
    return repo_root() / "published"


def notebooks_dir() -> Path:
    """``notebooks/``: the parameterised notebooks a run executes."""
    return repo_root() / "notebooks"


def parameters_dir() -> Path:
    """``parameters/``: defaults, one file per LA, schedules."""
    return repo_root() / "parameters"


def reports_project_dir() -> Path:
    """``reports/``: the Quarto project file and the built-in renderer's templates."""
    return repo_root() / "reports"


def templates_dir() -> Path:
    """``reports/templates/``: the built-in renderer's templates."""
    return reports_project_dir() / "templates"
