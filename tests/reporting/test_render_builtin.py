"""The built-in renderer: HTML without code or tracebacks, PDF via pandoc and Typst."""

import re
import time

import pytest

from csc_outcomes.reporting import render_builtin

from conftest import PERIOD


@pytest.fixture(scope="module")
def executed(tiny_run):
    _, out = tiny_run
    return out / "restricted" / PERIOD / "SYN01" / "tiny.ipynb"


def test_html_has_chart_table_and_no_code(tiny_run):
    _, out = tiny_run
    html = (out / "reports" / PERIOD / "SYN01" / "tiny.html").read_text()
    assert "<img" in html and "data:image/png;base64," in html
    assert "<table" in html
    assert "Traceback" not in html and "Error" not in html
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
