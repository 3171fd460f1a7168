"""The Quarto path. Quarto cannot be installed on every machine: without it on PATH these
tests skip, saying so; with it they render a tiny executed notebook with --no-execute."""

import shutil

import pytest

from csc_outcomes.reporting import render_quarto

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
    nb.write_text("{}")
    monkeypatch.setattr(render_quarto, "quarto_path", lambda: "/usr/bin/quarto-fake")
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: subprocess.CompletedProcess(a, 0, "", ""))
    with pytest.raises(render_quarto.QuartoRenderError, match=r"no output file n\.html"):
        render_quarto.render(nb, tmp_path / "out", "n", ["html"])
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: subprocess.CompletedProcess(a, 1, "", "boom"))
    with pytest.raises(render_quarto.QuartoRenderError, match="exit code 1"):
        render_quarto.render(nb, tmp_path / "out", "n", ["html"])
    assert not (tmp_path / "out" / "n.html").exists()


@pytest.mark.quarto
@needs_quarto
def test_quarto_renders_executed_notebook(tiny_run, tmp_path):
    _, out = tiny_run
    executed = out / "restricted" / PERIOD / "SYN01" / "tiny.ipynb"
    res = render_quarto.render(executed, tmp_path, "tiny", ["html"])
    html = res["html"].read_text()
    assert res["html"].is_file() and "<img" in html and "<table" in html
    assert "plt.subplots" not in html  # execute: echo: false
