"""Data contracts: ``data_contracts/*.yaml`` turned into typed frames and pandera schemas.

A contract is data a research partner can read (``data_contracts/<source>/<table>.yaml``
and ``data_contracts/<source>/codes.yaml``, the code lists versioned by collection
year). This module

1. types a frame of strings (strip, blank -> missing, upper-case codes, parse dates
   ``dd/mm/yyyy`` or ISO, whole numbers, 0/1 flags and booleans), reporting every value
   it cannot read;
2. validates the typed frame with a pandera schema built for the table and the
   collection year (code lists of that year, required fields, ranges, dates not after
   "today", the custom checks the YAML names), lazily, so that every problem is
   listed at once;
3. offers the cross-row and cross-table checks the YAML names under ``cross_checks``.

Everything is vectorised: pandera runs on whole frames and the custom checks are
column expressions; no Python loop runs per row.

Problems are frames with the columns of :data:`PROBLEM_COLUMNS`; ``row`` is the row's
position in the frame validated, ``severity`` is ``error`` (the row is quarantined in
``rejects``) or ``warning`` (reported, the row kept).
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd
import yaml

try:  # pandera >= 0.24
    import pandera.pandas as pa
except ImportError:  # pragma: no cover - older pandera
    import pandera as pa

from csc_outcomes.paths import contracts_dir
from csc_outcomes.keys import LINEAGE_COLUMNS, RECORD_KEYS, TABLE_SOURCE

#: Years the contracts cover (the year a return ends).
FIRST_YEAR, LAST_YEAR = 2017, 2027

PROBLEM_COLUMNS = ["row", "line", "column", "value", "rule", "message", "severity"]




# --------------------------------------------------------------------------- loading


@dataclass(frozen=True)
class ColumnSpec:
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
        return list(self.columns)

    @property
    def required(self) -> list[str]:
        return [c for c, s in self.columns.items() if s.required]


@functools.lru_cache(maxsize=None)
def load_contract(table: str) -> Contract:
    """The contract of a canonical table."""
    source = TABLE_SOURCE[table]
    folder = "cin" if source == "cin" else source
    data = yaml.safe_load((contracts_dir() / folder / f"{table}.yaml").read_text("utf-8"))
    cols = {}
    for name, spec in data["columns"].items():
        spec = dict(spec or {})
        cols[name] = ColumnSpec(
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
    return Contract(
        table=data["table"],
        source=data["source"],
        key=list(data.get("key", RECORD_KEYS[table])),
        columns=cols,
        checks=list(data.get("checks", [])),
        cross_checks=list(data.get("cross_checks", [])),
        aliases=dict(data.get("aliases", {})),
        first_year=int(data.get("first_year", FIRST_YEAR)),
        description=str(data.get("description", "")).strip(),
    )


@functools.lru_cache(maxsize=None)
def load_codes(source: str) -> dict[str, dict]:
    """The code lists of a source, as written in its ``codes.yaml``."""
    path = contracts_dir() / source / "codes.yaml"
    return yaml.safe_load(path.read_text("utf-8")) or {}


@functools.lru_cache(maxsize=None)
def code_list(source: str, name: str, year: int) -> tuple[str, ...]:
    """Codes of list ``name`` valid in collection ``year`` (changes applied in year order)."""
    spec = load_codes(source)[name]
    if any(isinstance(c, bool) for c in spec["codes"]):
        raise ValueError(f"{source}/codes.yaml {name}: quote YES/NO/ON/OFF codes (YAML reads them as booleans)")
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


# --------------------------------------------------------------------------- dtypes

_DTYPES = {
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

_LINEAGE_DTYPES = {"la_code": "str", "collection_year": "Int64", "source_file": "str", "source_line": "Int64"}


def canonical_dtypes(table: str) -> dict[str, str]:
    """Column -> dtype of a canonical table, fields then lineage columns."""
    c = load_contract(table)
    out = {name: _DTYPES[spec.type] for name, spec in c.columns.items()}
    out.update(_LINEAGE_DTYPES)
    return out


def _str_dtype() -> Any:
    """The string dtype: pandas' default ``str`` on pandas 3, ``object`` before."""
    try:
        return pd.StringDtype(na_value=np.nan)  # pandas >= 2.3 / 3
    except TypeError:  # pragma: no cover
        return object


