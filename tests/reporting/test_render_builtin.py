"""The built-in renderer: HTML without code or tracebacks, PDF via pandoc and Typst."""

import re
import time

import nbformat
import pandas as pd
import pytest

from csc_outcomes.reporting import context as ctx
from csc_outcomes.reporting import render_builtin

from conftest import PERIOD

#: What a page shows when a cell's error or stderr reached it (not the word "Error": a
#: page's own script may contain it).
ERROR_MARKERS = ("Traceback", "output_error", "application/vnd.jupyter.stderr",
                 "cell-output-error", "cell-output-stderr", "An Exception was encountered")


@pytest.fixture(scope="module")
def executed(tiny_run):
    _, out = tiny_run
    return out / "restricted" / PERIOD / "SYN01" / "tiny.ipynb"


def test_html_has_chart_table_and_no_code(tiny_run):
    _, out = tiny_run
    html = (out / "reports" / PERIOD / "SYN01" / "tiny.html").read_text()
    assert "<img" in html and "data:image/png;base64," in html
    assert "<table" in html
    assert not [m for m in ERROR_MARKERS if m in html]
    # no code input: neither the parameters nor the plotting code
    assert "plt.subplots" not in html and "read_csv" not in html
    assert 'class="input' not in html and "jp-InputArea" not in html and "In&nbsp;[" not in html
    # front matter used, not shown as text
    assert "<title>Tiny report: Synthetia (SYN01)" in html
    assert "embed-resources" not in html
    # stderr (warnings with file paths) is not published
    assert "must not be published" not in html
    # every image has alt text, from #| fig-alt
    assert re.findall(r"<img[^>]*alt=\"Bar chart of the measures\"", html)
    assert 'lang="en-GB"' in html


def test_render_html_directly(executed, tmp_path):
    t = time.perf_counter()
    out = render_builtin.render_html(executed, tmp_path / "r.html")
    assert time.perf_counter() - t < 10
    assert out.read_text().count("<img") == 1


def test_pdf_is_a_pdf(tiny_run, executed, tmp_path):
    _, out = tiny_run
    pdf = out / "reports" / PERIOD / "SYN01" / "tiny.pdf"
    assert pdf.read_bytes().startswith(b"%PDF")
    direct = render_builtin.render_pdf(executed, tmp_path / "r.pdf")
    assert direct.read_bytes()[:4] == b"%PDF"
    pypdf = pytest.importorskip("pypdf", reason="pypdf reads the PDF's text")
    text = pypdf.PdfReader(str(direct)).pages[0].extract_text()
    assert "Tiny report" in text and "rereferrals_within_12m" in text
    assert "Traceback" not in text and "plt.subplots" not in text
    assert len(pypdf.PdfReader(str(direct)).pages[0].images) == 1


def test_render_errors_name_the_notebook(tmp_path):
    bad = tmp_path / "broken.ipynb"
    bad.write_text("not a notebook")
    with pytest.raises(render_builtin.RenderError, match=r"broken\.ipynb"):
        render_builtin.render_html(bad, tmp_path / "x.html")
    assert not (tmp_path / "x.html").exists()


def test_footer_is_the_one_source(tiny_run, executed, tmp_path):
    """The footer every renderer uses: disclosure note, index and PDF links, "produced by"."""
    footer = render_builtin.footer_html(index_href="../../index.html", pdf_href="r.pdf",
                                        generated="1 April 2026")
    assert render_builtin.DISCLOSURE_NOTE in footer
    assert '<a href="../../index.html">All reports</a>' in footer
    assert '<a href="r.pdf">This report as PDF</a>' in footer
    assert "Produced by csc-outcomes" in footer and "on 1 April 2026." in footer
    page = render_builtin.render_html(executed, tmp_path / "r.html", index_href="../../index.html",
                                      pdf_href="r.pdf", generated="1 April 2026").read_text()
    assert footer in page
    _, out = tiny_run  # a run with html and pdf links each page to its PDF
    published = (out / "reports" / PERIOD / "SYN01" / "tiny.html").read_text()
    assert '<a href="tiny.pdf">This report as PDF</a>' in published
    assert render_builtin.footer_html(generated="x").count("<a ") == 0  # no link to nothing


