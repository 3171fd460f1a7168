"""The text each kind of published file holds, for the leak scan to read.

HTML, SVG, CSV, JSON, Markdown and any other text file: the whole text (attributes,
comments and inline SVG included; :mod:`leak_text` decodes entities and payloads).
Notebooks: every cell's source and every output that is not a raster image (stream
text, HTML, JSON, SVG, tracebacks). PDF: each page's text and the document's metadata,
through ``pypdf``. Office files (``.xlsx``, ``.docx``, ``.pptx``, OpenDocument): the text
of every XML part of the zip, a line per row or paragraph; ``.xlsx`` cells also through
``python-calamine`` (the Rust calamine reader: 0.6 s against ``openpyxl``'s 4.9-7.3 s for
13 of a national run's workbooks, the same text), so that a date typed as a date is seen
as one. A sheet spanning more than ``MAX_SHEET_CELLS`` cells is not read cell by cell
(calamine builds the whole grid): it is unscannable.

What cannot be read is said, never skipped silently: a damaged PDF, an ``.xlsx``
whose cells cannot be read, a binary file of another kind each give a reason, which the
scan reports as ``unscannable`` (the file must not be published unread). Raster images
and fonts are skipped by design: a chart's pixels cannot be scanned, so charts only
ever receive aggregate frames.
"""

from __future__ import annotations

import datetime as dt
import functools
import importlib.util
import json
import re
import zipfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import mistune
from pypdf import PdfReader

from csc_outcomes.reporting.render_builtin import REMOVE_CELL_TAGS, REMOVE_OUTPUT_TAGS

__all__ = ["IMAGE_SUFFIXES", "FileTexts", "file_texts", "shown_html"]

#: Files holding pixels or glyphs only, skipped (when they are binary, as such files are).
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".gif", ".webp", ".bmp", ".tif", ".tiff",
                            ".ico", ".avif", ".woff", ".woff2", ".ttf", ".otf", ".eot"})
_OFFICE_SUFFIXES = frozenset({".xlsx", ".xlsm", ".docx", ".pptx", ".odt", ".ods", ".odp"})

_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|(-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)')
#: Markdown to HTML, tables included (mistune: what nbconvert renders Markdown with).
_MARKDOWN = mistune.create_markdown(plugins=["table"])
#: Why an .xlsx cannot be read fully without python-calamine.
NO_CALAMINE = ("python-calamine is not installed, so its cells (dates typed as dates among "
               "them) cannot be read; install python-calamine to publish .xlsx files")
#: Where an Office XML part's rows and paragraphs start (spreadsheet, word processor,
#: presentation, OpenDocument): each begins a line of its text. A sheet is written as one
#: line of megabytes, which the scan read as one (5 of the 9 s of 12 national workbooks,
#: and no row could be remembered: ``leak_text.seen_line_hits``). A break before a tag
#: joins or splits no word, number, date or payload (none runs into a ``<``); a date is
#: "next to an identifier" within its row or paragraph, as in the cells' text.
_XML_LINE_START = re.compile(r"(?=<(?:row|w:p|a:p|text:p|table:table-row)[\s>/])")
#: (location, text) pairs a file holds, and reasons why parts of it cannot be read.
FileTexts = tuple[list[tuple[str, str]], list[str]]


def file_texts(path: Path) -> FileTexts:
    """The texts of one file, read the way its kind needs, and what could not be read."""
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        return pdf_texts(path)
    if suffix in _OFFICE_SUFFIXES:
        return office_texts(path)
    raw = path.read_bytes()
    if b"\x00" in raw[:4096]:
        if suffix in IMAGE_SUFFIXES:
            return [], []
        return [], [f"a binary {suffix or 'file'} the scan cannot read"]
    text = raw.decode("utf-8", errors="replace")
    if suffix in {".ipynb", ".json"}:
        try:
            data = json.loads(text)
        except json.JSONDecodeError:
            return [("", text)], []  # not valid JSON: read as plain text
        return (notebook_texts(data) if suffix == ".ipynb"
                else [("", without_json_numbers(text))]), []
    return [("", text)], []


