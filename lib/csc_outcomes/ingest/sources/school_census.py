"""School census feed (the kit's own education contract): ``attendance.csv`` and
``suspensions.csv`` in ``<la>/school_census/``, keyed by ``UPN``."""

from __future__ import annotations

from pathlib import Path

from csc_outcomes.ingest.sources import FileRejected, RawTable, table_from_csv

TABLES = {"attendance": "attendance", "suspensions": "suspensions", "exclusions": "suspensions"}


def table_for_file(path: Path) -> str | None:
    """The canonical table a file in ``school_census/`` holds, by its name."""
    return TABLES.get(Path(path).stem.strip().lower())


def read(path: Path, label: str) -> RawTable:
    """Read one school census file."""
    table = table_for_file(path)
    if table is None:
        raise FileRejected(
            f"{label}: not a school census file this kit knows; name it attendance.csv or suspensions.csv",
            rule="unknown_file")
    return table_from_csv(path, table, label)