def coerce_frame(df: pd.DataFrame, table: str) -> pd.DataFrame:
    """Give ``df`` the canonical columns (in order) and dtypes of ``table``."""
    dtypes = canonical_dtypes(table)
    out = {}
    n = len(df)
    for col, dtype in dtypes.items():
        s = df[col] if col in df.columns else pd.Series([None] * n, index=df.index, dtype=object)
        if dtype == "str":
            if s.dtype != _str_dtype():
                s = s.astype(object).where(s.notna(), None).astype(_str_dtype())
        elif dtype == "datetime64[ns]":
            if s.dtype != "datetime64[ns]":
                s = pd.to_datetime(s).astype("datetime64[ns]")
        elif dtype == "boolean":
            if s.dtype != "boolean":
                s = s.astype("boolean")
        elif s.dtype == dtype:
            pass
        else:
            s = pd.to_numeric(s).astype(dtype) if s.dtype == object else s.astype(dtype)
        out[col] = s
    return pd.DataFrame(out, index=df.index)


def empty_frame(table: str) -> pd.DataFrame:
    """An empty canonical table with the right columns and dtypes."""
    return coerce_frame(pd.DataFrame(), table)


# --------------------------------------------------------------------------- problems


_EMPTY_PROBLEMS = pd.DataFrame({c: pd.Series(dtype="Int64" if c in ("row", "line") else object) for c in PROBLEM_COLUMNS})


def empty_problems() -> pd.DataFrame:
    return _EMPTY_PROBLEMS.copy()


def _problems(rows, column, values, rule, messages, severity, lines=None) -> pd.DataFrame:
    rows = np.asarray(rows, dtype="int64")
    n = len(rows)
    return pd.DataFrame(
        {
            "row": rows,
            "line": np.asarray(lines, dtype="int64") if lines is not None else np.full(n, -1),
            "column": [column] * n if not isinstance(column, (list, np.ndarray, pd.Series)) else list(column),
            "value": list(values) if not isinstance(values, str) else [values] * n,
            "rule": rule,
            "message": list(messages) if not isinstance(messages, str) else [messages] * n,
            "severity": severity,
        }
    )


def concat_problems(frames: list[pd.DataFrame]) -> pd.DataFrame:
    frames = [f for f in frames if len(f)]
    if not frames:
        return empty_problems()
    return pd.concat(frames, ignore_index=True)


# --------------------------------------------------------------------------- typing

DATE_FORMATS = ["%d/%m/%Y", "%Y-%m-%d", "%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"]

_TRUE = {"1", "TRUE", "T", "Y", "YES"}
_FALSE = {"0", "FALSE", "F", "N", "NO"}


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


def _strip(s: pd.Series) -> pd.Series:
    s = s.astype(_str_dtype()).str.strip()
    return s.where(s != "")


