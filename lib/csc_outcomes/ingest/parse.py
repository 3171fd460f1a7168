"""Typing a frame of strings by its contract, reporting every value it cannot read.

Cells are stripped (blank -> missing); codes and postcodes upper-cased; dates parsed
from ``dd/mm/yyyy`` or ISO; whole numbers, 0/1 flags and booleans read. A value that
cannot be read becomes missing and is reported as an ``error`` problem. Everything is
vectorised: whole columns at once, no Python loop per row.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from csc_outcomes.ingest.contracts import ColumnSpec, Contract, str_dtype
from csc_outcomes.ingest.problems import concat_problems, problems

DATE_FORMATS = ["%d/%m/%Y", "%Y-%m-%d", "%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%Y-%m-%dT%H:%M:%S",
                "%Y-%m-%d %H:%M:%S"]

TRUE_VALUES = frozenset({"1", "TRUE", "T", "Y", "YES"})
FALSE_VALUES = frozenset({"0", "FALSE", "F", "N", "NO"})


def parse_dates(s: pd.Series) -> pd.Series:
    """Parse ``dd/mm/yyyy`` or ISO dates (times dropped); unreadable values become NaT."""
    present = s.notna()
    if not present.any():
        return pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns]")
    sample = str(s[present].iloc[0])
    formats = list(DATE_FORMATS)
    if len(sample) >= 5 and sample[4] == "-":  # ISO first when the column looks ISO
        formats.remove("%Y-%m-%d")
        formats.insert(0, "%Y-%m-%d")
    first = pd.to_datetime(s, format=formats[0], errors="coerce")
    todo = present & first.isna()
    if not todo.any():  # the usual case: every date in the column's own format
        return first.astype("datetime64[ns]")
    out = first.astype("datetime64[ns]")
    for fmt in formats[1:]:
        if not todo.any():
            break
        parsed = pd.to_datetime(s[todo], format=fmt, errors="coerce")
        ok = parsed.notna()
        if ok.any():
            out.loc[ok[ok].index] = parsed[ok].dt.normalize().astype("datetime64[ns]")
            todo.loc[ok[ok].index] = False
    return out


def strip_text(s: pd.Series) -> pd.Series:
    """``s`` as text, stripped, with blank values missing."""
    s = s.astype(str_dtype()).str.strip()
    return s.where(s != "")


def _unreadable(name: str, s: pd.Series, bad: pd.Series, rule: str, tail: str) -> list[pd.DataFrame]:
    """The problem of each value of ``s`` flagged ``bad`` ([] when none is)."""
    if not bad.any():
        return []
    vals = s[bad]
    return [problems(np.flatnonzero(bad.to_numpy()), name, vals, rule,
                     name + " '" + vals + "' " + tail, "error")]


#: A column typer: (stripped text, its spec) -> (typed column, problems).
Typer = Callable[[pd.Series, ColumnSpec], tuple[pd.Series, list[pd.DataFrame]]]


def _type_code(s: pd.Series, spec: ColumnSpec) -> tuple[pd.Series, list[pd.DataFrame]]:
    """Codes upper case (postcodes with single spaces): systems differ in case."""
    v = s.str.upper()
    if spec.type == "postcode":
        v = v.str.replace(r"\s+", " ", regex=True)
    return v, []


def _type_code_set(s: pd.Series, spec: ColumnSpec) -> tuple[pd.Series, list[pd.DataFrame]]:
    """Space-separated codes, upper case, single spaces."""
    return s.str.upper().str.replace(r"\s+", " ", regex=True), []


def _type_text(s: pd.Series, spec: ColumnSpec) -> tuple[pd.Series, list[pd.DataFrame]]:
    """Identifiers and free text, as written (stripped)."""
    return s, []


def _type_date(s: pd.Series, spec: ColumnSpec) -> tuple[pd.Series, list[pd.DataFrame]]:
    """Dates (:func:`parse_dates`); a value that is no date is an error."""
    d = parse_dates(s)
    return d, _unreadable(spec.name, s, s.notna() & d.isna(), "date_format",
                          "is not a date; write dates as dd/mm/yyyy or yyyy-mm-dd")


def _type_int(s: pd.Series, spec: ColumnSpec) -> tuple[pd.Series, list[pd.DataFrame]]:
    """Whole numbers and 0/1 flags (``Int64``); anything else is an error."""
    num = pd.to_numeric(s, errors="coerce")
    bad = s.notna() & (num.isna() | (num.notna() & (num % 1 != 0)))
    flag = spec.type == "flag"
    probs = _unreadable(spec.name, s, bad, "flag" if flag else "integer",
                        f"is not {'0 or 1' if flag else 'a whole number'}; correct the value or "
                        "leave it blank")
    return num.where(~bad).astype("Float64").astype("Int64"), probs


def _type_bool(s: pd.Series, spec: ColumnSpec) -> tuple[pd.Series, list[pd.DataFrame]]:
    """Booleans from 1/0, true/false, yes/no (and the column's ``true_values``)."""
    u = s.str.upper()
    true = u.isin(list(TRUE_VALUES | set(spec.true_values)))
    false = u.isin(list(FALSE_VALUES))
    probs = _unreadable(spec.name, s, s.notna() & ~true & ~false, "boolean",
                        "is not a boolean; write true/false or 1/0")
    b = pd.Series(pd.NA, index=s.index, dtype="boolean")
    b[true.to_numpy()] = True
    b[false.to_numpy()] = False
    return b, probs


#: The typer of each column type of the YAML.
TYPERS: dict[str, Typer] = {
    "code": _type_code, "postcode": _type_code, "code_set": _type_code_set,
    "id": _type_text, "text": _type_text, "date": _type_date,
    "int": _type_int, "flag": _type_int, "bool": _type_bool,
}


def _typer(spec: ColumnSpec, table: str) -> Typer:
    """The typer of a column (a contract error for an unknown type)."""
    if spec.upper:
        return _type_code  # ``upper: true``: read as a code, whatever the type
    if spec.type not in TYPERS:
        raise ValueError(f"unknown column type {spec.type!r} in contract {table}")
    return TYPERS[spec.type]


def type_frame(raw: pd.DataFrame, contract: Contract) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Type a frame of strings by its contract.

    Returns ``(typed, shown, problems)``: the typed frame, the stripped text of every
    cell (what problems quote as the value) and the values that could not be read.
    ``raw`` must carry the contract's columns (missing ones are blank).
    """
    typed: dict[str, pd.Series] = {}
    shown: dict[str, pd.Series] = {}
    probs: list[pd.DataFrame] = []
    for name, spec in contract.columns.items():
        if name in raw.columns:
            s = strip_text(raw[name])
        else:
            s = pd.Series(np.nan, index=raw.index, dtype=str_dtype())
        shown[name] = s
        typed[name], found = _typer(spec, contract.table)(s, spec)
        probs += found
    return (pd.DataFrame(typed, index=raw.index), pd.DataFrame(shown, index=raw.index),
            concat_problems(probs))
