"""Practitioners' context: what the people who know the children say about the figures.

A board reads numbers better beside the words of those who work with the children. An
LA may write ``context/<LA>/<period_end>.md`` in the parameters folder (``parameters/``,
or the one ``--parameters-dir`` names): markdown, optional. When the file exists, every
report of that LA for that period shows it, as written, under
"## Practitioners' context"; when it does not, the heading is left out.

A file that is there but cannot be shown as written (not UTF-8, empty, or named
otherwise than ``<LA code>/<YYYY-MM-DD>.md``) is an error naming the file and the fix,
found by :func:`check_folder` before any notebook runs. The text is shown as markdown
but never as HTML: a ``<`` is escaped (no tag, script or style reaches the page),
images become links (a page must not fetch anything when opened) and a link may only
go to ``http``, ``https`` or ``mailto``. Child identifiers in the text are caught by the
leak scan, like any other published text.
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

_LINK_TARGET = re.compile(r"\]\((?!\s*(?:https?:|mailto:))")


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
    """``text`` as markdown that cannot carry HTML: ``<`` escaped, images shown as
    links, links only to http(s) or mailto (others shown as text)."""
    text = text.replace("<", "&lt;").replace("![", "\\![")
    return _LINK_TARGET.sub("]\\\\(", text)


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