def type_frame(raw: pd.DataFrame, contract: Contract) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Type a frame of strings by its contract.

    Returns ``(typed, shown, problems)``: the typed frame, the stripped text of every
    cell (what problems quote as the value) and the values that could not be read.
    ``raw`` must carry the contract's columns (missing ones are blank).
    """
    typed: dict[str, pd.Series] = {}
    shown: dict[str, pd.Series] = {}
    probs = []
    for name, spec in contract.columns.items():
        s = _strip(raw[name]) if name in raw.columns else pd.Series(np.nan, index=raw.index, dtype=_str_dtype())
        shown[name] = s
        t = spec.type
        if t in ("code", "postcode") or spec.upper:
            v = s.str.upper()
            if t == "postcode":
                v = v.str.replace(r"\s+", " ", regex=True)
            typed[name] = v
        elif t == "code_set":
            typed[name] = s.str.upper().str.replace(r"\s+", " ", regex=True)
        elif t in ("id", "text"):
            typed[name] = s
        elif t == "date":
            d = parse_dates(s)
            bad = s.notna() & d.isna()
            if bad.any():
                rows = np.flatnonzero(bad.to_numpy())
                vals = s[bad]
                probs.append(_problems(rows, name, vals, "date_format",
                                       name + " '" + vals + "' is not a date; write dates as dd/mm/yyyy or yyyy-mm-dd",
                                       "error"))
            typed[name] = d
        elif t in ("int", "flag"):
            num = pd.to_numeric(s, errors="coerce")
            bad = s.notna() & (num.isna() | (num.notna() & (num % 1 != 0)))
            if bad.any():
                rows = np.flatnonzero(bad.to_numpy())
                vals = s[bad]
                what = "0 or 1" if t == "flag" else "a whole number"
                probs.append(_problems(rows, name, vals, "flag" if t == "flag" else "integer",
                                       name + " '" + vals + f"' is not {what}; correct the value or leave it blank",
                                       "error"))
            typed[name] = num.where(~bad).astype("Float64").astype("Int64")
        elif t == "bool":
            u = s.str.upper()
            true = u.isin(list(_TRUE | set(spec.true_values)))
            false = u.isin(list(_FALSE))
            bad = s.notna() & ~true & ~false
            if bad.any():
                rows = np.flatnonzero(bad.to_numpy())
                vals = s[bad]
                probs.append(_problems(rows, name, vals, "boolean",
                                       name + " '" + vals + "' is not a boolean; write true/false or 1/0", "error"))
            b = pd.Series(pd.NA, index=s.index, dtype="boolean")
            b[true.to_numpy()] = True
            b[false.to_numpy()] = False
            typed[name] = b
        else:  # pragma: no cover - contract error
            raise ValueError(f"unknown column type {t!r} in contract {contract.table}")
    return pd.DataFrame(typed, index=raw.index), pd.DataFrame(shown, index=raw.index), concat_problems(probs)


# --------------------------------------------------------------------------- custom checks

#: Column checks named in the YAML: name -> (vectorised function, severity, message tail).
_UPN_RE = r"^(?:[A-Z]\d{11}[0-9A-Z]|UN(?:10|[1-9]))$"
_POSTCODE_RE = r"^[A-Z]{1,2}\d[A-Z\d]? ?\d(?:[A-Z]{2})?$"
_ACCOM_RE = r"^(?:[A-Z][12]|0)$"

COLUMN_CHECKS: dict[str, tuple[Callable[[pd.Series], pd.Series], str, str]] = {
    "upn_format": (
        lambda s: s.str.fullmatch(_UPN_RE).fillna(True).astype(bool),
        "warning",
        "is not a UPN (a letter then 12 characters, e.g. A123456789012, or UN1-UN10); check the pupil number",
    ),
    "postcode_format": (
        lambda s: s.str.fullmatch(_POSTCODE_RE).fillna(True).astype(bool),
        "warning",
        "is not a UK postcode or postcode sector (e.g. AB1 2CD or AB1 2); check the postcode",
    ),
    "accom_format": (
        lambda s: s.str.fullmatch(_ACCOM_RE).fillna(True).astype(bool),
        "error",
        "is not an accommodation code (a letter then 1 or 2, e.g. U1, or 0)",
    ),
}


def _date_order(df: pd.DataFrame, earlier: str, later: str) -> pd.Series:
    return ~(df[later] < df[earlier]).fillna(False).astype(bool)


def _sessions_within_possible(df: pd.DataFrame, possible: str, auth: str, unauth: str) -> pd.Series:
    total = df[auth].fillna(0) + df[unauth].fillna(0)
    return ~(total > df[possible]).fillna(False).astype(bool)


#: Row checks (several columns) named in the YAML under ``checks``.
ROW_CHECKS: dict[str, Callable[..., pd.Series]] = {
    "date_order": _date_order,
    "sessions_within_possible": _sessions_within_possible,
}


# --------------------------------------------------------------------------- schema


@functools.lru_cache(maxsize=512)
def build_schema(table: str, year: int, today: dt.date) -> pa.DataFrameSchema:
    """The pandera schema of ``table`` for collection ``year``, dates checked against ``today``."""
    c = load_contract(table)
    source = "cin" if c.source == "cin" else c.source
    ts = pd.Timestamp(today)
    columns = {}
    for name, spec in c.columns.items():
        checks = []
        if spec.codes and spec.type in ("code", "flag"):
            codes = list(code_list(source, spec.codes, year))
            if spec.type == "flag":
                codes = [int(x) for x in codes]
            checks.append(pa.Check(lambda v, codes=codes: v.isin(codes), name="code_list"))
        if spec.codes and spec.type == "code_set":
            allowed = list(code_list(source, spec.codes, year))

            def _set_ok(s: pd.Series, allowed=allowed) -> pd.Series:
                parts = s.str.split(" ").explode()
                ok = parts.isin(allowed) | parts.isna()
                return ok.groupby(level=0).all().reindex(s.index, fill_value=True)

            checks.append(pa.Check(_set_ok, name="code_list"))
        if spec.min is not None:
            checks.append(pa.Check(lambda v, lo=spec.min: v >= lo, name="range"))
        if spec.max is not None:
            checks.append(pa.Check(lambda v, hi=spec.max: v <= hi, name="range"))
        if spec.type == "date" and not spec.future_ok:
            checks.append(pa.Check(lambda s, ts=ts: s <= ts, name="future_date"))
        for chk in spec.checks:
            fn = COLUMN_CHECKS[chk][0]
            checks.append(pa.Check(fn, name=chk))
        columns[name] = pa.Column(None, nullable=not spec.required, checks=checks, required=True)
    frame_checks = []
    for chk in c.checks:
        fn = ROW_CHECKS[chk["name"]]
        frame_checks.append(pa.Check(lambda df, fn=fn, cols=tuple(chk["columns"]): fn(df, *cols),
                                     name=f"{chk['name']}:{chk['report']}"))
    return pa.DataFrameSchema(columns, checks=frame_checks, strict=False, coerce=False)


def _code_message(table: str, year: int) -> Callable[[str, pd.Series], pd.Series]:
    c = load_contract(table)
    source = c.source

    def msg(col: str, vals: pd.Series) -> pd.Series:
        spec = c.columns[col]
        codes = code_list(source, spec.codes, year)
        shown = " ".join(codes) if len(codes) <= 30 else " ".join(codes[:30]) + " ..."
        other = [y for y in range(FIRST_YEAR, LAST_YEAR + 1) if y != year]
        return (
            col + " '" + vals.astype(str) + f"' is not a valid {spec.codes} code in collection year {year} "
            f"(valid: {shown}); correct the code, or check that the file is in the right year folder"
        )

    return msg


def validate(raw: pd.DataFrame, table: str, year: int, *, today: dt.date | None = None,
             lines: np.ndarray | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Type and validate a frame of strings for ``table`` in collection ``year``.

    Returns ``(typed, problems)`` where ``typed`` has every row (problem values
    blanked) and ``problems`` lists every problem found, with ``row`` positions and,
    when ``lines`` is given, source lines. Callers quarantine rows with an ``error``.
    """
    today = today or dt.date.today()
    c = load_contract(table)
    raw = raw.reset_index(drop=True)
    typed, shown, parse_probs = type_frame(raw, c)
    schema = build_schema(table, int(year), today)
    probs = [parse_probs]
    try:
        schema.validate(typed, lazy=True)
    except pa.errors.SchemaErrors as exc:
        probs.append(_failures_to_problems(exc.failure_cases, shown, table, int(year), today, parse_probs))
    out = concat_problems(probs)
    if lines is not None and len(out):
        out["line"] = np.asarray(lines)[out["row"].to_numpy(dtype="int64")]
    return typed, out


