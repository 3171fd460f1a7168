"""Practitioners' context: shown as written under its heading, absent without a file,
refused (naming the file) when malformed, never carrying HTML into a page."""

import pytest

from csc_outcomes import paths
from csc_outcomes.reporting import practice_context as pc
from csc_outcomes.reporting import preflight
from csc_outcomes.reporting.config import RunConfig
from csc_outcomes.reporting.parameter_schema import ParameterError

PERIOD = "2026-03-31"


@pytest.fixture
def params(tmp_path):
    folder = tmp_path / "parameters"
    (folder / "context" / "SYN01").mkdir(parents=True)
    (folder / "defaults.yaml").write_text("suppression_threshold: 5\n")
    return folder


def write(params, text, name=f"SYN01/{PERIOD}.md"):
    path = params / "context" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_context_shown_as_written_under_its_heading(params):
    write(params, "Placement moves rose when **two fostering households** stopped caring.\n")
    text = pc.markdown(params, "SYN01", PERIOD)
    assert text.startswith("## Practitioners' context\n\n")
    assert "Placement moves rose when **two fostering households** stopped caring." in text
    assert pc.context_files(params, ["SYN01", "SYN02"], PERIOD) == [
        params / "context" / "SYN01" / f"{PERIOD}.md"]


def test_no_file_no_heading(params):
    assert pc.markdown(params, "SYN02", PERIOD) == ""
    assert pc.markdown(params, "SYN01", "2025-03-31") == ""
    pc.check_folder(params)  # an empty context folder is fine


@pytest.mark.parametrize(("content", "name", "message"), [
    (b"caf\xe9 au lait", f"SYN01/{PERIOD}.md", "not UTF-8"),
    ("   \n\n", f"SYN01/{PERIOD}.md", "empty"),
    ("fine text", "SYN01/31-03-2026.md", "not a period end"),
    ("fine text", f"syn01/{PERIOD}.md", "not where a context file goes"),
    ("fine text", f"SYN01/{PERIOD}.txt", "not where a context file goes"),
])
def test_malformed_context_refused_naming_the_file(params, content, name, message):
    path = write(params, content, name)
    with pytest.raises(ParameterError, match=message) as info:
        pc.check_folder(params)
    assert str(path) in str(info.value)


def test_preflight_refuses_malformed_context_before_anything_runs(params, tmp_path):
    write(params, b"\xff\xfe not utf-8")
    config = RunConfig(PERIOD, la_codes=("SYN01",), warehouse=tmp_path / "w.duckdb",
                       measures_path=tmp_path / "m.csv", reports_dir=tmp_path / "reports",
                       restricted_dir=tmp_path / "restricted", parameters_dir=params)
    with pytest.raises(ParameterError, match="not UTF-8"):
        preflight.check(config)
    assert not (tmp_path / "restricted").exists()


def test_no_html_reaches_the_page(params):
    write(params, "<script>alert(1)</script> <b>bold</b>\n![tracker](https://example.org/p.png)\n"
                  "[ok](https://example.org) [bad](javascript:alert(1)) 5 < 6\n")
    text = pc.markdown(params, "SYN01", PERIOD)
    assert "<" not in text
    assert "&lt;script>" in text and "5 &lt; 6" in text
    assert "\\![tracker]" in text  # an image is a link: nothing is fetched when the page opens
    assert "[ok](https://example.org)" in text and "[bad]\\(javascript:" in text


def test_the_kits_sample_context_is_valid():
    pc.check_folder(paths.parameters_dir())
    assert "## Practitioners' context" in pc.markdown(None, "SYN01", PERIOD)


def test_rendered_html_has_no_tag_image_or_script_link(params):
    from nbconvert.filters.markdown_mistune import markdown2html_mistune  # the HTML renderer's

    write(params, "<script>alert(1)</script> <img src=x onerror=alert(1)>\n"
                  "![t](https://e.org/p.png) [bad](javascript:alert(1)) [ok](https://e.org)\n")
    html = markdown2html_mistune(pc.markdown(params, "SYN01", PERIOD))
    assert "<script" not in html and "<img" not in html and 'href="javascript' not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and '<a href="https://e.org">ok</a>' in html
