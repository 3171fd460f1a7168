"""The measures table: the one place it is read, written and its period ends parsed.

The table is the measures step's output and the notebooks' input: one row per
(``la_code``, ``period_end``, ``measure_id``) with ``numerator``, ``denominator`` and
``value`` (see ``docs/architecture.md``). On disk it is a CSV with ``period_end`` as
``YYYY-MM-DD``; in memory ``period_end`` is a normalised ``Timestamp``. Period ends
are parsed by :func:`parse_period_end` (defined in ``measures.periods``, below
``compute``, which parses with it too).
:func:`ensure_period` is the measures step's public way to have a period's rows on
disk, so later steps never compute measures themselves.
"""

from __future__ import annotations

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


class MeasuresError(RuntimeError):
    """The measures for a period could not be had; the message says why and what to do."""


def read(path: str | Path) -> pd.DataFrame:
    """The measures CSV: ``period_end`` as timestamps, codes as text, numbers as floats."""
    df = pd.read_csv(path, dtype={"la_code": str, "measure_id": str})
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"{path} is not a measures table: column(s) {', '.join(missing)} missing")
    df["period_end"] = pd.to_datetime(df["period_end"]).dt.normalize()
    for col in ("numerator", "denominator", "value"):
        df[col] = pd.to_numeric(df[col], errors="coerce")
    return df


def to_csv_text(frame: pd.DataFrame) -> str:
    """The CSV text of ``frame`` as it is written (``period_end`` as ``YYYY-MM-DD``)."""
    out = frame.copy()
    out["period_end"] = pd.to_datetime(out["period_end"]).dt.strftime("%Y-%m-%d")
    return str(out.to_csv(index=False, float_format="%.10g"))


def write(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write the measures table to ``path`` atomically; return ``path``."""
    return atomic.write_text(path, to_csv_text(frame))


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


__all__ = [
    "COLUMNS",
    "MeasuresError",
    "ensure_period",
    "las_for_period",
    "last_month_end",
    "parse_period_end",
    "period_text",
    "read",
    "to_csv_text",
    "write",
]