def _failures_to_problems(fc: pd.DataFrame, shown: pd.DataFrame, table: str, year: int,
                          today: dt.date, parse_probs: pd.DataFrame) -> pd.DataFrame:
    c = load_contract(table)
    fc = fc[fc["index"].notna()].copy()
    fc["row"] = fc["index"].astype("int64")
    out = []
    code_msg = _code_message(table, year)
    row_checks = {f"{k['name']}:{k['report']}": k for k in c.checks}
    for (check, column), grp in fc.groupby(["check", "column"], sort=False, dropna=False):
        check = str(check)
        if check in row_checks:
            spec = row_checks[check]
            if column != spec["report"]:
                continue
            grp = grp.drop_duplicates("row")
            rows = grp["row"].to_numpy()
            vals = shown[column].to_numpy()[rows]
            earlier = spec["columns"][0]
            extra = pd.Series(shown[earlier].to_numpy()[rows]).astype(str)
            msgs = (spec.get("message", check) + " (" + column + " " + pd.Series(vals).astype(str)
                    + ", " + earlier + " " + extra + ")")
            out.append(_problems(rows, column, vals, spec["name"], msgs, spec.get("severity", "error")))
            continue
        rows = grp["row"].to_numpy()
        vals = pd.Series(shown[column].to_numpy()[rows], dtype=object)
        if check == "not_nullable":
            # a value that could not be read was already reported; do not report it twice
            if len(parse_probs):
                seen = set(parse_probs.loc[parse_probs["column"] == column, "row"].astype(int))
                keep = np.array([r not in seen for r in rows], dtype=bool)
                rows, vals = rows[keep], vals[keep]
            out.append(_problems(rows, column, [None] * len(rows), "required",
                                 f"{column} is blank; every {table} row needs a {column}", "error"))
        elif check == "code_list":
            out.append(_problems(rows, column, vals, "code_list", code_msg(column, vals), "error"))
        elif check == "range":
            spec = c.columns[column]
            grp_rows = pd.Series(rows)
            keep = ~grp_rows.duplicated().to_numpy()
            rows, vals = rows[keep], vals[keep].reset_index(drop=True)
            out.append(_problems(rows, column, vals, "range",
                                 column + " " + vals.astype(str) + f" is outside {spec.min:g} to {spec.max:g}",
                                 "error"))
        elif check == "future_date":
            out.append(_problems(rows, column, vals, "future_date",
                                 column + " " + vals.astype(str) + f" is after today ({today.isoformat()}); correct the date",
                                 "error"))
        elif check in COLUMN_CHECKS:
            _, sev, tail = COLUMN_CHECKS[check]
            out.append(_problems(rows, column, vals, check, column + " '" + vals.astype(str) + "' " + tail, sev))
        else:  # pandera's own structural checks (should not happen: columns exist)
            out.append(_problems(rows, column, vals, check, f"{column}: {check}", "error"))
    return concat_problems(out)


