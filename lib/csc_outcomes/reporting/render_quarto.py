"""Render executed notebooks with Quarto, when ``quarto`` is on PATH.

Quarto first, never Quarto only: ``run`` uses this module whenever
``shutil.which("quarto")`` finds the binary, else ``render_builtin``.

The notebook has already been executed by papermill, so Quarto must not run it
again: every call passes ``--no-execute`` and Quarto renders the stored outputs.
The document options come from the notebook's raw first cell (front matter:
``title``, ``format``, ``execute: echo: false``), the same cell the built-in renderer
reads. Per format::

    quarto render <stem>.ipynb --no-execute --to html -M embed-resources:true
    quarto render <stem>.ipynb --no-execute --to typst      # PDF via Quarto's bundled Typst

(``--to pdf`` would need a LaTeX install; ``pdf_engine="latex"`` selects it.)

Each render runs in a fresh temporary folder holding a copy of the notebook (and of
``reports/_quarto.yml`` and ``reports/templates`` when present, so the shared options
apply), with ``--output-dir`` set to a folder inside it. Success means exit code 0
**and** the expected output file exists; the file is then moved into place
atomically. Anything else raises ``QuartoRenderError`` with Quarto's stderr.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

from csc_outcomes import atomic
from csc_outcomes.paths import reports_project_dir


class QuartoRenderError(RuntimeError):
    """Quarto exited non-zero or did not write the expected output file."""


def quarto_path() -> str | None:
    """The ``quarto`` binary on PATH, or None."""
    return shutil.which("quarto")


def quarto_version() -> str | None:
    """``quarto --version``, or None without Quarto."""
    exe = quarto_path()
    if not exe:
        return None
    try:
        return subprocess.run([exe, "--version"], capture_output=True, text=True,
                              timeout=60, check=False).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def quarto_command(notebook_name: str, fmt: str, output_dir: str = "_out", *,
                   pdf_engine: str = "typst", quarto: str = "quarto") -> tuple[list[str], str]:
    """The command line for one format and the output file name it must produce."""
    stem = Path(notebook_name).stem
    if fmt == "html":
        cmd = [quarto, "render", notebook_name, "--no-execute", "--to", "html",
               "--output-dir", output_dir, "-M", "embed-resources:true"]
        return cmd, f"{stem}.html"
    if fmt == "pdf":
        to = "typst" if pdf_engine == "typst" else "pdf"
        cmd = [quarto, "render", notebook_name, "--no-execute", "--to", to,
               "--output-dir", output_dir]
        return cmd, f"{stem}.pdf"
    raise QuartoRenderError(f"unknown format {fmt!r} (html or pdf)")


def render(executed: str | Path, out_dir: str | Path, stem: str,
           formats: Sequence[str] = ("html",), *,
           project_dir: str | Path | None = None, pdf_engine: str = "typst",
           timeout: int = 600) -> dict[str, Path]:
    """Render ``executed`` with Quarto to ``out_dir/<stem>.<fmt>``; returns {format: path}."""
    exe = quarto_path()
    if not exe:
        raise QuartoRenderError("quarto is not on PATH")
    executed, out_dir = Path(executed), Path(out_dir)
    project = Path(project_dir) if project_dir else reports_project_dir()
    results: dict[str, Path] = {}
    with tempfile.TemporaryDirectory(prefix="csc-quarto-") as tmp:
        work = Path(tmp)
        nb_name = f"{stem}.ipynb"
        _copy_project(executed, work / nb_name, project)
        for fmt in formats:
            produced = _run_quarto(exe, work, nb_name, fmt, executed, pdf_engine=pdf_engine,
                                   timeout=timeout)
            target = out_dir / f"{stem}.{fmt}"
            with atomic.atomic_path(target) as part:
                shutil.copyfile(produced, part)
            results[fmt] = target
    return results


def _copy_project(executed: Path, notebook: Path, project: Path) -> None:
    """The executed notebook, ``_quarto.yml`` and ``templates/`` into the work folder."""
    work = notebook.parent
    shutil.copy2(executed, notebook)
    if (project / "_quarto.yml").is_file():
        shutil.copy2(project / "_quarto.yml", work / "_quarto.yml")
    if (project / "templates").is_dir():
        shutil.copytree(project / "templates", work / "templates")


def _run_quarto(exe: str, work: Path, nb_name: str, fmt: str, executed: Path, *,
                pdf_engine: str, timeout: int) -> Path:
    """Run Quarto for one format in ``work``; the file it wrote, or ``QuartoRenderError``."""
    cmd, produced = quarto_command(nb_name, fmt, "_out", pdf_engine=pdf_engine, quarto=exe)
    proc = subprocess.run(cmd, cwd=work, capture_output=True, text=True, timeout=timeout,
                          check=False)
    candidates = [work / "_out" / produced, work / produced]
    found = next((c for c in candidates if c.is_file() and c.stat().st_size > 0), None)
    if proc.returncode != 0 or found is None:
        why = (f"exit code {proc.returncode}" if proc.returncode != 0
               else f"no output file {produced}")
        raise QuartoRenderError(
            f"quarto render of {executed} to {fmt} failed ({why}).\n"
            f"command: {' '.join(cmd)}\n{(proc.stderr or proc.stdout)[-3000:]}")
    return found
