"""The incomplete-data banner: the first thing on every page of an incomplete period.

A run allowed to publish a period the loaded returns do not fully cover
(``RunConfig.allow_incomplete``; the text is ``PeriodCheck.banner``) must say so on
every page it publishes, whatever renders it. So the banner is not a template's job:
it is written into each executed notebook as its first content cell, a markdown
quotation right after the front matter. The built-in HTML and PDF renderers and
Quarto (HTML and Typst) all render markdown cells, so each shows it at the top of the
page, and a notebook, renderer or format added later cannot leave it out.
"""

from __future__ import annotations

import nbformat

from csc_outcomes.reporting import frontmatter

#: The tag of the banner cell (a notebook gets one banner, however often it is added).
BANNER_TAG = "incomplete-data-banner"


def banner_markdown(text: str) -> str:
    """The banner as markdown every renderer draws as a highlighted block."""
    head, _, rest = text.partition(": ")
    return f"> **{head}.** {rest}" if rest else f"> **{text}**"


def add_banner(nb: nbformat.NotebookNode, text: str) -> nbformat.NotebookNode:
    """Put the banner first in ``nb`` (after the front matter), in place; return ``nb``."""
    nb.cells = [c for c in nb.cells if BANNER_TAG not in c.get("metadata", {}).get("tags", [])]
    cell = nbformat.v4.new_markdown_cell(banner_markdown(text), metadata={"tags": [BANNER_TAG]})
    at = 0 if frontmatter.front_matter_cell_index(nb) is None else 1
    nb.cells.insert(at, cell)
    return nb
