"""Project folders are found from one place, and exist in a checkout."""

from __future__ import annotations

from pathlib import Path

from csc_outcomes import paths


def test_folders_are_under_the_checkout_root() -> None:
    root = paths.repo_root()
    assert (root / "pyproject.toml").is_file()
    for folder in (paths.contracts_dir(), paths.notebooks_dir(), paths.parameters_dir(),
                   paths.templates_dir(), paths.published_dir()):
        assert folder.is_dir() and root in folder.parents
    assert Path(__file__).resolve().parents[1] == root
