"""The measures table: the one place it is read, written and its period ends parsed.

The table is the measures step's output and the notebooks' input: one row per
(``la_code``, ``period_end``, ``measure_id``) with ``numerator``, ``denominator`` and
``value`` (see ``docs/architecture.md``). On disk it is a CSV with ``period_end`` as
``YYYY-MM-DD``; in memory ``period_end`` is a normalised ``Timestamp``. Period ends
are parsed by :func:`parse_period_end` (defined in ``measures.periods``, below
``compute``, which parses with it too).
:func:`ensure_period` is the measures step's public way to have a period's rows on
disk, so later steps never compute measures themselves.

The shared table grows as periods are added, so a report run never reads it directly:
it keeps :func:`snapshot_rows` (its period and the earlier ones it compares with, as
the returns cover them) in a file of its own, which no later run changes. :func:`differences` names, value by value, where two tables disagree
(what ``reproduce`` reports).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from csc_outcomes import atomic
from csc_outcomes.measures.compute import OUTPUT_COLUMNS, compute_measures
from csc_outcomes.measures.inputs import MeasureInputs
from csc_outcomes.measures.periods import last_month_end, parse_period_end, period_text

#: The measures table's columns (``compute.compute_measures``' output).
COLUMNS = OUTPUT_COLUMNS
#: The columns that identify a row, and the order rows are written in.
KEY = ["period_end", "la_code", "measure_id"]
#: The columns holding numbers.
NUMBERS = ["numerator", "denominator", "value"]


class MeasuresError(RuntimeError):
    """The measures for a period could not be had; the message says why and what to do."""


def read(path: str | Path | io.StringIO) -> pd.DataFrame:
    """The measures CSV: ``period_end`` as timestamps, codes as text, numbers as floats."""
    df = pd.read_csv(path, dtype={"la_code": str, "measure_id": str})
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"{path} is not a measures table: column(s) {', '.join(missing)} missing")
    df["period_end"] = pd.to_datetime(df["period_end"]).dt.normalize()
    for col in NUMBERS:
        df[col] = pd.to_numeric(df[col], errors="coerce")
    return df


def canonical(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` as it reads back from disk, rows in :data:`KEY` order: two tables with
    the same rows are then equal whatever order or dtypes they were built in."""
    rows = frame[COLUMNS].sort_values(KEY, kind="stable")
    return read(io.StringIO(to_csv_text(rows))).reset_index(drop=True)


def to_csv_text(frame: pd.DataFrame) -> str:
    """The CSV text of ``frame`` as it is written (``period_end`` as ``YYYY-MM-DD``)."""
    out = frame.copy()
    out["period_end"] = pd.to_datetime(out["period_end"]).dt.strftime("%Y-%m-%d")
    return str(out.to_csv(index=False, float_format="%.10g"))


def write(frame: pd.DataFrame, path: str | Path, *, mode: int | None = None) -> Path:
    """Write the measures table to ``path`` atomically (``mode``: its permissions)."""
    return atomic.write_text(path, to_csv_text(frame), mode=mode)


def las_for_period(frame: pd.DataFrame, period_end: Any) -> list[str]:
    """The LA codes with rows for ``period_end``, sorted."""
    end = pd.Timestamp(parse_period_end(period_end))
    rows = frame.loc[pd.to_datetime(frame["period_end"]) == end, "la_code"]
    return sorted(rows.dropna().unique().tolist())


