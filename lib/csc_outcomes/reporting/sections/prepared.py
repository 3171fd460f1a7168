"""A report's sections worked out ahead (``prepare``) and shown by its notebook (``show``).

A prepared file is JSON in the run's shared folder (restricted, owner-only, removed after
the notebooks): the notebook it is for, the parameters it was worked out with and each
section's display bundles. A notebook shows a section from it only when the file is this
user's alone and was made for the notebook's own parameters; otherwise, or with no file,
it works the section out itself. Either way it shows the same bundles.
"""

from __future__ import annotations

import importlib
import json
import logging
from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

from csc_outcomes import atomic
from csc_outcomes.reporting import model_cache, outputs, plots, published_data
from csc_outcomes.reporting.sections.report import Report, as_json

#: The prepared files' folder under the run's shared folder.
FOLDER = "prepared"
#: The version of the prepared file's layout.
FORMAT = 1

Section = Callable[[Report], None]
log = logging.getLogger(__name__)


def prepared_path(shared_dir: str | Path, la_code: str, notebook: str) -> Path:
    """Where the run keeps one report's prepared sections."""
    return Path(shared_dir) / FOLDER / la_code / f"{notebook}.json"


def sections_of(notebook: str) -> ModuleType | None:
    """The sections module of report notebook ``notebook`` (its file's stem), or None for
    a notebook without one (an LA's own notebook: it works everything out itself)."""
    try:
        module = importlib.import_module(f"{__package__}.{notebook}")
    except ModuleNotFoundError as exc:
        if exc.name != f"{__package__}.{notebook}":
            raise
        return None
    return module if hasattr(module, "SECTIONS") else None


def work_out(report: Report, sections: tuple[Section, ...]) -> dict[str, list[outputs.Bundle]]:
    """Each section's bundles, worked out here, in order (the kit's chart theme set)."""
    plots.set_theme()
    made = {}
    for section in sections:
        with outputs.captured() as kept:
            section(report)
        made[section.__name__] = kept
    return made


def prepare(notebook: str, parameters: Mapping[str, Any], path: str | Path) -> Path:
    """Work out every section of ``notebook`` for ``parameters`` into ``path`` (owner-only).

    The pooled models the parameters name are held in this process
    (``model_cache.hold``): a worker preparing many LAs' reports reads each once.
    """
    module = sections_of(notebook)
    if module is None:
        raise LookupError(f"no sections module for the notebook {notebook!r}")
    report = Report(as_json(parameters))
    warm_process()
    hold_models(report)
    made = work_out(report, module.SECTIONS)
    record = {"format": FORMAT, "notebook": notebook, "parameters": report.parameters,
              "sections": made}
    target = Path(path)
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    atomic.write_text(target, json.dumps(record), mode=0o600)
    return target


@cache
def warm_process() -> None:
    """Read DfE's published figures once for every report this process prepares, and
    work out what each asks of them, as the run's fork server does for its kernels."""
    published_data.warm()


def hold_models(report: Report) -> None:
    """Hold the report's cached models in this process, and only those
    (``model_cache.hold_only``): the next report of the same notebook reads none again."""
    cache_dir = report.get("model_cache")
    if not cache_dir:
        return
    paths = [model_cache.entry_path(cache_dir, key)
             for key in (report.get("model_keys") or {}).values()]
    model_cache.hold_only([p for p in paths if p.is_file()], cache_dir)


def well_formed(sections: Any) -> bool:
    """Whether ``sections`` maps each section's name to a list of display bundles."""
    return isinstance(sections, dict) and all(
        isinstance(kept, list) and all(isinstance(b, dict) and isinstance(b.get("data"), dict)
                                       and isinstance(b.get("metadata", {}), dict) for b in kept)
        for kept in sections.values())


def ready(report: Report) -> dict[str, list[outputs.Bundle]] | None:
    """The report's prepared sections, or None (no file, another user's or one others can
    write, unreadable, or made for other parameters: the notebook works them out)."""
    if not report.prepared:
        return None
    path = Path(report.prepared)
    why = (model_cache.untrusted_because(path, path.parent) if path.is_file()
           else "there is no such file")
    record: Any = None
    if why is None:
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            why = f"it cannot be read ({type(exc).__name__}: {exc})"
    if why is None and not (isinstance(record, dict) and record.get("format") == FORMAT
                            and well_formed(record.get("sections"))):
        why = "it is not a prepared file of this version"
    if why is None and record.get("parameters") != as_json(report.parameters):
        why = "it was made for other parameters"
    if why is not None:
        log.info("not showing the prepared sections in %s: %s", path, why)
        return None
    return dict(record["sections"])


def show(report: Report, section: Section) -> None:
    """Show one section: as prepared by the run when the notebook was given its file,
    else worked out now."""
    if not report.read_prepared:
        report.shown_from, report.read_prepared = ready(report), True
    kept = (report.shown_from or {}).get(section.__name__)
    outputs.publish(kept if kept is not None else work_out(report, (section,))[section.__name__])
