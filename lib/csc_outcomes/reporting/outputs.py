"""What a report shows, as Jupyter display bundles that can be kept and shown later.

Why. A report's sections (``reporting.sections``) are worked out by the run's prepare
stage, in worker processes, before the notebooks start; the notebook then shows what was
worked out. For the executed notebook to be the same either way, everything a section
shows goes through :func:`show`: in a notebook it is displayed as IPython's ``display``
would; inside :func:`captured` it is formatted by the same formatter into the same
bundle (``{"data": {mime: ...}, "metadata": {...}}``) and kept, to be shown later by
:func:`publish`. Bundles are plain JSON (a PNG as base64 text, as a notebook stores it).
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from IPython.core.formatters import DisplayFormatter

#: A display bundle: ``{"data": {mime type: content}, "metadata": {mime type: {...}}}``.
Bundle = dict[str, dict[str, Any]]

_CAPTURING: ContextVar[list[Bundle] | None] = ContextVar("csc_outcomes_outputs", default=None)
_FORMATTER: list[DisplayFormatter] = []


def formatter() -> DisplayFormatter:
    """The running IPython shell's display formatter, else one like it (made once)."""
    from IPython.core.getipython import get_ipython  # noqa: PLC0415 - cheap, here for clarity

    shell = get_ipython()
    if shell is not None and shell.display_formatter is not None:
        return shell.display_formatter
    if not _FORMATTER:
        _FORMATTER.append(DisplayFormatter())
    return _FORMATTER[0]


def json_safe(data: dict[str, Any]) -> dict[str, Any]:
    """A format dict whose binary contents (a PNG's bytes) are base64 text, as Jupyter
    sends and stores them."""
    return {mime: base64.b64encode(v).decode("ascii") if isinstance(v, bytes) else v
            for mime, v in data.items()}


def bundle(obj: Any, metadata: dict[str, Any] | None = None) -> Bundle | None:
    """``obj`` formatted as ``display(obj, metadata=metadata)`` would publish it (None:
    nothing to show)."""
    data, md = formatter().format(obj)
    if not data:
        return None
    md = dict(md)
    for mime, extra in (metadata or {}).items():  # display's own merge: the call's wins
        md[mime] = {**md.get(mime, {}), **extra} if isinstance(extra, dict) else extra
    return {"data": json_safe(data), "metadata": md}


def show(obj: Any, metadata: dict[str, Any] | None = None) -> None:
    """Show ``obj`` (a table, Markdown, an image): kept while :func:`captured`, else
    formatted and displayed now (the same bundle either way)."""
    made = bundle(obj, metadata)
    if made is None:
        return
    kept = _CAPTURING.get()
    if kept is not None:
        kept.append(made)
    else:
        publish([made])


@contextmanager
def captured() -> Iterator[list[Bundle]]:
    """Keep what :func:`show` is given inside the block, in order, instead of showing it."""
    kept: list[Bundle] = []
    token = _CAPTURING.set(kept)
    try:
        yield kept
    finally:
        _CAPTURING.reset(token)


def publish(bundles: Iterable[Bundle]) -> None:
    """Display kept bundles in the notebook, in order."""
    from IPython.display import publish_display_data  # noqa: PLC0415

    for b in bundles:
        publish_display_data(data=b["data"], metadata=b.get("metadata") or {})