# --------------------------------------------------------------------------- cross checks


def duplicate_keys(df: pd.DataFrame, table: str, key: list[str] | None = None,
                   group: list[str] | None = None) -> pd.DataFrame:
    """Rows repeating the record key of an earlier row in the same frame (reported on the
    later row, which wins, as ``keys.latest_versions`` decides).

    ``group`` names columns that split ``df`` into independent parts (e.g. one part per
    file when several files are checked at once); they are not shown in the messages.
    """
    key = key or load_contract(table).key
    if df.empty or not all(k in df.columns for k in key):
        return empty_problems()
    full = [*(group or []), *key]
    sub = df[full]
    dup = sub.duplicated(keep="first") & df[key].notna().all(axis=1)
    if not dup.any():
        return empty_problems()
    rows = np.flatnonzero(dup.to_numpy())
    first_line = df.groupby(full, dropna=True, sort=False)["source_line"].transform("first")
    keytxt = _key_text(df.iloc[rows], key)
    earlier = first_line.iloc[rows].astype("int64").astype(str).to_numpy(dtype=object)
    msgs = "the key " + keytxt + " repeats line " + earlier + "; this later row wins (remove one of them)"
    return _problems(rows, key[-1], keytxt, "duplicate_key", msgs, "warning",
                     lines=df["source_line"].to_numpy()[rows])


