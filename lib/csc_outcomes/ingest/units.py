"""A unit of ingest: one table read from one file, and what happened to its rows.

Every step of the ingest reports against units: reading fills :attr:`Unit.raw`,
validation and the cross checks add problems and count rejected rows, and the QA report
and ``supplied`` are built from the units at the end.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from csc_outcomes.ingest.problems import concat_problems
from csc_outcomes.ingest.sources import FileRejected, RawTable


@dataclass
class Unit:
    """One table read from one file (a CSV, or one table of an XML file)."""

    la_code: str
    source: str
    table: str | None
    label: str  # the file's path relative to the input folder
    year: int | None  # the collection year folder; None for feeds
    rows_read: int = 0
    raw: RawTable | None = None  # what the reader returned, until validated
    index: int = -1  # position in the ingest's list of units
    accepted: int = 0  # rows accepted (after the cross checks)
    years: list[int] = field(default_factory=list)  # feeds: the collection years their rows fall in
    problems: list[pd.DataFrame] = field(default_factory=list)
    rejected_rows: int = 0
    file_rejected: bool = False
    unmatched: int | None = None

    @property
    def supplied(self) -> bool:
        """The file was read (not rejected) and holds a known table."""
        return not self.file_rejected and bool(self.table)

    def reject(self, exc: FileRejected) -> None:
        """Reject the whole file: no rows are kept, and the reason is its one problem."""
        self.file_rejected = True
        self.raw = None
        self.problems.append(pd.DataFrame([{
            "row": -1, "line": exc.line, "column": None, "value": None, "rule": exc.rule,
            "message": str(exc), "severity": "error",
        }]))

    def all_problems(self) -> pd.DataFrame:
        """Every problem found in this unit, in the order found."""
        return concat_problems(self.problems)


def hand_out(probs: pd.DataFrame, unit_pos: np.ndarray, units: list[Unit]) -> None:
    """Give each unit its problems: the rows of ``probs`` whose ``unit_pos`` is its
    position in ``units``, in their order."""
    order = np.argsort(unit_pos, kind="stable")
    su = unit_pos[order]
    starts = np.flatnonzero(np.r_[True, su[1:] != su[:-1]])
    ends = np.r_[starts[1:], len(su)]
    for a, b in zip(starts, ends, strict=True):
        units[su[a]].problems.append(probs.iloc[order[a:b]].reset_index(drop=True))


def prefix_messages(probs: pd.DataFrame, labels: np.ndarray) -> pd.Series:
    """Each problem's message prefixed with its file and line (``<file> line <n>: ...``)."""
    return (pd.Series(labels, index=probs.index) + " line " + probs["line"].astype(str) + ": "
            + probs["message"])
