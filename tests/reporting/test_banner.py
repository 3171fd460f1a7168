"""The incomplete-data banner: on every page of a period the returns do not cover, in
every renderer and format (finding 7: such a period was published with only a console
warning)."""

from __future__ import annotations

import nbformat
import pypdf
import pytest

from csc_outcomes.reporting import frontmatter
from csc_outcomes.reporting.banner import BANNER_TAG, add_banner, banner_markdown
from csc_outcomes.reporting.run import run

from conftest import make_measures, make_notebook, tiny_config

#: A notebook printing no small number (its measures are computed from the warehouse).
PLAIN = [
    ("markdown", "## Context\n\nA plain report."),
    ("code", ("import pandas as pd\nm = pd.read_csv(measures_path, dtype={'la_code': str})\n"
              "mine = m[(m.la_code == la_code) & (m.period_end == period_end)]\n"
              "print(f'{len(mine)} measures for {la_code}')")),
]
TEXT = "Incomplete data: the period ending 2026-04-30 runs past the returns of X1"


def test_banner_is_the_first_cell_after_the_front_matter_once():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Body")]
    frontmatter.set_front_matter(nb, {"title": "T"})
    add_banner(nb, TEXT)
    add_banner(nb, TEXT)  # a second call replaces, never stacks
    assert [c.cell_type for c in nb.cells] == ["raw", "markdown", "markdown"]
    assert nb.cells[1].metadata["tags"] == [BANNER_TAG]
    assert nb.cells[1].source == banner_markdown(TEXT)
    assert banner_markdown(TEXT).startswith("> **Incomplete data.** the period ending")


@pytest.mark.slow
def test_allow_incomplete_puts_the_banner_on_every_page(tiny_setup, tmp_path):
    make_notebook(tmp_path / "notebooks", "plain", PLAIN)
    config = tiny_config(tiny_setup, tmp_path, ["SYN01"], period_end="2026-04-30",
                         measures_path=make_measures(tmp_path / "data" / "m.csv"),
                         notebooks=("plain",), notebooks_dir=tmp_path / "notebooks",
                         formats=("html", "pdf"), allow_incomplete=True)
    result = run(config)
    pages = sorted(p for p in (tmp_path / "reports").rglob("*.*")
                   if p.suffix in (".html", ".pdf"))
    names = [p.relative_to(tmp_path / "reports").as_posix() for p in pages]
    assert names == ["2026-04-30/SYN01/plain.html", "2026-04-30/SYN01/plain.pdf", "index.html"]
    wanted = "SYN01 (latest return: year ending 31 March 2026)"
    for page in pages:
        if page.suffix == ".pdf":
            text = " ".join(pypdf.PdfReader(str(page)).pages[0].extract_text().split())
        else:
            text = " ".join(page.read_text(encoding="utf-8").split())
        assert "Incomplete data" in text and wanted in text, page
    # the report pages show it before their content; Quarto renders the same cell
    html = (tmp_path / "reports" / "2026-04-30" / "SYN01" / "plain.html").read_text()
    assert html.index("Incomplete data") < html.index("A plain report")
    executed = nbformat.read(str(tmp_path / "restricted" / "2026-04-30" / "SYN01" / "plain.ipynb"),
                             as_version=4)
    assert executed.cells[1].metadata["tags"] == [BANNER_TAG]
    assert result.manifest_path is not None
