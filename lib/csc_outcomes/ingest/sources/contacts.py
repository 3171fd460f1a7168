"""Front-door contacts exported from the case management system: ``<la>/contacts/*.csv``
with ``contact_id``, ``CHILD`` (or ``LAchildID``, read as ``CHILD``), ``contact_date``,
``outcome``."""

from __future__ import annotations

from pathlib import Path

from csc_outcomes.ingest.sources import RawTable, table_from_csv


def read(path: Path, label: str) -> RawTable:
    """Read one contacts file."""
    return table_from_csv(path, "contacts", label)
