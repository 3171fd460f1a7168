"""Sessions that set up the project and run one thing each.

``nox -s demo``   synthetic LAs -> ingest -> measures -> notebooks -> reports
``nox -s tests``  the test suite (what CI runs)
``nox -s lint``   the gates: ruff over code and notebooks, mypy over the package
``nox -s lab``    JupyterLab with the project installed as the kernel
``nox -s bench``  the national-scale benchmarks (slow; figures go to benchmarks/)

Dependencies are declared once, in pyproject.toml; every session installs the project
from it. Installs go through uv (itself installed from PyPI into the session) because
it resolves and installs the scientific stack several times faster than pip; the
session's virtualenv is reused between runs, and re-synced from pyproject each time.
"""

from __future__ import annotations

import os
from pathlib import Path

import nox

nox.options.sessions = ["tests"]
nox.options.reuse_venv = "yes"

ROOT = Path(__file__).parent
PYTHON = "3.11"


def install_project(session: nox.Session, *extras: str, compiled: bool = True) -> None:
    """Install the project (editable) with ``extras`` into the session's virtualenv,
    compiled to bytecode.

    uv, unlike pip, does not compile what it installs, and with ``PYTHONDONTWRITEBYTECODE``
    set (as on the project's CI machine) nothing ever writes the ``.pyc`` files: every
    process, each notebook kernel included, then compiled pandas, matplotlib and the kit
    from source, 5-10 s a start. ``--compile-bytecode`` compiles the environment; the kit's
    own sources (installed editable) are compiled here too. ``compiled=False`` for a
    session that imports none of it (the linters).
    """
    spec = f".[{','.join(extras)}]" if extras else "."
    python = str(Path(session.bin) / ("python.exe" if os.name == "nt" else "python"))
    session.install("--quiet", "uv")
    compile_option = ["--compile-bytecode"] if compiled else []
    session.run("uv", "pip", "install", "--quiet", *compile_option, "--python", python,
                "-e", spec)
    if compiled:
        session.run("python", "-m", "compileall", "-q", str(ROOT / "lib"))


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """Run the test suite (pass pytest options after ``--``, e.g. ``-- -m 'not slow'``)."""
    install_project(session, "test", "browser")
    args = session.posargs or ["-n", "2", "--dist", "loadgroup"]
    session.run("python", "-m", "pytest", *args)


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """The gates CI runs: ruff (code, tests, notebooks through nbQA) and mypy (lib).

    Pass the checks to run after ``--`` (``ruff``, ``notebooks``, ``mypy``); all by default.
    """
    install_project(session, "lint", compiled=False)
    checks = session.posargs or ["ruff", "notebooks", "mypy"]
    unknown = sorted(set(checks) - {"ruff", "notebooks", "mypy"})
    if unknown:
        session.error(f"unknown check(s) {unknown}: choose from ruff, notebooks, mypy")
    if "ruff" in checks:
        session.run("ruff", "check", "lib", "tests", "benchmarks", "noxfile.py")
    if "notebooks" in checks:
        session.run("nbqa", "ruff", "notebooks")
    if "mypy" in checks:
        session.run("mypy")


@nox.session(python=PYTHON)
def demo(session: nox.Session) -> None:
    """Generate 3 synthetic LAs and produce every report for them, end to end."""
    install_project(session)
    session.run("csc-outcomes", "demo", *session.posargs)


@nox.session(python=PYTHON)
def lab(session: nox.Session) -> None:
    """Open JupyterLab on notebooks/ with the project installed in its kernel."""
    install_project(session, "lab")
    session.run(
        "python", "-m", "ipykernel", "install", "--sys-prefix",
        "--name", "python3", "--display-name", "Python 3 (csc-outcomes)",
    )
    session.run("jupyter", "lab", "--notebook-dir", str(ROOT), *session.posargs)


@nox.session(python=PYTHON)
def bench(session: nox.Session) -> None:
    """Run the national-scale benchmarks and record their figures."""
    install_project(session)
    for script in sorted(ROOT.glob("benchmarks/*/bench_*.py")):
        session.run("python", str(script), *session.posargs)
