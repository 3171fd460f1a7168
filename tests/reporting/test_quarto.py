"""The Quarto path. Quarto cannot be installed on every machine: without it on PATH these
tests skip, saying so; with it they render a tiny executed notebook with --no-execute."""

import json
import re
import shutil
from pathlib import Path

import nbformat
import pytest
import yaml

from csc_outcomes.paths import reports_project_dir
from csc_outcomes.reporting import frontmatter, render_builtin, render_quarto

from conftest import PERIOD

QUARTO = shutil.which("quarto")
needs_quarto = pytest.mark.skipif(
    QUARTO is None,
    reason="SKIPPED LOUDLY: 'quarto' is not on PATH, so the Quarto renderer is untested here "
           "(runs use the built-in renderer). Install Quarto to run these tests.")


def test_quarto_commands_follow_the_docs():
    cmd, produced = render_quarto.quarto_command("rereferrals.ipynb", "html")
    assert cmd[:3] == ["quarto", "render", "rereferrals.ipynb"]
    assert "--no-execute" in cmd and cmd[cmd.index("--to") + 1] == "html"
    assert cmd[cmd.index("--output-dir") + 1] == "_out"
    assert produced == "rereferrals.html"
    cmd, produced = render_quarto.quarto_command("x.ipynb", "pdf")
    assert "--no-execute" in cmd and cmd[cmd.index("--to") + 1] == "typst" and produced == "x.pdf"
    cmd, _ = render_quarto.quarto_command("x.ipynb", "pdf", pdf_engine="latex")
    assert cmd[cmd.index("--to") + 1] == "pdf"
    with pytest.raises(render_quarto.QuartoRenderError):
        render_quarto.quarto_command("x.ipynb", "docx")


def test_quarto_absent_is_reported(monkeypatch, tmp_path):
    monkeypatch.setattr(render_quarto.shutil, "which", lambda name: None)
    assert render_quarto.quarto_path() is None
    with pytest.raises(render_quarto.QuartoRenderError, match="not on PATH"):
        render_quarto.render(tmp_path / "x.ipynb", tmp_path, "x")
    from csc_outcomes.reporting.config import RunError
    from csc_outcomes.reporting.plan import choose_renderer

    assert choose_renderer("auto") == "builtin"
    with pytest.raises(RunError, match="quarto is not on PATH"):
        choose_renderer("quarto")


def test_quarto_failure_checks_exit_code_and_file(monkeypatch, tmp_path):
    """A zero exit code without the output file is still a failure."""
    import subprocess

    nb = tmp_path / "n.ipynb"
    nbformat.write(nbformat.v4.new_notebook(), str(nb))
    monkeypatch.setattr(render_quarto, "quarto_path", lambda: "/usr/bin/quarto-fake")
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: subprocess.CompletedProcess(a, 0, "", ""))
    with pytest.raises(render_quarto.QuartoRenderError, match=r"no output file n\.html"):
        render_quarto.render(nb, tmp_path / "out", "n", ["html"])
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: subprocess.CompletedProcess(a, 1, "", "boom"))
    with pytest.raises(render_quarto.QuartoRenderError, match="exit code 1"):
        render_quarto.render(nb, tmp_path / "out", "n", ["html"])
    assert not (tmp_path / "out" / "n.html").exists()
    (tmp_path / "bad.ipynb").write_text("{}")
    with pytest.raises(render_quarto.QuartoRenderError, match=r"bad\.ipynb"):
        render_quarto.render(tmp_path / "bad.ipynb", tmp_path / "out", "bad", ["html"])


@pytest.mark.quarto
@needs_quarto
def test_quarto_renders_executed_notebook(tiny_run, tmp_path):
    _, out = tiny_run
    executed = out / "restricted" / PERIOD / "SYN01" / "tiny.ipynb"
    res = render_quarto.render(executed, tmp_path, "tiny", ["html"], index_href="../../index.html")
    html = res["html"].read_text()
    assert res["html"].is_file() and "<img" in html and "<table" in html
    assert "plt.subplots" not in html  # execute: echo: false
    # no script or style from anywhere but the page itself; the built-in footer; no
    # "Other formats" link to a file an HTML-only run does not make
    assert not re.findall(r"<(?:script|link)[^>]+(?:src|href)=\"https?://", html)
    assert "require.min.js" not in html and "jquery" not in html.lower()
    assert render_builtin.DISCLOSURE_NOTE in html and "All reports" in html
    assert "Produced by csc-outcomes" in html
    assert "Other Formats" not in html and "tiny.typ" not in html
    assert len(html) < 600_000, len(html)  # no Bootstrap: the built-in page's size order


def _display_outputs(nb):
    return [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
            if o.get("output_type") in ("display_data", "execute_result")]


