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


def pandoc_ast(markdown_text):
    """The pandoc AST (JSON) of the markdown as Quarto reads it (HTML and Typst)."""
    pypandoc = pytest.importorskip("pypandoc")
    try:
        return pypandoc.convert_text(markdown_text, "json", format="markdown")
    except OSError:
        pytest.skip("no pandoc binary")


def html_of(markdown_text):
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    return markdown2html_mistune(markdown_text)


@pytest.mark.parametrize(("written", "code"), [
    ('```{=typst}\n#show "17.3%": "27.3%"\n#set page(footer: [forged])\n```',
     '#show "17.3%": "27.3%"\n#set page(footer: [forged])'),
    ('~~~{=typst}\n#show "17.3%": "27.3%"\n~~~', '#show "17.3%": "27.3%"'),
    ("```{=html}\n<script>alert(1)</script>\n```", "<script>alert(1)</script>"),
    ("``` {=latex}\n\\renewcommand{\\thepage}{x}\n```", "\\renewcommand{\\thepage}{x}"),
    ('Figures:\n```{=typst}\n#show "17.3%": "27.3%"\n```\nafter',  # no blank line before
     '#show "17.3%": "27.3%"'),
    ('```{=typst}\n#show "17.3%": "27.3%"', '#show "17.3%": "27.3%"'),  # unclosed: to the end
])
def test_raw_blocks_are_shown_as_plain_code(written, code):
    text = pc.safe_markdown(written)
    assert "{=" not in text and f"\n```\n{code}\n```\n" in text
    ast = pandoc_ast(text)
    assert '"RawBlock"' not in ast and '"RawInline"' not in ast and '"CodeBlock"' in ast
    html = html_of(text)
    assert "<script" not in html and "<pre><code>" in html


def test_code_block_shown_as_written_with_its_language():
    text = pc.safe_markdown("Look:\n\n```python\nif a < b:\n    print('<b>')\n```\n\n5 < 6")
    assert "\n```python\nif a < b:\n    print('<b>')\n```\n" in text  # `<` as written in code
    assert "5 &lt; 6" in text
    assert pc.safe_markdown("````\n```{=typst}\n#x\n```\n````") == \
        "\n````\n```{=typst}\n#x\n```\n````\n"  # a fence inside code stays code


def test_inline_raw_is_shown_as_code():
    text = pc.safe_markdown('Rate `#show "17.3%": "27.3%"`{=typst} and `<b>`{=html}'
                            ' [x]{style="color:red"}')
    assert '`#show "17.3%": "27.3%"`\\{=typst}' in text and '[x]\\{style="color:red"}' in text
    ast = pandoc_ast(text)
    assert '"RawInline"' not in ast and '"Span"' not in ast and '"Code"' in ast


def test_no_pandoc_div_styles_the_text():
    text = pc.safe_markdown("::: callout-warning\nFigures are wrong\n:::\n\n::: {.hidden}\nx\n:::")
    assert text == "\\::: callout-warning\nFigures are wrong\n\\:::\n\n\\::: \\{.hidden}\nx\n\\:::"
    assert '"Div"' not in pandoc_ast(text) and "::: callout-warning" in html_of(text)


def test_reference_links_only_to_safe_schemes():
    text = pc.safe_markdown("[click me][evil] and [ok][good] [x][e2]\n\n"
                            "[evil]: javascript:alert(5)\n[good]: https://example.org\n"
                            "[e2]: <JavaScript:alert(6)>\n")
    assert "[evil]\\: javascript:alert(5)" in text and "[good]: https://example.org" in text
    html = html_of(text)
    assert "javascript" not in html.split("[evil]")[0].lower()
    assert 'href="javascript' not in html.lower() and '<a href="https://example.org">ok</a>' in html
    ast = pandoc_ast(text)
    assert ast.count('{"t":"Link"') == 1 and ast.count('"https://example.org"') == 1  # only ok


def test_reference_images_are_never_fetched():
    text = pc.safe_markdown("![pixel][t] ![t] ![t][] \\![x](https://e.org/p.png)\n\n"
                            "[t]: https://tracker.example/p.png\n")
    assert "<img" not in html_of(text) and '"Image"' not in pandoc_ast(text)


def test_safe_autolinks_keep_working():
    text = pc.safe_markdown("See <https://example.org> or <mailto:a@b.org>, "
                            "not <javascript:alert(1)> nor <img src=x>.")
    html = html_of(text)
    assert '<a href="https://example.org">https://example.org</a>' in html
    assert '<a href="mailto:a@b.org">' in html and "<img" not in html
    assert "&lt;javascript:alert(1)&gt;" in html and "%3E" not in html


def test_headings_demoted_below_the_section():
    text = pc.safe_markdown("# Top\n\n## Questions to explore\n\n###### Six\n\n"
                            "> ## Quoted\n\nSetext\n======\n\nTwo\nlines\n---\n\n- a\n---\n")
    assert text.startswith("### Top\n\n#### Questions to explore\n\n###### Six\n\n"
                           "> #### Quoted\n\n### Setext\n")
    assert "#### Two lines\n" in text and "- a\n\n---" in text  # a list, then a rule
    html = html_of(text)
    assert "<h1" not in html and "<h2" not in html and "<h3" in html
    ast = pandoc_ast(text).replace(" ", "")
    assert '"Header","c":[1,' not in ast and '"Header","c":[2,' not in ast
