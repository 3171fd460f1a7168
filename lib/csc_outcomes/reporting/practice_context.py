"""Practitioners' context: what the people who know the children say about the figures.

A board reads numbers better beside the words of those who work with the children. An
LA may write ``context/<LA>/<period_end>.md`` in the parameters folder (``parameters/``,
or the one ``--parameters-dir`` names): markdown, optional. When the file exists, every
report of that LA for that period shows it, as written, under
"## Practitioners' context"; when it does not, the heading is left out.

A file that is there but cannot be shown as written (not UTF-8, empty, or named
otherwise than ``<LA code>/<YYYY-MM-DD>.md``) is an error naming the file and the fix,
found by :func:`check_folder` before any notebook runs. The text is shown as markdown
but can never act on the report (:func:`safe_markdown`): a ``<`` is escaped except in a
safe autolink (no tag, script or style reaches the page); a raw block or span
(``{=typst}``, ``{=html}``...) is shown as plain code, never passed to the output (a
``#show`` rule could rewrite the figures of the PDF); no pandoc attribute applies;
images become links (a page must not fetch anything when opened); a link, inline or by
reference, may only go to ``http``, ``https`` or ``mailto``; and headings are demoted
below the section's own, so none passes for a section of the report. Child identifiers
in the text are caught by the leak scan, like any other published text.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from csc_outcomes import paths
from csc_outcomes.reporting.parameter_schema import LA_CODE, ParameterError

#: The folder of context files, inside the parameters folder.
FOLDER = "context"
#: The heading the text appears under.
HEADING = "## Practitioners' context"

_SAFE_SCHEME = r"(?:https?|mailto):"
#: An inline link's target that is not http(s) or mailto (the ``(`` is escaped).
_LINK_TARGET = re.compile(rf"\]\((?!\s*<?{_SAFE_SCHEME})", re.IGNORECASE)
#: A reference definition (``[label]: target``) whose target, on the same line, is not
#: http(s) or mailto: ``[x][label]`` would otherwise make a ``javascript:`` link.
_REF_DEFINITION = re.compile(rf"\]:(?![ \t]*<?{_SAFE_SCHEME})", re.IGNORECASE)
#: A line that began as a definition and was neutralised (a paragraph now, it would take
#: the definitions after it as its text).
_NEUTRALISED_DEFINITION = re.compile(r"^( {0,3}\[.*\]\\:.*)$", re.MULTILINE)
#: A pandoc fenced div (``::: callout-warning``): Quarto would style or hide the text.
_FENCED_DIV = re.compile(r"^( {0,3}):(?=::)", re.MULTILINE)
#: A ``<`` that does not open a safe autolink (``<https://example.org>`` stays a link).
_TAG_OPEN = re.compile(rf"<(?!{_SAFE_SCHEME}[^\s<>`\\]*>)", re.IGNORECASE)
#: ``![`` (an image) and ``{`` (a pandoc attribute), with the backslashes before them: an
#: even number leaves them live.
_IMAGE = re.compile(r"(?<!\\)(\\*)(?=!\[)")
_BRACE = re.compile(r"(?<!\\)(\\*)(?=\{)")
#: An ATX heading, also inside a block quote or list item.
_ATX_HEADING = re.compile(r"^([ \t>]*(?:(?:[-*+]|\d{1,9}[.)])[ \t]+)?)(#{1,6})(?=[ \t]|$)",
                          re.MULTILINE)
#: A setext underline (``===`` makes a level-1 heading of the line above, ``---`` level 2).
_SETEXT = re.compile(r" {0,3}(=+|-+)[ \t]*")
#: The line above a setext underline that makes it a heading (not a list item, quote...).
_SETEXT_TITLE = re.compile(r" {0,3}(?![>#|]|[-*+=](?:[ \t]|$)|\d{1,9}[.)](?:[ \t]|$))\S")
#: A fenced code block's opening line (a backtick fence's info has no backtick).
_FENCE = re.compile(r" {0,3}(`{3,}(?=[^`]*$)|~{3,})(.*)")
#: A fenced block's language kept as a plain code class (``{=typst}``, ``{.x}``... are not).
_LANGUAGE = re.compile(r"[A-Za-z0-9_+-]+")
#: Levels the context's own headings go down: under "##", a "#" becomes "###".
_DEMOTE = 2


def context_path(parameters_dir: str | Path | None, la_code: str, period_end: str) -> Path:
    """``<parameters>/context/<LA>/<period_end>.md`` (the file may not exist)."""
    folder = Path(parameters_dir) if parameters_dir else paths.parameters_dir()
    return folder / FOLDER / la_code / f"{period_end}.md"


def read_context(path: Path) -> str | None:
    """The text of a context file, None when there is none; :class:`ParameterError`
    naming the file when it cannot be shown as written."""
    if not path.is_file():
        if path.exists():
            raise ParameterError(f"{path}: not a file; practitioners' context is a markdown "
                                 "file context/<LA>/<YYYY-MM-DD>.md")
        return None
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ParameterError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start}); "
                             "save it as UTF-8 (or delete it)") from None
    except OSError as exc:
        raise ParameterError(f"{path}: cannot be read ({exc.strerror})") from None
    if not text.strip():
        raise ParameterError(f"{path}: empty; write the practitioners' context in it, or "
                             "delete it (a missing file is fine)")
    return text.removeprefix("\ufeff")


def name_problem(path: Path, folder: Path) -> str | None:
    """Why a file under ``context/`` is not named ``<LA code>/<YYYY-MM-DD>.md``, or None."""
    rel = path.relative_to(folder)
    fix = ("context files are named context/<LA code, in capitals>/<YYYY-MM-DD>.md (the "
           "period end)")
    if (len(rel.parts) != 2 or path.suffix != ".md" or not LA_CODE.test(rel.parts[0])
            or rel.parts[0] != rel.parts[0].upper()):
        return f"{path}: not where a context file goes; {fix}"
    try:
        dt.date.fromisoformat(path.stem)
    except ValueError:
        return f"{path}: {path.stem!r} is not a period end (YYYY-MM-DD); {fix}"
    return None


def check_folder(parameters_dir: str | Path | None) -> None:
    """Every file under ``context/`` named as it should be and readable as written; one
    :class:`ParameterError` listing every problem (run before any notebook runs)."""
    folder = (Path(parameters_dir) if parameters_dir else paths.parameters_dir()) / FOLDER
    if not folder.is_dir():
        return
    found = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith(".")):
        problem = name_problem(path, folder)
        if problem is None:
            try:
                read_context(path)
            except ParameterError as exc:
                problem = str(exc)
        if problem:
            found.append(problem)
    if found:
        raise ParameterError("\n".join(found))


def safe_markdown(text: str) -> str:
    """``text`` as markdown that shows what was written and cannot act on the page.

    Fenced code blocks are shown as plain code: re-fenced, without their info string,
    so ``{=typst}``, ``{=html}`` or ``{=latex}`` cannot pass raw output through (a
    ``#show`` rule rewrote the report's figures), and with ``<`` as written. The rest is
    prose (:func:`_safe_prose`): no HTML, no image, no attribute, headings demoted.

    Parameters
    ----------
    text : str
        The context file's text.

    Returns
    -------
    str
        Markdown safe for the HTML renderers and pandoc (Quarto's HTML and Typst).
    """
    out: list[str] = []
    prose: list[str] = []
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        opening = _FENCE.fullmatch(lines[i])
        if opening is None:
            prose.append(lines[i])
            i += 1
            continue
        fence = opening[1]
        closing = re.compile(rf" {{0,3}}{re.escape(fence[0])}{{{len(fence)},}}[ \t]*")
        end = next((j for j in range(i + 1, len(lines)) if closing.fullmatch(lines[j])),
                   len(lines))
        if prose:
            out.append(_safe_prose("\n".join(prose)))
            prose = []
        out.append(_code_block(lines[i + 1:end], opening[2].strip()))
        i = end + 1
    if prose:
        out.append(_safe_prose("\n".join(prose)))
    return "\n".join(out)


def _code_block(lines: list[str], info: str) -> str:
    """A fenced code block no renderer can read otherwise: a blank line before (it cannot
    continue a paragraph, list or quote), a backtick fence longer than any in the code,
    no attribute (a raw ``{=format}`` block would reach the output) and the code as
    written (code is never HTML, so ``<`` needs no escaping)."""
    longest = max((len(run) for line in lines for run in re.findall(r"`+", line)), default=0)
    fence = "`" * max(3, longest + 1)
    language = info if _LANGUAGE.fullmatch(info) else ""
    return "\n".join(["", fence + language, *lines, fence, ""])


def _safe_prose(text: str) -> str:
    """Markdown outside code blocks, made inert.

    ``<`` is escaped unless it opens a safe autolink (no tag, script or style); ``{`` is
    escaped (``\\{`` shows as ``{``), so no pandoc attribute applies: no inline raw
    `` `x`{=typst} ``, no ``{style=...}`` span and no ``:::`` div; an image becomes a link (a page must
    not fetch anything when opened), inline and reference links only go to http(s) or
    mailto (others are shown as text) and headings are demoted below the section's own.
    """
    text = _REF_DEFINITION.sub(r"]\\:", text)
    text = _NEUTRALISED_DEFINITION.sub("\\1\n", text)  # the next definition still defines
    text = _escape(_BRACE, _escape(_IMAGE, _TAG_OPEN.sub("&lt;", text)))
    text = _LINK_TARGET.sub(r"]\\(", _FENCED_DIV.sub(r"\1\\:", text))
    return _demote_headings(text)


def _escape(pattern: re.Pattern[str], text: str) -> str:
    """A backslash before each character ``pattern`` finds that is not escaped already
    (after an even number of backslashes), so ``\\{`` as written still shows ``\\{``."""
    return pattern.sub(lambda m: m[1] + ("\\" if len(m[1]) % 2 == 0 else ""), text)


def _demote_headings(text: str) -> str:
    """Headings ``_DEMOTE`` levels down (at most 6), setext ones written as ATX: a
    ``## Questions to explore`` in the context must not pass for a section of the report."""
    text = _ATX_HEADING.sub(lambda m: m[1] + "#" * min(6, len(m[2]) + _DEMOTE), text)
    lines = text.split("\n")
    start = 0  # the first line of the current paragraph
    for k, line in enumerate(lines):
        underline = _SETEXT.fullmatch(line)
        title = lines[start:k]
        if underline and title and all(_SETEXT_TITLE.match(t) for t in title):
            level = (1 if underline[1][0] == "=" else 2) + _DEMOTE
            lines[start:k + 1] = ["#" * level + " " + " ".join(t.strip() for t in title),
                                  *[""] * len(title)]
        elif underline and title:  # under a list item or quote: pandoc made it a heading
            lines[k] = "\n" + line  # a rule (or text), as CommonMark reads it
        if not line.strip() or underline:
            start = k + 1
    return "\n".join(lines)


def context_files(parameters_dir: str | Path | None, la_codes: list[str] | tuple[str, ...],
                  period_end: str) -> list[Path]:
    """The context files that exist for these LAs and period (for the run's manifest)."""
    found = (context_path(parameters_dir, la, period_end) for la in la_codes)
    return [p for p in found if p.is_file()]


def markdown(parameters_dir: str | Path | None, la_code: str, period_end: str) -> str:
    """The section for a report: the heading and the text, or ``""`` when there is none."""
    text = read_context(context_path(parameters_dir, la_code, str(period_end)[:10]))
    if text is None:
        return ""
    return f"{HEADING}\n\n{safe_markdown(text.strip())}\n"