def without_json_numbers(text: str) -> str:
    """Valid JSON with its number values blanked (strings and keys kept, lines unchanged).

    A JSON number is a quantity (a file's size, a count, a time), not an identifier:
    read as one, a file size of 1234567 bytes would match a child numbered 1234567.
    """
    return _JSON_TOKEN.sub(lambda m: m.group(0) if m.group(1) is None else " " * len(m.group(1)),
                           text)


def pdf_texts(path: Path) -> FileTexts:
    """Each page's text (``pdf page N``) and the metadata; a PDF ``pypdf`` cannot read
    gives a reason instead."""
    try:
        reader = PdfReader(str(path))
        texts = [(f"pdf page {n}", page.extract_text() or "")
                 for n, page in enumerate(reader.pages, start=1)]
        meta: Mapping[str, Any] = reader.metadata or {}
    except Exception as exc:  # noqa: BLE001 - any damaged PDF: reported as unscannable
        return [], [f"a PDF pypdf cannot read ({type(exc).__name__}: {exc})"]
    texts.append(("pdf metadata", "\n".join(str(v) for v in meta.values())))
    return texts, []


#: A sheet's page header or footer, and the codes in it (``&C`` centre, ``&P`` page,
#: ``&"Arial,Bold"`` font, ``&12`` size, ``&KFF0000`` colour), which run into the text
#: after them: ``&CC1000001`` holds no whole word ``C1000001`` until they are spaced out.
_HEADER_FOOTER = re.compile(r"<(odd|even|first)(Header|Footer)>(.*?)</\1\2>", re.DOTALL)
_HEADER_CODE = re.compile(r'&amp;(?:&quot;.*?&quot;|"[^"]*"|K[0-9A-Fa-f]{6}|[0-9]+|[A-Za-z])')


def part_text(xml: str) -> str:
    """An Office part's text as the scan reads it: a row or paragraph to a line, and the
    codes of a sheet's page headers and footers replaced by spaces."""
    xml = _HEADER_FOOTER.sub(lambda m: m.group(0).replace(m.group(3), _HEADER_CODE.sub(
        " ", m.group(3))), xml) if "Header>" in xml or "Footer>" in xml else xml
    return _XML_LINE_START.sub("\n", xml)


def office_texts(path: Path) -> FileTexts:
    """The XML parts of an Office or OpenDocument file, and ``.xlsx`` cells via calamine."""
    try:
        with zipfile.ZipFile(path) as zf:
            texts = [(name, part_text(zf.read(name).decode("utf-8", errors="replace")))
                     for name in zf.namelist() if name.endswith((".xml", ".rels"))]
    except Exception as exc:  # noqa: BLE001 - any damaged zip (bad deflate, encrypted part)
        return [], [f"a damaged {path.suffix} file ({type(exc).__name__}: {exc})"]
    if path.suffix.lower() not in {".xlsx", ".xlsm"}:
        return texts, []
    # a dependency of the kit, but a file it cannot read must be said, not skipped
    if importlib.util.find_spec("python_calamine") is None:
        return texts, [NO_CALAMINE]
    too_wide = oversized_sheets(texts)
    if too_wide:
        return texts, too_wide
    cells, unreadable = workbook_texts(path)
    return texts + cells, unreadable


#: The most cells (rows x columns spanned) a sheet's cells are read in: calamine builds
#: the whole grid, so one cell at XFD1048576 asked it for 550 GB and aborted the process.
MAX_SHEET_CELLS = 5_000_000
_CELL_REF = re.compile(r'<c\b[^>]*?\br="([A-Z]{1,3})([0-9]{1,7})"')
_ROW_NUMBER = re.compile(r'<row\b[^>]*?\br="([0-9]{1,7})"')
_CELL_TAG = re.compile(r"<c[\s>/]")


