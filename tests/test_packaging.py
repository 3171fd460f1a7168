"""The project's set-up files agree with each other (dependencies declared once)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]

#: conda-forge names that differ from PyPI names.
CONDA_NAMES = {"duckdb": "python-duckdb"}


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[ ]", requirement, maxsplit=1)[0].strip().lower()


def test_environment_yml_installs_every_runtime_test_and_lint_dependency() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    wanted = {_name(r) for r in pyproject["project"]["dependencies"]}
    for extra in ("test", "lint"):
        wanted |= {_name(r) for r in pyproject["project"]["optional-dependencies"][extra]}
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda, pip = set(), set()
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            pip |= {_name(r) for r in dep["pip"]}
        else:
            conda.add(_name(dep))
    missing = {n for n in wanted if CONDA_NAMES.get(n, n) not in conda and n not in pip}
    assert not missing, f"environment.yml lacks {sorted(missing)} declared in pyproject.toml"
    assert "quarto" in conda


def test_console_script_points_at_the_cli() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert pyproject["project"]["scripts"]["csc-outcomes"] == "csc_outcomes.cli:main"


def test_ci_runs_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "python -m pip install nox && nox -s tests" in readme
    assert "python -m pip install nox && nox -s demo" in readme
    assert "nox -s tests" in ci
    assert "nox -s lint" in ci, "CI runs the gates too"


def test_pre_commit_runs_the_same_gates_as_nox_lint() -> None:
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())
    hooks = {h["id"]: h for repo in config["repos"] for h in repo["hooks"]}
    assert {"nbstripout", "ruff", "nbqa-ruff", "mypy"} <= set(hooks)
    noxfile = (ROOT / "noxfile.py").read_text()
    assert '"ruff", "check"' in noxfile and '"nbqa", "ruff"' in noxfile and '"mypy"' in noxfile


def test_committed_notebooks_carry_no_outputs() -> None:
    import json

    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        nb = json.loads(path.read_text())
        for cell in nb["cells"]:
            if cell["cell_type"] == "code":
                assert not cell.get("outputs"), f"{path.name} has outputs: strip them"
                assert cell.get("execution_count") is None, f"{path.name} has execution counts"
