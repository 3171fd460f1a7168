"""Validating a table with its contract: a pandera schema per table and collection year.

:func:`validate` types a frame of strings (:func:`~csc_outcomes.ingest.parse.type_frame`)
and checks it with the schema of :func:`build_schema` (the code lists of that year,
required fields, ranges, dates not after "today", the named custom checks of
:mod:`~csc_outcomes.ingest.checks`), lazily, so that every problem is listed at once;
pandera's failure cases are turned into problems with messages that say how to fix
them.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from typing import ClassVar

import numpy as np
import pandas as pd

try:  # pandera >= 0.24
    import pandera.pandas as pa
except ImportError:  # pragma: no cover - older pandera
    import pandera as pa  # type: ignore[no-redef]  # the same API under its old name

from csc_outcomes.ingest.checks import COLUMN_CHECKS, ROW_CHECKS
from csc_outcomes.ingest.contracts import ColumnSpec, code_list, load_contract
from csc_outcomes.ingest.parse import type_frame
from csc_outcomes.ingest.problems import concat_problems, problems


def _code_set_check(allowed: list[str]) -> Callable[[pd.Series], pd.Series]:
    """A check that every code of a space-separated set is in ``allowed``."""

    def passes(s: pd.Series) -> pd.Series:
        """True where every code of the set is allowed (a blank set passes)."""
        parts = s.str.split(" ").explode()
        ok = parts.isin(allowed) | parts.isna()
        return ok.groupby(level=0).all().reindex(s.index, fill_value=True)

    return passes


def _column_checks(spec: ColumnSpec, source: str, year: int, today: pd.Timestamp) -> list[pa.Check]:
    """The pandera checks of one column in collection ``year``."""
    checks = []
    if spec.codes and spec.type in ("code", "flag"):
        codes: list = list(code_list(source, spec.codes, year))
        if spec.type == "flag":
            codes = [int(x) for x in codes]
        checks.append(pa.Check(lambda v, codes=codes: v.isin(codes), name="code_list"))
    if spec.codes and spec.type == "code_set":
        checks.append(pa.Check(_code_set_check(list(code_list(source, spec.codes, year))),
                               name="code_list"))
    if spec.min is not None:
        checks.append(pa.Check(lambda v, lo=spec.min: v >= lo, name="range"))
    if spec.max is not None:
        checks.append(pa.Check(lambda v, hi=spec.max: v <= hi, name="range"))
    if spec.type == "date" and not spec.future_ok:
        checks.append(pa.Check(lambda s, ts=today: s <= ts, name="future_date"))
    checks += [pa.Check(COLUMN_CHECKS[name].passes, name=name) for name in spec.checks]
    return checks


@functools.lru_cache(maxsize=512)
def build_schema(table: str, year: int, today: dt.date) -> pa.DataFrameSchema:
    """The pandera schema of ``table`` for collection ``year``, dates checked against ``today``."""
    c = load_contract(table)
    ts = pd.Timestamp(today)
    columns = {
        name: pa.Column(None, nullable=not spec.required, required=True,
                        checks=_column_checks(spec, c.source, year, ts))
        for name, spec in c.columns.items()
    }
    frame_checks = []
    for chk in c.checks:
        fn = ROW_CHECKS[chk["name"]]
        frame_checks.append(pa.Check(lambda df, fn=fn, cols=tuple(chk["columns"]): fn(df, *cols),
                                     name=f"{chk['name']}:{chk['report']}"))
    return pa.DataFrameSchema(columns, checks=frame_checks, strict=False, coerce=False)


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
        found = Failures(table, int(year), today, shown, parse_probs)
        probs.append(found.problems(exc.failure_cases))
    out = concat_problems(probs)
    if lines is not None and len(out):
        out["line"] = np.asarray(lines)[out["row"].to_numpy(dtype="int64")]
    return typed, out


class Failures:
    """Turns pandera's failure cases for one validated frame into problems.

    Each kind of check has a method giving its problems for the failing ``rows`` of
    ``column`` (``vals``: the text of those cells as written); :meth:`problems` hands
    each group of failure cases to its method.
    """

    def __init__(self, table: str, year: int, today: dt.date, shown: pd.DataFrame,
                 parse_probs: pd.DataFrame) -> None:
        self.contract = load_contract(table)
        self.table, self.year, self.today = table, year, today
        self.shown = shown
        self.parse_probs = parse_probs
        self.row_checks = {f"{k['name']}:{k['report']}": k for k in self.contract.checks}

    def problems(self, fc: pd.DataFrame) -> pd.DataFrame:
        """The problems of every failure case (one per failing cell or row)."""
        fc = fc[fc["index"].notna()].copy()
        fc["row"] = fc["index"].astype("int64")
        out = []
        for (check, column), grp in fc.groupby(["check", "column"], sort=False, dropna=False):
            name, col = str(check), str(column)
            if name in self.row_checks:
                out.append(self.row_check(self.row_checks[name], col, grp))
                continue
            rows = grp["row"].to_numpy()
            vals = pd.Series(self.shown[col].to_numpy()[rows], dtype=object)
            handler = self.HANDLERS.get(name)
            if handler is not None:
                out.append(handler(self, col, rows, vals))
            elif name in COLUMN_CHECKS:
                _, sev, tail = COLUMN_CHECKS[name]
                out.append(problems(rows, col, vals, name, col + " '" + vals.astype(str) + "' " + tail,
                                    sev))
            else:  # pandera's own structural checks (should not happen: columns exist)
                out.append(problems(rows, col, vals, name, f"{col}: {name}", "error"))
        return concat_problems(out)

    def row_check(self, spec: dict, column: str, grp: pd.DataFrame) -> pd.DataFrame:
        """A row check fails every column it reads: reported once, on its ``report`` column."""
        if column != spec["report"]:
            return concat_problems([])
        rows = grp.drop_duplicates("row")["row"].to_numpy()
        vals = self.shown[column].to_numpy()[rows]
        earlier = spec["columns"][0]
        extra = pd.Series(self.shown[earlier].to_numpy()[rows]).astype(str)
        msgs = (spec.get("message", f"{spec['name']}:{spec['report']}") + " (" + column + " "
                + pd.Series(vals).astype(str) + ", " + earlier + " " + extra + ")")
        return problems(rows, column, vals, spec["name"], msgs, spec.get("severity", "error"))

    def blank_required(self, column: str, rows: np.ndarray, vals: pd.Series) -> pd.DataFrame:
        """A blank required value (unless it is blank because it could not be read)."""
        pp = self.parse_probs
        if len(pp):
            seen = set(pp.loc[pp["column"] == column, "row"].astype(int))
            rows = rows[np.array([r not in seen for r in rows], dtype=bool)]
        return problems(rows, column, [None] * len(rows), "required",
                        f"{column} is blank; every {self.table} row needs a {column}", "error")

    def not_in_code_list(self, column: str, rows: np.ndarray, vals: pd.Series) -> pd.DataFrame:
        """A code not in the column's code list of the collection year."""
        spec = self.contract.columns[column]
        if spec.codes is None:  # pragma: no cover - code_list checks exist only with codes
            raise ValueError(f"{self.table}.{column}: a code_list failure without a code list")
        codes = code_list(self.contract.source, spec.codes, self.year)
        shown = " ".join(codes) if len(codes) <= 30 else " ".join(codes[:30]) + " ..."
        msgs = (column + " '" + vals.astype(str) + f"' is not a valid {spec.codes} code in "
                f"collection year {self.year} (valid: {shown}); correct the code, or check that the "
                "file is in the right year folder")
        return problems(rows, column, vals, "code_list", msgs, "error")

    def out_of_range(self, column: str, rows: np.ndarray, vals: pd.Series) -> pd.DataFrame:
        """A number outside the column's ``min`` to ``max`` (reported once per row)."""
        spec = self.contract.columns[column]
        keep = ~pd.Series(rows).duplicated().to_numpy()
        rows, vals = rows[keep], vals[keep].reset_index(drop=True)
        return problems(rows, column, vals, "range",
                        column + " " + vals.astype(str) + f" is outside {spec.min:g} to {spec.max:g}",
                        "error")

    def in_future(self, column: str, rows: np.ndarray, vals: pd.Series) -> pd.DataFrame:
        """A date after "today"."""
        return problems(rows, column, vals, "future_date",
                        column + " " + vals.astype(str)
                        + f" is after today ({self.today.isoformat()}); correct the date", "error")

    #: pandera's check name -> the method giving its problems
    HANDLERS: ClassVar[dict[str, Callable[[Failures, str, np.ndarray, pd.Series], pd.DataFrame]]] = {
        "not_nullable": blank_required, "code_list": not_in_code_list, "range": out_of_range,
        "future_date": in_future,
    }

