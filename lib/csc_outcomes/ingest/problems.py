"""Problems found in the input: one frame shape for every check, so they concatenate.

A problem frame has the columns of :data:`PROBLEM_COLUMNS`: ``row`` is the row's
position in the frame checked (-1 for a file-level remark), ``line`` its line in the
source file, and ``severity`` ``error`` (the row is quarantined in ``rejects``),
``warning`` or ``info`` (reported, the row kept).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

PROBLEM_COLUMNS = ["row", "line", "column", "value", "rule", "message", "severity"]

_EMPTY = pd.DataFrame({c: pd.Series(dtype="Int64" if c in ("row", "line") else object)
                       for c in PROBLEM_COLUMNS})


def empty_problems() -> pd.DataFrame:
    """A problem frame with no rows."""
    return _EMPTY.copy()


def _each(value: Any, n: int) -> list:
    """``value`` as a list of ``n``: a sequence as is, a single value repeated."""
    if isinstance(value, str) or value is None or not isinstance(value, Sequence | np.ndarray
                                                                  | pd.Series | pd.Index):
        return [value] * n
    return list(value)


def problems(rows: Any, column: Any, values: Any, rule: str, messages: Any, severity: str,
             lines: Any = None) -> pd.DataFrame:
    """A problem frame: one problem per position in ``rows``.

    ``column``, ``values`` and ``messages`` are one value for every row or one per row;
    ``lines`` the source lines (-1 when not known yet).
    """
    rows = np.asarray(rows, dtype="int64")
    n = len(rows)
    return pd.DataFrame({
        "row": rows,
        "line": np.asarray(lines, dtype="int64") if lines is not None else np.full(n, -1),
        "column": _each(column, n),
        "value": _each(values, n),
        "rule": rule,
        "message": _each(messages, n),
        "severity": severity,
    })


def concat_problems(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """The problems of several frames as one (an empty problem frame when none)."""
    frames = [f for f in frames if len(f)]
    if not frames:
        return empty_problems()
    return pd.concat(frames, ignore_index=True)