def oversized_sheets(parts: list[tuple[str, str]]) -> list[str]:
    """Why each worksheet among an .xlsx's XML ``parts`` is too large to read cell by cell."""
    return [f"sheet {name} spans {rows:,} rows x {cols:,} columns, more than "
            f"{MAX_SHEET_CELLS:,} cells to read one by one; keep a published sheet's cells "
            "together" for name, text in parts if name.startswith("xl/worksheets/")
            for rows, cols in [sheet_span(text)] if rows * cols > MAX_SHEET_CELLS]


def sheet_span(xml: str) -> tuple[int, int]:
    """(rows, columns) a sheet's XML spans from A1: the largest row and column its cells'
    and rows' references name, or, where they name none, how many rows and cells a row
    there are (``xml`` a row to a line, as ``office_texts`` reads it)."""
    numbered = _ROW_NUMBER.findall(xml)
    rows = max([len(numbered), *(int(r) for r in numbered)])
    cols = max((len(_CELL_TAG.findall(line)) for line in xml.splitlines()), default=0)
    for letters, row in _CELL_REF.findall(xml):
        rows = max(rows, int(row))
        cols = max(cols, functools.reduce(lambda n, ch: n * 26 + ord(ch) - 64, letters, 0))
    return rows, cols


def workbook_texts(path: Path) -> FileTexts:
    """One text per sheet: its title, then each row's cells (values as last calculated),
    tab-separated, dates as ISO; or why its cells cannot be read (a damaged part, no
    sheet at all)."""
    from python_calamine import CalamineError, CalamineWorkbook  # noqa: PLC0415 - checked first

    try:
        book = CalamineWorkbook.from_path(str(path))
        try:
            if not book.sheet_names:
                return [], ["a workbook whose cells cannot be read (no sheet found)"]
            return [(f"sheet {name}", "\n".join(
                [name, *("\t".join(_cell_text(v) for v in row) for row in
                         book.get_sheet_by_name(name).to_python(skip_empty_area=False))]))
                    for name in book.sheet_names], []
        finally:
            book.close()
    except CalamineError as exc:
        return [], [f"a workbook whose cells cannot be read ({type(exc).__name__}: {exc})"]


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()[:10]
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _joined(x: Any) -> str:
    return "".join(x) if isinstance(x, list) else str(x)


def notebook_texts(nb: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(location, text) for every cell source and every output but raster images."""
    out: list[tuple[str, str]] = []
    for n, cell in enumerate(nb.get("cells", []), start=1):
        out.append((f"cell {n} source", _joined(cell.get("source", ""))))
        for k, output in enumerate(cell.get("outputs", []) or [], start=1):
            out.extend(output_texts(f"cell {n} output {k}", output))
    return out


def output_texts(where: str, output: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(location, text) of one output: stream text, every non-raster mime type, traceback."""
    out: list[tuple[str, str]] = []
    if "text" in output:
        out.append((where, _joined(output["text"])))
    for mime, data in (output.get("data") or {}).items():
        if mime.startswith("image/") and not mime.startswith("image/svg"):
            continue  # pixels: cannot be scanned (charts get aggregate frames only)
        text = json.dumps(data) if isinstance(data, dict) else _joined(data)
        out.append((f"{where} {mime}", text))
    if "traceback" in output:
        out.append((f"{where} traceback", "\n".join(output["traceback"])))
    return out


def shown_html(cell: Mapping[str, Any]) -> Iterator[str]:
    """What a notebook cell shows, as HTML: its outputs' HTML and Markdown (a Markdown
    table is a table in a PDF too), or its own Markdown; nothing of a cell or an output
    the render removes by tag (``render_builtin``)."""
    tags = set(cell.get("metadata", {}).get("tags", []))
    if tags & REMOVE_CELL_TAGS:
        return
    if cell.get("cell_type") == "markdown":
        yield markdown_html(_joined(cell.get("source", "")))
    if tags & REMOVE_OUTPUT_TAGS:
        return
    for output in cell.get("outputs", []):
        data = output.get("data", {})
        if "text/html" in data:
            yield _joined(data["text/html"])
        if "text/markdown" in data:
            yield markdown_html(_joined(data["text/markdown"]))


def markdown_html(text: str) -> str:
    """Markdown as HTML, its tables as tables."""
    return str(_MARKDOWN(text))
