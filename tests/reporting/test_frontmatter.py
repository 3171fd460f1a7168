"""Front matter in the raw first cell, read the same way by both renderers."""

import nbformat
import pytest

from csc_outcomes.paths import notebooks_dir
from csc_outcomes.reporting import frontmatter as fm
from csc_outcomes.reporting.config import DEFAULT_NOTEBOOKS


def nb_with(first_cell):
    nb = nbformat.v4.new_notebook()
    nb.cells = [first_cell, nbformat.v4.new_code_cell("x = 1")]
    return nb


def test_reads_title_format_and_echo():
    text = "---\ntitle: \"Re-referrals\"\nformat:\n  html:\n    embed-resources: true\nexecute:\n  echo: false\n---\n"
    front = fm.read_front_matter(nb_with(nbformat.v4.new_raw_cell(text)))
    assert front["title"] == "Re-referrals"
    assert front["format"]["html"]["embed-resources"] is True
    assert fm.echo_enabled(front) is False


def test_absent_front_matter_is_empty():
    assert fm.read_front_matter(nb_with(nbformat.v4.new_markdown_cell("---\ntitle: x\n---"))) == {}
    assert fm.read_front_matter(nb_with(nbformat.v4.new_raw_cell("just raw text"))) == {}
    assert fm.title_of(nb_with(nbformat.v4.new_raw_cell("no")), default="Fallback") == "Fallback"


def test_invalid_yaml_raises_clearly():
    with pytest.raises(fm.FrontMatterError, match="not valid YAML"):
        fm.read_front_matter(nb_with(nbformat.v4.new_raw_cell("---\ntitle: [unclosed\n---")))
    with pytest.raises(fm.FrontMatterError, match="mapping"):
        fm.parse_front_matter("---\n- a list\n---")


def test_update_and_strip_round_trip(tmp_path):
    nb = nb_with(nbformat.v4.new_raw_cell("---\ntitle: T\n---"))
    fm.update_front_matter(nb, subtitle="SYN01, year ending 31 March 2026", ignored=None)
    path = tmp_path / "n.ipynb"
    nbformat.write(nb, str(path))
    front = fm.read_front_matter(path)
    assert front == {"title": "T", "subtitle": "SYN01, year ending 31 March 2026"}
    stripped = fm.strip_front_matter(nb)
    assert len(stripped.cells) == 1 and stripped.cells[0].cell_type == "code"
    assert len(nb.cells) == 2  # the original is untouched


def test_set_front_matter_creates_cell():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("1")]
    fm.set_front_matter(nb, {"title": "New"})
    assert nb.cells[0].cell_type == "raw" and fm.title_of(nb) == "New"


def test_shipped_notebooks_have_front_matter():
    for name in DEFAULT_NOTEBOOKS:
        path = notebooks_dir() / f"{name}.ipynb"
        nb = nbformat.read(str(path), as_version=4)
        front = fm.read_front_matter(nb)
        assert front.get("title"), name
        assert front["execute"]["echo"] is False, name
        params = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
        assert len(params) == 1, name
        for p in ("la_code", "period_end", "warehouse", "measures_path", "output_dir"):
            assert p in params[0].source, (name, p)
        assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), \
            f"{name} is committed with outputs"
