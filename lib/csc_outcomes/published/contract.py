"""The contract of DfE's published files: EES columns, symbols, and the measure rules.

The rules are data (``data_contracts/published/*.yaml``) so that next year's release,
or a new publication, needs a YAML edit at most and never a code change.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from csc_outcomes.measures.catalogue import CATALOGUE
from csc_outcomes.paths import contracts_dir


class PublishedFileError(ValueError):
    """A published file does not meet the contract: names file, line, column and value."""

    def __init__(self, path: str | Path, message: str, *, line: int | None = None,
                 column: str | None = None, value: str | None = None) -> None:
        where = str(path) + (f", line {line}" if line else "") + (f", column {column!r}" if column else "")
        shown = f" (value {value!r})" if value is not None else ""
        super().__init__(f"{where}: {message}{shown}")
        self.path, self.line, self.column, self.value = str(path), line, column, value


@dataclass(frozen=True)
class Cell:
    """Where one number comes from: a column (or A minus B) in the rows matching ``where``."""

    columns: tuple[str, ...]
    where: tuple[tuple[str, str], ...] = ()

    @property
    def is_difference(self) -> bool:
        return len(self.columns) == 2


@dataclass(frozen=True)
class MeasureRule:
    """How one catalogue measure is read from one publication."""

    measure_id: str
    numerator: Cell
    denominator: Cell | None = None
    percent: Cell | None = None
    where: tuple[tuple[str, str], ...] = ()
    note: str = ""


@dataclass(frozen=True)
class Publication:
    """One publication's file: how it is recognised, what it must hold, what it informs."""

    name: str
    match: tuple[str, ...]
    columns: tuple[str, ...]
    rules: tuple[MeasureRule, ...] = field(default=())
    population: Cell | None = None

    def matches(self, filename: str) -> bool:
        return any(fnmatch.fnmatchcase(filename, pattern) for pattern in self.match)


@dataclass(frozen=True)
class NeighbourModel:
    """The statistical neighbour file's layout (``SN_1`` .. ``SN_10`` and closeness)."""

    match: str
    key_column: str
    name_column: str
    count: int
    neighbour_column: str
    closeness_column: str


@dataclass(frozen=True)
class EesContract:
    """The EES standard: columns every file starts with, symbols, geographies."""

    standard_columns: tuple[str, ...]
    symbols: dict[str, str]
    geographic_levels: dict[str, dict[str, str]]
    time_identifiers: tuple[str, ...]
    england_code: str
    attribution: str


def _where(spec: Any, context: str) -> tuple[tuple[str, str], ...]:
    if spec is None:
        return ()
    if not isinstance(spec, dict):
        raise TypeError(f"{context}: 'where' must map column -> value, got {spec!r}")
    return tuple((str(k), str(v)) for k, v in spec.items())


def _cell(spec: Any, context: str) -> Cell:
    if not isinstance(spec, dict) or ("column" in spec) == ("difference" in spec):
        raise ValueError(f"{context}: a cell is {{column: C}} or {{difference: [A, B]}}, got {spec!r}")
    cols = (spec["column"],) if "column" in spec else tuple(spec["difference"])
    if len(cols) not in (1, 2):
        raise ValueError(f"{context}: 'difference' takes two columns, got {cols!r}")
    return Cell(tuple(str(c) for c in cols), _where(spec.get("where"), context))


def _rule(measure_id: str, spec: dict[str, Any], context: str) -> MeasureRule:
    if measure_id not in CATALOGUE:
        raise ValueError(f"{context}: {measure_id!r} is not a catalogue measure id")
    ctx = f"{context}.{measure_id}"
    optional = {k: _cell(spec[k], f"{ctx}.{k}") for k in ("denominator", "percent") if k in spec}
    return MeasureRule(measure_id, _cell(spec.get("numerator"), f"{ctx}.numerator"),
                       optional.get("denominator"), optional.get("percent"),
                       _where(spec.get("where"), ctx), " ".join(str(spec.get("note", "")).split()))


def _publication(name: str, spec: dict[str, Any]) -> Publication:
    context = f"data_contracts/published/measures.yaml: publications.{name}"
    match = spec["match"] if isinstance(spec["match"], list) else [spec["match"]]
    rules = tuple(_rule(mid, r, context) for mid, r in (spec.get("measures") or {}).items())
    population = _cell(spec["population"], f"{context}.population") if "population" in spec else None
    return Publication(name, tuple(match), tuple(spec.get("columns") or ()), rules, population)


def _read_yaml(name: str) -> dict[str, Any]:
    path = contracts_dir() / "published" / name
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise TypeError(f"{path} does not hold a mapping")
    return data


@cache
def ees_contract() -> EesContract:
    """The EES standard columns, symbols and geographies (``ees.yaml``)."""
    d = _read_yaml("ees.yaml")
    return EesContract(tuple(d["standard_columns"]), dict(d["symbols"]),
                       dict(d["geographic_levels"]), tuple(d["time_identifiers"]),
                       str(d["england_code"]), " ".join(str(d["attribution"]).split()))


@cache
def publications() -> tuple[Publication, ...]:
    """Every publication the kit reads, with its measure rules (``measures.yaml``)."""
    d = _read_yaml("measures.yaml")
    return tuple(_publication(name, spec) for name, spec in d["publications"].items())


@cache
def neighbour_model() -> NeighbourModel:
    """The statistical neighbour file's layout (``measures.yaml``, ``neighbours``)."""
    d = _read_yaml("measures.yaml")["neighbours"]
    return NeighbourModel(d["match"], d["key_column"], d["name_column"], int(d["count"]),
                          d["neighbour_column"], d["closeness_column"])


def publication_for(filename: str) -> Publication | None:
    """The publication a file name belongs to, or None."""
    return next((p for p in publications() if p.matches(filename)), None)


def measure_notes() -> dict[str, str]:
    """measure_id -> how DfE's published definition differs from the catalogue's."""
    return {r.measure_id: r.note for p in publications() for r in p.rules if r.note}


ATTRIBUTION = ees_contract().attribution
