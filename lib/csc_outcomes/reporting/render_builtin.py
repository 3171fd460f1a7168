"""The built-in renderer: used when Quarto is not on PATH.

HTML: nbconvert's ``HTMLExporter`` (``basic`` template, ``exclude_input=True``, no
prompts) renders the outputs and markdown; the page around them is
``reports/templates/report.html.j2`` with ``report.css`` inlined, so one self-contained
file per report with images embedded as data URIs.

PDF: nbconvert ``MarkdownExporter`` (input excluded; DataFrame HTML tables turned into
pipe tables first) -> pandoc (the binary bundled with ``pypandoc-binary``) to Typst with
``report.typ`` as the template -> the ``typst`` Python package compiles the PDF. Images
are written beside the markdown in a temporary folder and embedded by Typst.

Both read the title and options from the notebook's front matter (``frontmatter``).
What a published page never shows: code cells, the front-matter cell, stderr streams
(warnings carry file paths), error outputs (a run with an error never reaches render),
cells tagged ``remove-cell``, inputs tagged ``remove-input``, outputs tagged
``remove-output``.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import html
import importlib.metadata
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import jinja2
import nbconvert
import nbformat
import pypandoc
import typst
from nbconvert import HTMLExporter, MarkdownExporter

from csc_outcomes import __version__, atomic, paths
from csc_outcomes.reporting import frontmatter

REMOVE_CELL_TAGS = {"remove-cell", "remove_cell"}
REMOVE_INPUT_TAGS = {"remove-input", "remove_input", "hide-input"}
REMOVE_OUTPUT_TAGS = {"remove-output", "remove_output"}

_FALLBACK_PAGE = """<!DOCTYPE html><html lang="en-GB"><head><meta charset="utf-8">
<title>{{ title }}</title><style>{{ css }}</style></head><body><header><h1>{{ title }}</h1>
{% if subtitle %}<p>{{ subtitle }}</p>{% endif %}</header><main id="content">{{ body }}</main>
{{ footer }}</body></html>"""


#: The disclosure note every published page and PDF carries, whichever renderer made it.
DISCLOSURE_NOTE = ("Published figures are aggregates; values from 1 to 5 are suppressed "
                   "and shown as c.")

_FOOTER = jinja2.Environment(autoescape=True).from_string(
    "<footer>\n  <p>{{ note }}{% if pdf_href %} <a href=\"{{ pdf_href }}\">This report as PDF</a>."
    "{% endif %}{% if index_href %} <a href=\"{{ index_href }}\">All reports</a>.{% endif %}</p>\n"
    "  <p>{{ produced }}</p>\n</footer>\n")


class RenderError(RuntimeError):
    """Rendering failed; the message names the notebook and the format."""


def produced_by(generated: str | None = None) -> str:
    """The "produced by" line: the kit's version and the day the report was made."""
    day = generated or dt.datetime.now().strftime("%d %B %Y")
    return f"Produced by csc-outcomes {__version__} on {day}."


def footer_html(*, index_href: str | None = None, pdf_href: str | None = None,
                generated: str | None = None) -> str:
    """The page footer, the one source for both renderers (Quarto takes it as
    ``include-after-body``): disclosure note, PDF and index links, "produced by" line."""
    return _FOOTER.render(note=DISCLOSURE_NOTE, pdf_href=pdf_href, index_href=index_href,
                          produced=produced_by(generated))


def builtin_version() -> str:
    """The built-in renderer's tools and their versions, as the manifest records them."""
    return (f"builtin (nbconvert {nbconvert.__version__}, pandoc "
            f"{pypandoc.get_pandoc_version()}, typst {importlib.metadata.version('typst')})")


def templates_dir(explicit: str | Path | None = None) -> Path | None:
    """The template folder to use: ``explicit`` when given and present, else the repo's."""
    for cand in (explicit, paths.templates_dir()):
        if cand and Path(cand).is_dir():
            return Path(cand)
    return None


def _cell_fig_alt(cell: Any) -> str | None:
    """``#| fig-alt: ...`` (Quarto's cell option) in a code cell's first lines."""
    for line in cell.get("source", "").splitlines():
        m = re.match(r"\s*#\|\s*fig-alt:\s*(.+)", line)
        if m:
            return m.group(1).strip().strip("\"'")
        if not line.startswith("#|"):
            break
    return None