def long_table_notebook(path, rows=90):
    """A notebook with one captioned table (pandas Styler, id ``T_...``) of ``rows`` rows,
    too long for one A4 page."""
    df = pd.DataFrame({"Measure": [f"Measure number {i}" for i in range(1, rows + 1)],
                       "Value": [f"{i}.5%" for i in range(1, rows + 1)]})
    html = ctx.styled(df, caption="A long table").to_html()
    assert 'id="T_' in html
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_raw_cell('---\ntitle: "Long table"\n'
                                         'subtitle: "Synthetia (SYN01), year ending 31 March 2026"\n---'),
                nbformat.v4.new_code_cell("t", outputs=[nbformat.v4.new_output(
                    "display_data", data={"text/html": html, "text/plain": "t"})])]
    nbformat.write(nb, str(path))
    return path


def body_text_in_bottom_margin(page, margin_pt=62.4):
    """Text drawn within the bottom margin (2.2 cm) other than the footer line."""
    found = []

    def visit(text, cm, tm, font, size):
        y = tm[5] * cm[3] + cm[5]
        if text.strip() and y < margin_pt:
            found.append(text.strip())
    page.extract_text(visitor_text=visit)
    return [t for t in found if not (t.startswith("csc-outcomes") or re.fullmatch(r"\d+ of \d+", t))]


def test_pdf_long_table_breaks_across_pages_without_ids(tmp_path):
    """The cohort report's last rows printed over each other and into the footer (a
    table in a figure is one unbreakable block), captions showed ``{#T_...}`` and the
    PDF had no /Title."""
    pypdf = pytest.importorskip("pypdf", reason="pypdf reads the PDF's text")
    pdf = render_builtin.render_pdf(long_table_notebook(tmp_path / "long.ipynb"), tmp_path / "l.pdf")
    reader = pypdf.PdfReader(str(pdf))
    pages = reader.pages
    text = "\n".join(p.extract_text() for p in pages)
    assert len(pages) >= 2
    assert "{#" not in text and "T_t" not in text
    assert "A long table" in text
    for i in (1, 45, 89, 90):  # every row once: none overprinted or lost
        assert len(re.findall(rf"Measure number {i}\b", text)) == 1, i
    assert [body_text_in_bottom_margin(p) for p in pages] == [[]] * len(pages)
    assert f"1 of {len(pages)}" in pages[0].extract_text()  # page numbers kept
    meta = reader.metadata
    assert meta.title == "Long table"
    assert meta.subject == "Synthetia (SYN01), year ending 31 March 2026"  # LA and period
    assert meta.author
    assert render_builtin.DISCLOSURE_NOTE in " ".join(text.split())
    assert "Produced by csc-outcomes" in text


def test_builtin_version_names_its_tools():
    v = render_builtin.builtin_version()
    assert v.startswith("builtin (nbconvert ") and "pandoc " in v and "typst " in v


def test_table_html_for_pandoc_keeps_alignment_drops_ids():
    """pandoc reads no CSS: text columns stay left and numbers right in the PDF only when
    written inline; Styler's ids became ``{#T_...}`` in captions."""
    df = pd.DataFrame({"Measure": ["Referrals", "Re-referrals"], "SYN01": ["336", "22.0%"]})
    h = render_builtin.table_html(ctx.styled(df, caption="Cap").to_html())
    assert "<style" not in h and "id=" not in h
    assert '<th class="col_heading level0 col0" style="text-align: left">Measure' in h
    assert '<td class="data row1 col1" style="text-align: right">22.0%' in h


def test_renders_in_one_process_share_an_exporter_and_match_fresh_ones(tmp_path):
    """A run renders hundreds of reports per worker process: one exporter serves them
    all (a new one compiled its templates again each time), and a page it renders after
    another report is the page a fresh exporter renders."""
    first = long_table_notebook(tmp_path / "first.ipynb", rows=3)
    second = long_table_notebook(tmp_path / "second.ipynb", rows=7)
    render_builtin.html_exporter.cache_clear()
    fresh = render_builtin.render_html(second, tmp_path / "fresh.html", generated="1 May").read_text()
    exporter = render_builtin.html_exporter()
    render_builtin.render_html(first, tmp_path / "first.html", generated="1 May")
    again = render_builtin.render_html(second, tmp_path / "again.html", generated="1 May").read_text()
    assert render_builtin.html_exporter() is exporter and again == fresh
    assert "Measure number 7" in again and "Measure number 8" not in again