def test_quarto_sees_no_output_it_would_load_cdn_scripts_for(tiny_run):
    """Quarto adds require.js and jQuery from a CDN to the page of a notebook with any
    ``text/html`` or ``application/javascript`` display output (its
    ``extractJupyterWidgetDependencies``): every report with a table did. The notebook
    it renders has none, and no widget state; the table is still there, as raw HTML."""
    _, out = tiny_run
    executed = out / "restricted" / PERIOD / "SYN01" / "tiny.ipynb"
    original = nbformat.read(str(executed), as_version=4)
    assert any("text/html" in o.get("data", {}) for o in _display_outputs(original))
    original.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    nbformat.write(original, str(out / "with_widgets.ipynb"))
    nb = render_quarto.quarto_notebook(out / "with_widgets.ipynb", "html")
    mimes = {m for o in _display_outputs(nb) for m in o.get("data", {})}
    assert not mimes & set(render_quarto.WIDGET_MIME_TYPES), mimes
    assert "widgets" not in nb.metadata
    raw = [o["data"]["text/markdown"] for o in _display_outputs(nb) if "text/markdown" in o["data"]]
    assert any(r.startswith("```{=html}\n") and "<table" in r for r in raw)
    assert not any(o.get("name") == "stderr" for c in nb.cells for o in c.get("outputs", []))


def test_quarto_front_matter_one_format_footer_no_format_links(tiny_run):
    _, out = tiny_run
    executed = out / "restricted" / PERIOD / "SYN01" / "tiny.ipynb"
    html = frontmatter.read_front_matter(render_quarto.quarto_notebook(executed, "html"))
    assert html["title"] == "Tiny report" and html["subtitle"].startswith("Synthetia (SYN01)")
    assert list(html["format"]) == ["html"]  # a second format made Quarto link to it
    options = html["format"]["html"]
    assert options["format-links"] is False and options["embed-resources"] is True
    assert options["include-after-body"] == render_quarto.FOOTER_FILE
    assert options["minimal"] is True and options["html-math-method"] == "plain"
    pdf_nb = render_quarto.quarto_notebook(executed, "pdf")
    assert list(frontmatter.read_front_matter(pdf_nb)["format"]) == ["typst"]
    last = pdf_nb.cells[-1].source
    assert render_builtin.DISCLOSURE_NOTE in last and "Produced by csc-outcomes" in last
    text = "".join(str(o.get("data", {})) for o in _display_outputs(pdf_nb))
    assert "text/html" not in text and "{#T_" not in text


def test_project_options_keep_the_built_in_look():
    options = yaml.safe_load((reports_project_dir() / "_quarto.yml").read_text())
    html = options["format"]["html"]
    assert html["css"] == "templates/report.css"
    assert (reports_project_dir() / html["css"]).is_file()
    assert options["execute"]["enabled"] is False  # papermill already ran the notebooks
    # the options the reports depend on are the generated front matter's alone
    parity = render_quarto.quarto_front_matter({}, "html")["format"]["html"]
    assert not set(parity) & set(html), set(parity) & set(html)


def test_render_gives_quarto_the_builtin_footer(monkeypatch, tmp_path, tiny_run):
    """Quarto's work folder holds the footer ``render_builtin.footer_html`` writes (index
    and PDF links included) and the notebook prepared for the format."""
    import subprocess

    _, out = tiny_run
    executed = out / "restricted" / PERIOD / "SYN01" / "tiny.ipynb"
    seen = {}

    def fake_quarto(cmd, cwd, **kw):
        work = Path(cwd)
        seen[cmd[cmd.index("--to") + 1]] = {
            "footer": (work / render_quarto.FOOTER_FILE).read_text(),
            "front": frontmatter.read_front_matter(work / cmd[2])}
        produced = work / "_out" / (Path(cmd[2]).stem + (".html" if "html" in cmd else ".pdf"))
        produced.parent.mkdir(exist_ok=True)
        produced.write_text("rendered")
        return subprocess.CompletedProcess(cmd, 0, "", "")

    monkeypatch.setattr(render_quarto, "quarto_path", lambda: "/usr/bin/quarto-fake")
    monkeypatch.setattr(subprocess, "run", fake_quarto)
    res = render_quarto.render(executed, tmp_path, "tiny", ["html", "pdf"], index_href="../../index.html")
    assert sorted(res) == ["html", "pdf"]
    footer = seen["html"]["footer"]
    assert footer.startswith("<footer>") and render_builtin.DISCLOSURE_NOTE in footer
    assert '<a href="../../index.html">All reports</a>' in footer
    assert '<a href="tiny.pdf">This report as PDF</a>' in footer
    assert list(seen["html"]["front"]["format"]) == ["html"]
    assert list(seen["typst"]["front"]["format"]) == ["typst"]


def test_manifest_records_the_renderer_and_its_version(monkeypatch, tiny_run):
    _, out = tiny_run
    man = json.loads((out / "reports" / PERIOD / "manifest.json").read_text())
    assert man["renderer"] == "builtin"
    assert man["renderer_version"] == render_builtin.builtin_version()
    calls = []
    monkeypatch.setattr(render_quarto, "quarto_version", lambda: calls.append(1) or "1.9.12")
    assert render_quarto.renderer_version("quarto") == "quarto 1.9.12" and calls
    monkeypatch.setattr(render_quarto, "quarto_version", lambda: None)
    assert render_quarto.renderer_version("quarto") is None
