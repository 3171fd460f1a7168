"""Front matter: YAML in a notebook's raw first cell, read by both renderers.

Quarto reads a notebook's document options (title, format, ``execute: echo: false``)
from a *raw* first cell holding a YAML block between ``---`` lines. The built-in
renderer reads the same cell, so one notebook drives both. Example::

    ---
    title: "Re-referrals"
    format:
      html:
        embed-resources: true
    execute:
      echo: false
    ---
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import nbformat
import yaml

_FENCE = "---"


class FrontMatterError(ValueError):
    """The raw first cell looks like front matter but is not valid YAML."""


def _as_notebook(nb_or_path: Any) -> nbformat.NotebookNode:
    if isinstance(nb_or_path, (str, Path)):
        return nbformat.read(str(nb_or_path), as_version=4)
    return nb_or_path


def _split(source: str) -> str | None:
    """The YAML text between the fences, or None when the text is not front matter."""
    lines = source.strip("\ufeff").strip().splitlines()
    if len(lines) < 2 or lines[0].strip() != _FENCE:
        return None
    for i in range(1, len(lines)):
        if lines[i].strip() in (_FENCE, "..."):
            return "\n".join(lines[1:i])
    return None


def front_matter_cell_index(nb: nbformat.NotebookNode) -> int | None:
    """Index of the front-matter cell (the first cell, raw, fenced by ``---``) or None."""
    if not nb.cells:
        return None
    cell = nb.cells[0]
    if cell.cell_type != "raw" or _split(cell.source) is None:
        return None
    return 0


def parse_front_matter(text: str) -> dict[str, Any]:
    """Parse a fenced YAML block; ``{}`` when the text has no front matter."""
    body = _split(text)
    if body is None:
        return {}
    try:
        data = yaml.safe_load(body) or {}
    except yaml.YAMLError as exc:
        raise FrontMatterError(f"front matter is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise FrontMatterError("front matter must be a YAML mapping (key: value lines)")
    return data


def read_front_matter(nb_or_path: Any) -> dict[str, Any]:
    """The front matter of a notebook (object or path) as a dict; ``{}`` when absent."""
    nb = _as_notebook(nb_or_path)
    idx = front_matter_cell_index(nb)
    return {} if idx is None else parse_front_matter(nb.cells[idx].source)


def dump_front_matter(data: dict[str, Any]) -> str:
    """A fenced YAML block for ``data`` (keys kept in order)."""
    body = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, default_flow_style=False)
    return f"{_FENCE}\n{body}{_FENCE}"


def set_front_matter(nb: nbformat.NotebookNode, data: dict[str, Any]) -> nbformat.NotebookNode:
    """Write ``data`` as the notebook's front matter (in place; creates the raw cell)."""
    text = dump_front_matter(data)
    idx = front_matter_cell_index(nb)
    if idx is None:
        nb.cells.insert(0, nbformat.v4.new_raw_cell(text))
    else:
        nb.cells[idx].source = text
    return nb


def update_front_matter(nb: nbformat.NotebookNode, **changes: Any) -> nbformat.NotebookNode:
    """Merge ``changes`` into the front matter (in place); ``None`` values are skipped."""
    data = read_front_matter(nb)
    data.update({k: v for k, v in changes.items() if v is not None})
    return set_front_matter(nb, data)


def strip_front_matter(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of the notebook without its front-matter cell."""
    out = copy.deepcopy(nb)
    if front_matter_cell_index(out) is not None:
        out.cells.pop(0)
    return out


def title_of(nb_or_path: Any, default: str = "Report") -> str:
    """The front matter's ``title``, else ``default``."""
    return str(read_front_matter(nb_or_path).get("title") or default)


def echo_enabled(front: dict[str, Any]) -> bool:
    """Whether code should be shown (Quarto's ``execute: echo``; default here: hidden)."""
    execute = front.get("execute") or {}
    return bool(execute.get("echo", False)) if isinstance(execute, dict) else False