def prepare_notebook(nb: nbformat.NotebookNode) -> tuple[nbformat.NotebookNode, dict[str, Any]]:
    """A copy fit for publishing, and its front matter.

    Drops the front-matter cell, removed cells/outputs, stderr streams and error outputs;
    records each image's alt text (``#| fig-alt:``) in the output metadata.
    """
    front = frontmatter.read_front_matter(nb)
    nb = frontmatter.strip_front_matter(nb)
    cells = []
    for cell in nb.cells:
        tags = set(cell.get("metadata", {}).get("tags", []))
        if tags & REMOVE_CELL_TAGS:
            continue
        if cell.cell_type == "raw":
            continue
        if cell.cell_type == "code":
            if tags & REMOVE_OUTPUT_TAGS:
                cell.outputs = []
            alt = _cell_fig_alt(cell)
            kept = []
            for out in cell.get("outputs", []):
                if out.get("output_type") == "error":
                    continue
                if out.get("output_type") == "stream" and out.get("name") == "stderr":
                    continue
                if alt and "image/png" in out.get("data", {}):
                    out.setdefault("metadata", {}).setdefault("image/png", {})["alt"] = alt
                kept.append(out)
            cell.outputs = kept
        cells.append(cell)
    nb.cells = cells
    return nb, front


def _load_text(tdir: Path | None, name: str, fallback: str = "") -> str:
    """A template file's text, or ``fallback`` when the folder lacks it."""
    if tdir and (tdir / name).is_file():
        return (tdir / name).read_text(encoding="utf-8")
    return fallback


#: nbconvert's placeholder alt text, replaced by a real one
_NBCONVERT_ALT = re.compile(r'\salt="No description has been provided for this image"')


def _add_alt_text(body: str, default: str) -> str:
    """Give every ``<img>`` an alt attribute (nbconvert writes none for plain PNGs)."""
    def fix(m: re.Match[str]) -> str:
        tag = m.group(0)
        if re.search(r"\salt=", tag):
            return tag
        return tag[:-1].rstrip("/") + f' alt="{html.escape(default)}">'
    return re.sub(r"<img\b[^>]*>", fix, body)


def _alt_from_metadata(nb: nbformat.NotebookNode) -> list[str]:
    """Each PNG output's alt text, in order (``""`` where none was given)."""
    alts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if "image/png" in out.get("data", {}):
                alts.append(out.get("metadata", {}).get("image/png", {}).get("alt", ""))
    return alts


def _apply_alts(body: str, alts: list[str], default: str) -> str:
    """Give each embedded PNG, in order, its alt text (output metadata, ``#| fig-alt``)
    unless the tag already has one; any other image gets ``default``."""
    it = iter(alts)
    body = _NBCONVERT_ALT.sub("", body)

    def fix(m: re.Match[str]) -> str:
        tag = m.group(0)
        if "data:image/png" not in tag:
            return tag
        alt = next(it, "") or default
        if re.search(r"\salt=", tag):
            return tag
        return tag[:-1].rstrip("/") + f' alt="{html.escape(alt)}">'
    body = re.sub(r"<img\b[^>]*>", fix, body)
    return _add_alt_text(body, default)


@functools.cache
def html_exporter() -> HTMLExporter:
    """The exporter of report bodies, one per process: a new one compiles its Jinja
    templates again, 40% of each render's time (612 renders in a national run)."""
    return HTMLExporter(template_name="basic", exclude_input=True,
                        exclude_input_prompt=True, exclude_output_prompt=True)


def html_body(nb: nbformat.NotebookNode) -> str:
    """The body HTML of a prepared notebook: outputs and markdown, no code, no prompts."""
    body, _ = html_exporter().from_notebook_node(nb)
    # empty wrappers of code cells without outputs are noise
    body = re.sub(r'<div class="cell border-box-sizing code_cell rendered[^"]*"[^>]*>\s*</div>\s*',
                  "", body)
    return body


def render_html(executed: str | Path, out_path: str | Path, *, templates: str | Path | None = None,
                index_href: str | None = None, generated: str | None = None,
                pdf_href: str | None = None) -> Path:
    """Render an executed notebook to one self-contained HTML file at ``out_path``."""
    executed, out_path = Path(executed), Path(out_path)
    try:
        nb, front = prepare_notebook(nbformat.read(str(executed), as_version=4))
        body = html_body(nb)
        title = str(front.get("title") or executed.stem)
        body = _apply_alts(body, _alt_from_metadata(nb), f"Chart from the report {title}")
        tdir = templates_dir(templates)
        page = jinja2.Environment(autoescape=False).from_string(
            _load_text(tdir, "report.html.j2", _FALLBACK_PAGE))
        text = page.render(
            title=html.escape(title), subtitle=html.escape(str(front.get("subtitle") or "")),
            css=_load_text(tdir, "report.css"), body=body, version=__version__,
            footer=footer_html(index_href=index_href, pdf_href=pdf_href, generated=generated),
        )
    except Exception as exc:
        raise RenderError(f"HTML render of {executed} failed: {type(exc).__name__}: {exc}") from exc
    atomic.write_text(out_path, text)
    return out_path


#: pandoc's markdown, as written for tables and read back for the PDF: pipe or grid
#: tables (a cell with line breaks needs a grid table), captions as ``Table:`` lines.
_PANDOC_MARKDOWN = "markdown-raw_html-yaml_metadata_block-implicit_figures"


