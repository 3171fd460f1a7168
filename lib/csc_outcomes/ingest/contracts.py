"""Data contracts: ``data_contracts/*.yaml`` loaded into specs, code lists and dtypes.

A contract is data a research partner can read (``data_contracts/<source>/<table>.yaml``
and ``data_contracts/<source>/codes.yaml``, the code lists versioned by collection
year; see ``data_contracts/README.md``). This module loads them into :class:`Contract`
specs and gives the canonical dtypes every step agrees on. Typing a frame of strings
is :mod:`~csc_outcomes.ingest.parse`'s job, validating it :mod:`~csc_outcomes.ingest.schema`'s.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import yaml

from csc_outcomes.keys import RECORD_KEYS, TABLE_SOURCE
from csc_outcomes.paths import contracts_dir

#: Years the contracts cover (the year a return ends).
FIRST_YEAR, LAST_YEAR = 2017, 2027


@dataclass(frozen=True)
class ColumnSpec:
    """One column of a contract, as its YAML describes it."""

    name: str
    type: str
    required: bool = False
    codes: str | None = None
    checks: tuple[str, ...] = ()
    min: float | None = None
    max: float | None = None
    upper: bool = False
    future_ok: bool = False
    true_values: tuple[str, ...] = ()
    description: str = ""


@dataclass(frozen=True)
class Contract:
    """The contract of one canonical table: its columns and the checks the YAML names."""

    table: str
    source: str
    key: list[str]
    columns: dict[str, ColumnSpec]
    checks: list[dict]
    cross_checks: list[dict]
    aliases: dict[str, str] = field(default_factory=dict)
    first_year: int = FIRST_YEAR
    description: str = ""

    @property
    def fields(self) -> list[str]:
        """The column names, in the contract's order."""
        return list(self.columns)

    @property
    def required(self) -> list[str]:
        """The columns a row must fill (a file must carry them)."""
        return [c for c, s in self.columns.items() if s.required]


def _column_spec(name: str, spec: dict | None) -> ColumnSpec:
    """A column's YAML mapping as a :class:`ColumnSpec` (defaults for what it leaves out)."""
    spec = dict(spec or {})
    return ColumnSpec(
        name=name,
        type=spec.get("type", "text"),
        required=bool(spec.get("required", False)),
        codes=spec.get("codes"),
        checks=tuple(spec.get("checks", ())),
        min=spec.get("min"),
        max=spec.get("max"),
        upper=bool(spec.get("upper", False)),
        future_ok=bool(spec.get("future_ok", False)),
        true_values=tuple(str(v).upper() for v in spec.get("true_values", ())),
        description=str(spec.get("description", "")),
    )


@functools.cache
def load_contract(table: str) -> Contract:
    """The contract of a canonical table."""
    source = TABLE_SOURCE[table]
    data = yaml.safe_load((contracts_dir() / source / f"{table}.yaml").read_text("utf-8"))
    return Contract(
        table=data["table"],
        source=data["source"],
        key=list(data.get("key", RECORD_KEYS[table])),
        columns={name: _column_spec(name, spec) for name, spec in data["columns"].items()},
        checks=list(data.get("checks", [])),
        cross_checks=list(data.get("cross_checks", [])),
        aliases=dict(data.get("aliases", {})),
        first_year=int(data.get("first_year", FIRST_YEAR)),
        description=str(data.get("description", "")).strip(),
    )


@functools.cache
def load_codes(source: str) -> dict[str, dict]:
    """The code lists of a source, as written in its ``codes.yaml``."""
    path = contracts_dir() / source / "codes.yaml"
    return yaml.safe_load(path.read_text("utf-8")) or {}


@functools.cache
def code_list(source: str, name: str, year: int) -> tuple[str, ...]:
    """Codes of list ``name`` valid in collection ``year`` (changes applied in year order)."""
    spec = load_codes(source)[name]
    if any(isinstance(c, bool) for c in spec["codes"]):
        raise ValueError(f"{source}/codes.yaml {name}: quote YES/NO/ON/OFF codes "
                         "(YAML reads them as booleans)")
    codes = [str(c).upper() for c in spec["codes"]]
    for change_year in sorted(int(y) for y in (spec.get("changes") or {})):
        if change_year > year:
            break
        change = spec["changes"][change_year]
        removed = {str(c).upper() for c in change.get("remove", [])}
        codes = [c for c in codes if c not in removed]
        codes += [str(c).upper() for c in change.get("add", []) if str(c).upper() not in codes]
    return tuple(codes)


def codes_by_year(source: str, name: str) -> dict[int, tuple[str, ...]]:
    """The resolved code list of every supported collection year (for documentation)."""
    return {y: code_list(source, name, y) for y in range(FIRST_YEAR, LAST_YEAR + 1)}


#: The pandas dtype of each column type of the YAML.
DTYPES = {
    "id": "str",
    "code": "str",
    "code_set": "str",
    "postcode": "str",
    "text": "str",
    "date": "datetime64[ns]",
    "int": "Int64",
    "flag": "Int64",
    "bool": "boolean",
}

#: The dtypes of the lineage columns every canonical table carries.
LINEAGE_DTYPES = {"la_code": "str", "collection_year": "Int64", "source_file": "str",
                  "source_line": "Int64"}


def canonical_dtypes(table: str) -> dict[str, str]:
    """Column -> dtype of a canonical table, fields then lineage columns."""
    c = load_contract(table)
    out = {name: DTYPES[spec.type] for name, spec in c.columns.items()}
    out.update(LINEAGE_DTYPES)
    return out


def str_dtype() -> Any:
    """The string dtype of canonical text columns: pandas' ``str`` (NaN for missing)
    on pandas >= 2.3, ``object`` before."""
    try:
        return pd.StringDtype(na_value=np.nan)
    except TypeError:  # pragma: no cover - pandas < 2.3
        return object


def _coerce_column(s: pd.Series, dtype: str) -> pd.Series:
    """``s`` as ``dtype`` (a :data:`DTYPES` value), untouched when it already is."""
    if dtype == "str":
        if s.dtype != str_dtype():
            s = s.astype(object).where(s.notna(), None).astype(str_dtype())
    elif dtype == "datetime64[ns]":
        if s.dtype != "datetime64[ns]":
            s = pd.to_datetime(s).astype("datetime64[ns]")
    elif dtype == "boolean":
        if s.dtype != "boolean":
            s = s.astype("boolean")
    elif dtype == "Int64":
        if s.dtype != "Int64":
            s = (pd.to_numeric(s) if s.dtype == object else s).astype(pd.Int64Dtype())
    else:
        raise ValueError(f"no canonical dtype {dtype!r}")
    return s


def coerce_frame(df: pd.DataFrame, table: str, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """Give ``df`` the canonical columns (in order) and dtypes of ``table``; only
    ``columns`` of them when given (a projected read)."""
    out = {}
    dtypes = canonical_dtypes(table)
    for col, dtype in (dtypes.items() if columns is None else ((c, dtypes[c]) for c in columns)):
        s = df[col] if col in df.columns else pd.Series([None] * len(df), index=df.index, dtype=object)
        out[col] = _coerce_column(s, dtype)
    return pd.DataFrame(out, index=df.index)


def empty_frame(table: str) -> pd.DataFrame:
    """An empty canonical table with the right columns and dtypes."""
    return coerce_frame(pd.DataFrame(), table)
