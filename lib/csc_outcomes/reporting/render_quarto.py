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

Each render runs in a fresh temporary folder holding the notebook prepared for that
format (``quarto_notebook``), ``reports/_quarto.yml`` and ``reports/templates`` when
present (so the shared options apply) and ``footer.html``, with ``--output-dir`` set to
a folder inside it. Success means exit code 0 **and** the expected output file exists;
the file is then moved into place atomically. Anything else raises
``QuartoRenderError`` with Quarto's stderr.

Parity with the built-in renderer, and no network:

- Quarto puts require.js and jQuery from a CDN into the page of any notebook with a
  ``text/html`` or ``application/javascript`` display output (its
  ``extractJupyterWidgetDependencies``: such outputs might be JavaScript widgets), and
  pandoc cannot embed them offline, so every report with a table contacted a third
  party when opened. The notebook Quarto sees has none: a table's HTML becomes a raw
  HTML block in a ``text/markdown`` output (PDF: a pandoc markdown table, as the
  built-in renderer writes it), and widget state in the metadata is dropped.
- The footer (disclosure note, PDF and index links, "produced by" line) is
  ``render_builtin.footer_html``, given to Quarto as ``include-after-body``; the PDF gets
  the same lines as a last paragraph.
- ``format-links: false``: Quarto linked "Other formats" that an HTML-only run never
  made; the footer links the PDF when the run produced one.
- ``minimal: true`` and the kit's CSS: no Bootstrap (1.3-1.5 MB a page, 13 times the
  leak scan's time, and its script contains the word "Error"); ``html-math-method:
  plain``: no MathJax from a CDN.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import nbformat

from csc_outcomes import atomic
from csc_outcomes.paths import reports_project_dir
from csc_outcomes.reporting import frontmatter, render_builtin

#: The file ``include-after-body`` names, written beside the notebook.
FOOTER_FILE = "footer.html"

#: Output types Quarto takes for JavaScript widgets (and then loads require.js and
#: jQuery from a CDN for): none may reach it.
WIDGET_MIME_TYPES = ("text/html", "application/javascript",
                     "application/vnd.jupyter.widget-view+json")


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


def renderer_version(renderer: str) -> str | None:
    """What the manifest records as the renderer's version: ``quarto <version>`` (None
    when Quarto does not answer), or the built-in renderer's tools."""
    if renderer == "quarto":
        version = quarto_version()
        return f"quarto {version}" if version else None
    return render_builtin.builtin_version()


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


def quarto_front_matter(front: dict[str, Any], fmt: str) -> dict[str, Any]:
    """The notebook's front matter as Quarto must see it for one format.

    Only that format is declared (a second one made Quarto link "Other formats" to a
    file the run may not produce), with the options the reports depend on, over the
    notebook's: see the module docstring. The look (CSS, margins) is in
    ``reports/_quarto.yml``.
    """
    out = {k: v for k, v in front.items() if k != "format"}
    if fmt == "html":
        options: dict[str, Any] = {"embed-resources": True, "minimal": True,
                                   "format-links": False, "html-math-method": "plain",
                                   "include-after-body": FOOTER_FILE}
        out["format"] = {"html": options}
    else:
        out["format"] = {"typst": "default"}  # the project's typst options
    return out


def html_outputs_as_markdown(nb: nbformat.NotebookNode) -> None:
    """Every HTML display output as a raw HTML block in a ``text/markdown`` output, in
    place: the same table on the page, and no output Quarto takes for a widget."""
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            h = data.get("text/html")
            if isinstance(h, list):
                h = "".join(h)
            if h:
                out["data"] = {"text/markdown": f"```{{=html}}\n{h}\n```\n"}
            for mime in WIDGET_MIME_TYPES:
                out.get("data", {}).pop(mime, None)


def quarto_notebook(executed: str | Path, fmt: str, *,
                    generated: str | None = None) -> nbformat.NotebookNode:
    """The executed notebook prepared for Quarto and one format.

    What a page never shows is dropped as for the built-in renderer
    (``render_builtin.prepare_notebook``); HTML outputs become markdown; the PDF ends
    with the footer's lines; the front matter is ``quarto_front_matter``.
    """
    nb, front = render_builtin.prepare_notebook(nbformat.read(str(executed), as_version=4))
    nb.metadata.pop("widgets", None)
    if fmt == "html":
        html_outputs_as_markdown(nb)
    else:
        render_builtin.tables_to_markdown(nb)
        nb.cells.append(nbformat.v4.new_markdown_cell(
            f"{render_builtin.DISCLOSURE_NOTE}\\\n{render_builtin.produced_by(generated)}"))
    return frontmatter.set_front_matter(nb, quarto_front_matter(front, fmt))


def render(executed: str | Path, out_dir: str | Path, stem: str,
           formats: Sequence[str] = ("html",), *,
           project_dir: str | Path | None = None, pdf_engine: str = "typst",
           timeout: int = 600, index_href: str | None = None) -> dict[str, Path]:
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
        _copy_project(work, project)
        (work / FOOTER_FILE).write_text(render_builtin.footer_html(
            index_href=index_href, pdf_href=f"{stem}.pdf" if "pdf" in formats else None),
            encoding="utf-8")
        for fmt in formats:
            _write_quarto_notebook(executed, fmt, work / nb_name)
            produced = _run_quarto(exe, work, nb_name, fmt, executed, pdf_engine=pdf_engine,
                                   timeout=timeout)
            target = out_dir / f"{stem}.{fmt}"
            with atomic.atomic_path(target) as part:
                shutil.copyfile(produced, part)
            results[fmt] = target
    return results


def _write_quarto_notebook(executed: Path, fmt: str, target: Path) -> None:
    """``quarto_notebook`` written for Quarto; an unreadable notebook is named."""
    try:
        nb = quarto_notebook(executed, fmt)
    except Exception as exc:
        raise QuartoRenderError(f"could not prepare {executed} for quarto ({fmt}): "
                                f"{type(exc).__name__}: {exc}") from exc
    nbformat.write(nb, str(target))


def _copy_project(work: Path, project: Path) -> None:
    """``_quarto.yml`` and ``templates/`` into the work folder."""
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
