"""Validating the units of a batch with their contracts, many files at once.

The raw tables of every unit of the same table and collection year are validated
together (one pandera run over whole columns, :func:`~csc_outcomes.ingest.schema.validate`);
each problem is still handed to its own unit with its own row and line, and the rows
with an error are dropped. What is kept is typed, with lineage (``la_code``,
``collection_year``, ``source_file``, ``source_line``) and ``_unit``, the index of the
unit each row came from (for the cross checks and the QA report).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import numpy as np
import pandas as pd

from csc_outcomes.ingest import schema
from csc_outcomes.ingest.contracts import LAST_YEAR, coerce_frame, str_dtype
from csc_outcomes.ingest.units import Unit, hand_out, prefix_messages

#: The date that puts a feed's row in a collection year (feeds have no year folder).
FEED_DATE_COLUMNS = {"attendance": "term_start", "suspensions": "start_date", "contacts": "contact_date"}

#: The column naming the unit (its index in the ingest's list) each row came from.
UNIT_COLUMN = "_unit"


def validate_batch(batch: list[Unit], today: dt.date) -> dict[str, pd.DataFrame]:
    """The accepted rows of every unit of a batch, per table (units' raw tables released)."""
    groups: dict[tuple[str, int | None], list[Unit]] = defaultdict(list)
    for u in batch:
        if u.raw is not None and u.table is not None:
            groups[(u.table, u.year)].append(u)
    parts: dict[str, list[pd.DataFrame]] = defaultdict(list)
    for (table, year), units in groups.items():
        parts[table].append(validate_group(units, table, year, today))
    return {t: (fs[0] if len(fs) == 1 else pd.concat(fs, ignore_index=True)) for t, fs in parts.items()}


def _take_raw(unit: Unit) -> tuple[pd.DataFrame, np.ndarray]:
    """The unit's rows and their lines; its reader's notes and bad lines become problems."""
    raw = unit.raw
    if raw is None:  # pragma: no cover - validate_batch passes only units holding rows
        raise ValueError(f"{unit.label}: no rows to validate")
    df = raw.frame.reset_index(drop=True)
    unit.rows_read = len(df) + len(raw.bad_lines)
    if raw.notes:
        unit.problems.append(pd.DataFrame([{**n, "row": -1} for n in raw.notes]))
    if raw.bad_lines:
        unit.problems.append(pd.DataFrame({
            "row": -1, "line": [b[0] for b in raw.bad_lines], "column": None, "value": None,
            "rule": "field_count",
            "message": [f"{unit.label} line {b[0]}: {b[1]}; remove the extra field(s) or quote values "
                        "holding commas" for b in raw.bad_lines],
            "severity": "error",
        }))
        unit.rejected_rows += len(raw.bad_lines)
    unit.raw = None
    return df, np.asarray(raw.lines, dtype="int64")


def _keep_rows(probs: pd.DataFrame, offsets: np.ndarray, units: list[Unit], n: int) -> np.ndarray:
    """Hand each unit its problems (rows renumbered within the unit, messages naming
    its file); return the mask of the ``n`` rows without an error."""
    keep = np.ones(n, dtype=bool)
    if len(probs):
        prow = probs["row"].to_numpy(dtype="int64")
        uidx = np.searchsorted(offsets, prow, side="right") - 1
        probs["row"] = prow - offsets[uidx]
        probs["message"] = prefix_messages(probs, np.array([u.label for u in units], dtype=object)[uidx])
        keep[prow[probs["severity"].to_numpy() == "error"]] = False
        hand_out(probs, uidx, units)
    return keep


def _with_lineage(acc: pd.DataFrame, units: list[Unit], pos: np.ndarray, table: str,
                  year: int | None, lines: np.ndarray) -> pd.DataFrame:
    """The accepted rows with lineage and the unit column (``pos``: each row's unit)."""
    acc = acc.reset_index(drop=True)
    acc["la_code"] = pd.array(np.array([u.la_code for u in units], dtype=object)[pos], dtype=str_dtype())
    if year is not None:
        acc["collection_year"] = np.full(len(acc), year, dtype="int64")
    else:
        d = acc[FEED_DATE_COLUMNS[table]]
        acc["collection_year"] = (d.dt.year + (d.dt.month >= 4).astype("int64")).astype("Int64")
    acc["source_file"] = pd.array(np.array([u.label for u in units], dtype=object)[pos], dtype=str_dtype())
    acc["source_line"] = lines
    out = coerce_frame(acc, table)
    out[UNIT_COLUMN] = np.array([u.index for u in units], dtype="int64")[pos]
    return out


def validate_group(units: list[Unit], table: str, year: int | None, today: dt.date) -> pd.DataFrame:
    """Type and validate the raw tables of several units of one table and collection year
    at once (one pandera run, whole columns); record each unit's problems and return the
    accepted rows, typed, with lineage and the unit column."""
    taken = [_take_raw(u) for u in units]
    frames = [df for df, _ in taken]
    big = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
    all_lines = np.concatenate([lines for _, lines in taken]) if taken else np.array([], dtype="int64")
    sizes = np.asarray([len(df) for df in frames], dtype="int64")
    del taken, frames
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    typed, probs = schema.validate(big, table, year if year is not None else LAST_YEAR,
                                   today=today, lines=all_lines)
    del big
    keep = _keep_rows(probs, offsets, units, len(typed))
    unit_pos = np.repeat(np.arange(len(units)), sizes)
    rejected = np.bincount(unit_pos[~keep], minlength=len(units))
    for unit, n in zip(units, rejected, strict=True):
        unit.rejected_rows += int(n)
    acc = typed[keep] if not keep.all() else typed
    del typed
    return _with_lineage(acc, units, unit_pos[keep], table, year, all_lines[keep])