def ensure_period(warehouse: str | Path, measures_path: str | Path, period_end: Any,
                  log: Callable[[str], None] | None = None) -> bool:
    """Make sure ``measures_path`` holds rows for ``period_end``; True when computed.

    When the file is missing, or has no row for the period, the period's measures
    (and the two year ends before it, as context for trends) are computed from the
    warehouse and merged with the file's other periods. Raises :class:`MeasuresError`.
    """
    measures_path = Path(measures_path)
    end = pd.Timestamp(parse_period_end(period_end))
    existing = read(measures_path) if measures_path.is_file() else None
    if existing is not None and (existing["period_end"] == end).any():
        return False
    if not Path(warehouse).is_file():
        raise MeasuresError(f"no measures for {end.date()} in {measures_path} and no warehouse "
                            f"at {warehouse} to compute them from; run 'csc-outcomes ingest' first")
    periods = [end - pd.DateOffset(years=k) for k in (2, 1, 0)]
    try:
        new = compute_measures(MeasureInputs.from_warehouse(warehouse, measures_only=True), periods)
    except Exception as exc:  # any failure: reported with the command that shows details
        raise MeasuresError(f"computing the measures for {end.date()} from {warehouse} failed: "
                            f"{type(exc).__name__}: {exc}. Run 'csc-outcomes measures' to see "
                            "the details; nothing was published") from exc
    new["period_end"] = pd.to_datetime(new["period_end"]).dt.normalize()
    if existing is not None:
        new = new[~new["period_end"].isin(set(existing["period_end"]))]
        new = pd.concat([existing, new], ignore_index=True)
    write(new, measures_path)
    if log:
        log(f"computed measures for {end.date()} from {warehouse} -> {measures_path}")
    return True


def snapshot_rows(measures_path: str | Path, period_end: Any,
                  keep: Callable[[pd.DataFrame], pd.Series] | None = None) -> pd.DataFrame:
    """The rows a run for ``period_end`` reads, for it to keep as its own (:func:`write`).

    The rows of every period up to ``period_end`` (the trend and the year-earlier
    comparison read earlier ones; a later period never shows in an earlier report),
    those ``keep`` marks (the rows the returns cover) when given, :func:`canonical`.
    """
    end = pd.Timestamp(parse_period_end(period_end))
    frame = read(measures_path)
    rows = frame[frame["period_end"] <= end]
    if keep is not None:
        rows = rows[keep(rows)]
    return canonical(rows)


def period_rows(frame: pd.DataFrame, period_end: Any) -> pd.DataFrame:
    """The rows of ``frame`` for ``period_end``, canonical (:func:`canonical`)."""
    end = pd.Timestamp(parse_period_end(period_end))
    return canonical(frame[pd.to_datetime(frame["period_end"]).dt.normalize() == end])


def differences(recorded: pd.DataFrame, recomputed: pd.DataFrame) -> pd.DataFrame:
    """Where two measures tables disagree, one row per value: ``la_code, period_end,
    measure_id, column, recorded, recomputed`` (a row only one side has: ``column``
    ``row`` and the other side empty). Numbers compare equal when written equal."""
    a, b = canonical(recorded), canonical(recomputed)
    both = a.merge(b, on=KEY, how="outer", suffixes=("_a", "_b"), indicator=True)
    out = []
    for r in both.to_dict("records"):
        if r["_merge"] != "both":
            side = "recorded" if r["_merge"] == "left_only" else "recomputed"
            out.append({**{k: r[k] for k in KEY}, "column": "row",
                        "recorded": "present" if side == "recorded" else "absent",
                        "recomputed": "present" if side == "recomputed" else "absent"})
            continue
        for col in NUMBERS:
            x, y = r[f"{col}_a"], r[f"{col}_b"]
            if not (pd.isna(x) and pd.isna(y)) and x != y:
                out.append({**{k: r[k] for k in KEY}, "column": col, "recorded": x,
                            "recomputed": y})
    return pd.DataFrame(out, columns=[*KEY, "column", "recorded", "recomputed"])


__all__ = [
    "COLUMNS",
    "KEY",
    "NUMBERS",
    "MeasuresError",
    "canonical",
    "differences",
    "ensure_period",
    "las_for_period",
    "last_month_end",
    "parse_period_end",
    "period_rows",
    "period_text",
    "read",
    "snapshot_rows",
    "to_csv_text",
    "write",
]