def table_html(h: str) -> str:
    """A DataFrame's HTML as pandoc should read it for a PDF: each column aligned as the
    page's CSS aligns it (text left, numbers right, written inline: pandoc reads no
    ``<style>``), without the ``<style>`` block and the element ids (pandas Styler's
    ``T_<uuid>``, which pandoc wrote into the caption as ``{#T_...}``)."""
    css = " ".join(re.findall(r"<style.*?</style>", h, flags=re.DOTALL))
    left = {int(k) for rule in re.findall(r"([^{}]*)\{[^}]*text-align:\s*left", css)
            for k in re.findall(r"col(\d+)", rule)}

    def align(m: re.Match[str]) -> str:
        tag = m.group(0)
        found = re.search(r'class="([^"]*)"', tag)
        classes = set(found.group(1).split()) if found else set()
        col = next((int(c[3:]) for c in classes if re.fullmatch(r"col\d+", c)), None)
        if col is None or not classes & {"data", "col_heading"} or "style=" in tag:
            return tag
        return tag[:-1].rstrip() + f' style="text-align: {"left" if col in left else "right"}">'
    h = re.sub(r"<t[dh]\b[^>]*>", align, re.sub(r"<style.*?</style>", "", h, flags=re.DOTALL))
    return re.sub(r'\sid="[^"]*"', "", h)


def tables_to_markdown(nb: nbformat.NotebookNode) -> None:
    """Swap DataFrame HTML outputs for pandoc markdown tables (pandoc cannot read raw
    HTML tables inside markdown into tables), in place; captions stay table captions."""
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            h = out.get("data", {}).get("text/html")
            if isinstance(h, list):
                h = "".join(h)
            if h and "<table" in h:
                md = pypandoc.convert_text(table_html(h), _PANDOC_MARKDOWN, format="html",
                                           extra_args=["--wrap=none"])
                out["data"] = {"text/markdown": md}


def pdf_metadata(front: dict[str, Any], fallback_title: str,
                 generated: str | None = None) -> list[str]:
    """pandoc ``-M`` arguments: title, subtitle (LA and period, ``stages.add_subtitles``:
    the PDF's /Subject), author (the front matter's, else the kit), and the footer's
    disclosure note and "produced by" line (the same text as the HTML's footer)."""
    meta = {"title": str(front.get("title") or fallback_title),
            "subtitle": str(front.get("subtitle") or ""),
            "author": str(front.get("author") or "csc-outcomes"),
            "disclosure": DISCLOSURE_NOTE, "produced": produced_by(generated)}
    return [arg for key, value in meta.items() if value for arg in ("-M", f"{key}={value}")]


def render_pdf(executed: str | Path, out_path: str | Path, *,
               templates: str | Path | None = None) -> Path:
    """Render an executed notebook to PDF (markdown -> pandoc -> Typst -> PDF)."""
    executed, out_path = Path(executed), Path(out_path)
    try:
        nb, front = prepare_notebook(nbformat.read(str(executed), as_version=4))
        tables_to_markdown(nb)
        md, resources = MarkdownExporter(exclude_input=True).from_notebook_node(nb)
        with tempfile.TemporaryDirectory(prefix="csc-pdf-") as tmp:
            tmpd = Path(tmp)
            for name, data in (resources.get("outputs") or {}).items():
                (tmpd / name).write_bytes(data if isinstance(data, bytes)
                                          else base64.b64decode(data))
            (tmpd / "report.md").write_text(md, encoding="utf-8")
            args = ["--standalone", "--wrap=none", *pdf_metadata(front, executed.stem)]
            tdir = templates_dir(templates)
            if tdir and (tdir / "report.typ").is_file():
                args += ["--template", str(tdir / "report.typ")]
            pypandoc.convert_file(str(tmpd / "report.md"), "typst",
                                  format=_PANDOC_MARKDOWN,
                                  outputfile=str(tmpd / "report.typ"), extra_args=args)
            pdf = typst.compile(str(tmpd / "report.typ"), root=str(tmpd))
    except Exception as exc:
        raise RenderError(f"PDF render of {executed} failed: {type(exc).__name__}: {exc}") from exc
    if not pdf.startswith(b"%PDF"):
        raise RenderError(f"PDF render of {executed} gave no PDF")
    atomic.write_bytes(out_path, pdf)
    return out_path


def render(executed: str | Path, out_dir: str | Path, stem: str,
           formats: Sequence[str] = ("html",), *,
           templates: str | Path | None = None, index_href: str | None = None) -> dict[str, Path]:
    """Render to ``out_dir/<stem>.<fmt>`` for each format; returns {format: path}."""
    out = {}
    for fmt in formats:
        target = Path(out_dir) / f"{stem}.{fmt}"
        if fmt == "html":
            out[fmt] = render_html(executed, target, templates=templates, index_href=index_href,
                                   pdf_href=f"{stem}.pdf" if "pdf" in formats else None)
        elif fmt == "pdf":
            out[fmt] = render_pdf(executed, target, templates=templates)
        else:
            raise RenderError(f"unknown format {fmt!r} (html or pdf)")
    return out

