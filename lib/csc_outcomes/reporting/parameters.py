"""The run's parameter files: ``parameters/defaults.yaml``, ``<LA>.yaml``, ``schedules/``.

They let an LA set, once, what a command line would otherwise repeat: the period, the
notebooks, the formats, an LA's display name and statistical neighbours. A missing
defaults or LA file means "no settings" (``{}``); a missing schedule is an error, since
someone asked for it by name. The folder defaults to the kit's ``parameters/``
(``csc_outcomes.paths.parameters_dir``).

Every file is checked as it is read against its schema (``parameter_schema``), and
:func:`check_folder` checks all of them at once, so that a command refuses a wrong
value (exit 2, naming the file, key, what was expected and what was found) or broken
YAML (naming the file and line) before it starts any work.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from csc_outcomes import paths
from csc_outcomes.measures import table
from csc_outcomes.reporting.la_register import defaults_for
from csc_outcomes.reporting.parameter_schema import (
    DEFAULTS,
    LA_CODE,
    LA_FILE,
    NAME,
    SCHEDULE,
    ParameterError,
    Rule,
    validate,
)


def _folder(parameters_dir: str | Path | None) -> Path:
    return Path(parameters_dir) if parameters_dir else paths.parameters_dir()


def read_yaml(path: Path, schema: dict[str, Rule]) -> dict[str, Any]:
    """The mapping in ``path`` (``{}`` when the file is absent or empty), checked against
    ``schema``; :class:`ParameterError` for broken YAML (with its line) or a wrong value."""
    if not path.is_file():
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f", line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ParameterError(f"{path}{where}: not valid YAML ({problem}); fix the file") from None
    except UnicodeDecodeError as exc:
        raise ParameterError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    return validate({} if data is None else data, schema, path)


def load_defaults(parameters_dir: str | Path | None = None) -> dict[str, Any]:
    """``defaults.yaml``: the options a run takes when neither command line nor schedule sets them."""
    return read_yaml(_folder(parameters_dir) / "defaults.yaml", DEFAULTS)


def load_la_parameters(la_code: str, parameters_dir: str | Path | None = None) -> dict[str, Any]:
    """``<LA>.yaml`` (``{}`` when absent): display name, statistical neighbours, region,
    ``like`` (the real LA a synthetic one stands in for). A real LA's name, region and
    statistical neighbours default to DfE's (``la_register.defaults_for``): its file
    needs no list. :class:`ParameterError` when ``la_code`` is not an LA code (it names
    a file: never a path)."""
    if not LA_CODE.test(la_code):
        raise ParameterError(f"{la_code!r} is not {LA_CODE.expected}")
    return {**defaults_for(la_code), **read_yaml(_folder(parameters_dir) / f"{la_code}.yaml", LA_FILE)}


def load_schedule(name: str, parameters_dir: str | Path | None = None) -> dict[str, Any]:
    """``schedules/<name>.yaml``; raises ``FileNotFoundError`` naming the path when absent."""
    folder = _folder(parameters_dir) / "schedules"
    path = folder / f"{name}.yaml"
    if not NAME.test(name) or not path.is_file():
        known = ", ".join(sorted(p.stem for p in folder.glob("*.yaml"))) or "none"
        raise FileNotFoundError(f"no schedule {name!r}: {path} does not exist (schedules: {known})")
    return read_yaml(path, SCHEDULE)


def check_folder(parameters_dir: str | Path | None = None) -> None:
    """Check every file of the parameters folder (``defaults.yaml``, each ``<LA>.yaml``,
    ``schedules/*.yaml``); one :class:`ParameterError` listing every problem found."""
    folder = _folder(parameters_dir)
    if not (folder / "defaults.yaml").is_file():
        raise ParameterError(f"{folder}: not a parameters folder (no defaults.yaml there); give "
                             "--parameters-dir the folder that holds defaults.yaml, <LA>.yaml "
                             "and schedules/")
    la_files = [p for p in sorted(folder.glob("*.yaml")) if p.name != "defaults.yaml"]
    found = [f"{p}: the file name is not an LA code ({LA_CODE.expected}); an LA's parameters are "
             "in <LA code>.yaml" for p in la_files if not LA_CODE.test(p.stem)]
    files = [(p, LA_FILE) for p in la_files if LA_CODE.test(p.stem)]
    files += [(folder / "defaults.yaml", DEFAULTS)]
    files += [(p, SCHEDULE) for p in sorted((folder / "schedules").glob("*.yaml"))]
    for path, schema in files:
        try:
            read_yaml(path, schema)
        except ParameterError as exc:
            found.append(str(exc))
    if found:
        raise ParameterError("\n".join(found))


def display_subtitle(la_code: str, la_name: str | None, period_end: Any) -> str:
    """The report's subtitle, e.g. ``Synthetia (SYN01), year ending 31 March 2026``."""
    d = table.parse_period_end(period_end)
    who = f"{la_name} ({la_code})" if la_name and la_name != la_code else la_code
    return f"{who}, year ending {d.day} {d:%B %Y}"
