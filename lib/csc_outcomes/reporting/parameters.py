"""The run's parameter files: ``parameters/defaults.yaml``, ``<LA>.yaml``, ``schedules/``.

They let an LA set, once, what a command line would otherwise repeat: the period, the
notebooks, the formats, an LA's display name and statistical neighbours. A missing
defaults or LA file means "no settings" (``{}``); a missing schedule is an error, since
someone asked for it by name. The folder defaults to the kit's ``parameters/``
(``csc_outcomes.paths.parameters_dir``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from csc_outcomes import paths
from csc_outcomes.measures import table


def _folder(parameters_dir: str | Path | None) -> Path:
    return Path(parameters_dir) if parameters_dir else paths.parameters_dir()


def read_yaml(path: Path) -> dict[str, Any]:
    """A YAML mapping from ``path``; ``{}`` when the file is absent or empty."""
    if not path.is_file():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path} must hold a YAML mapping")  # noqa: TRY004 - bad file content, reported as a usage error
    return data


def load_defaults(parameters_dir: str | Path | None = None) -> dict[str, Any]:
    """``defaults.yaml``: the options a run takes when neither command line nor schedule sets them."""
    return read_yaml(_folder(parameters_dir) / "defaults.yaml")


def load_la_parameters(la_code: str, parameters_dir: str | Path | None = None) -> dict[str, Any]:
    """``<LA>.yaml`` (``{}`` when absent): display name, statistical neighbours."""
    return read_yaml(_folder(parameters_dir) / f"{la_code}.yaml")


def load_schedule(name: str, parameters_dir: str | Path | None = None) -> dict[str, Any]:
    """``schedules/<name>.yaml``; raises ``FileNotFoundError`` naming the path when absent."""
    path = _folder(parameters_dir) / "schedules" / f"{name}.yaml"
    if not path.is_file():
        raise FileNotFoundError(f"no schedule {name!r}: {path} does not exist")
    return read_yaml(path)


def display_subtitle(la_code: str, la_name: str | None, period_end: Any) -> str:
    """The report's subtitle, e.g. ``Synthetia (SYN01), year ending 31 March 2026``."""
    d = table.parse_period_end(period_end)
    who = f"{la_name} ({la_code})" if la_name and la_name != la_code else la_code
    return f"{who}, year ending {d.day} {d:%B %Y}"