def _key_text(df: pd.DataFrame, key: list[str]) -> np.ndarray:
    parts = None
    for k in key:
        v = df[k]
        v = v.dt.strftime("%Y-%m-%d") if pd.api.types.is_datetime64_any_dtype(v) else v.astype(str)
        v = (k + "=" + v.astype(str)).to_numpy(dtype=object)
        parts = v if parts is None else parts + ", " + v
    return parts


def missing_from(df: pd.DataFrame, column: str, known: pd.Series | None, other_table: str, rule: str,
                 severity: str = "warning", missing: np.ndarray | None = None) -> pd.DataFrame:
    """Rows whose ``column`` is not among ``known`` values (e.g. episodes without a header row).

    ``missing`` may give the boolean mask of such rows instead of ``known`` (when the
    caller matched several files at once).
    """
    if df.empty:
        return empty_problems()
    if missing is None:
        bad = ~df[column].isin(known) & df[column].notna()
    else:
        bad = pd.Series(np.asarray(missing, dtype=bool), index=df.index) & df[column].notna()
    if not bad.any():
        return empty_problems()
    rows = np.flatnonzero(bad.to_numpy())
    vals = df[column].iloc[rows].astype(str)
    msgs = column + " " + vals + f" has no row in {other_table} for this LA and year; add the child to {other_table}"
    return _problems(rows, column, vals.to_numpy(), rule, msgs.to_numpy(), severity,
                     lines=df["source_line"].to_numpy()[rows])


def overlapping(df: pd.DataFrame, by: str, start: str, end: str, group: str | None = None) -> pd.DataFrame:
    """Rows that start before the same child's previous row ended (open rows never end).

    ``group`` names a column splitting ``df`` into independent parts (one per file).
    """
    if len(df) < 2:
        return empty_problems()
    sort_keys = [df[start].to_numpy(), df[by].astype(str).to_numpy()]
    if group is not None:
        sort_keys.append(df[group].to_numpy())
    order = np.lexsort(tuple(sort_keys))
    s = df.iloc[order]
    same = s[by].to_numpy()[1:] == s[by].to_numpy()[:-1]
    if group is not None:
        g = s[group].to_numpy()
        same &= g[1:] == g[:-1]
    prev_end = s[end].to_numpy()[:-1]
    prev_end = np.where(pd.isna(prev_end), np.datetime64("2262-01-01"), prev_end)
    this_start = s[start].to_numpy()[1:]
    hit = same & (this_start < prev_end)
    if not hit.any():
        return empty_problems()
    idx = np.flatnonzero(hit) + 1
    rows = order[idx]
    prev_lines = s["source_line"].to_numpy()[idx - 1].astype("int64").astype(str)
    vals = pd.Series(s[start].to_numpy()[idx]).dt.strftime("%Y-%m-%d").to_numpy(dtype=object)
    msgs = (f"{start} " + vals + f" is before the {end} of the same child's episode on line "
            + prev_lines.astype(object) + "; episodes of a child must not overlap (close the earlier one)")
    return _problems(rows, start, vals, "overlapping_episodes", msgs, "warning",
                     lines=df["source_line"].to_numpy()[rows])
