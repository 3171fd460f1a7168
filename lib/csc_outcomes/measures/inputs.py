"""What the measures take: the canonical tables of every LA, and which were supplied.

The measures step reads what ingest wrote, either the in-memory result of an ingest or
the warehouse file; it never reaches back into the readers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd


@dataclass
class MeasureInputs:
    """Canonical tables (all LAs) and the (la_code, table_name) pairs that were supplied.

    ``supplied`` decides the catalogue's "absent sources" rule: a measure whose source
    table was never supplied for an LA gives no row for that LA. When ``supplied`` is
    empty it is inferred from the tables' own rows (handy for hand-built fixtures).
    """

    tables: dict[str, pd.DataFrame]
    supplied: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=["la_code", "table_name"])
    )

    def __post_init__(self) -> None:
        if self.supplied.empty:
            rows = [
                (la, name)
                for name, df in self.tables.items()
                if "la_code" in df.columns
                for la in df["la_code"].dropna().unique()
            ]
            self.supplied = pd.DataFrame(rows, columns=["la_code", "table_name"])

    @property
    def la_codes(self) -> list[str]:
        """Every LA with any supplied table, sorted."""
        return sorted(self.supplied["la_code"].astype(str).unique())

    def has(self, la_code: str, table_name: str) -> bool:
        """Whether ``table_name`` was supplied for ``la_code`` in any year."""
        s = self.supplied
        return bool(((s["la_code"] == la_code) & (s["table_name"] == table_name)).any())

    def table(self, name: str) -> pd.DataFrame:
        """A canonical table, or an empty frame when no LA supplied it."""
        return self.tables.get(name, pd.DataFrame(columns=["la_code"]))

    @classmethod
    def from_ingest(cls, result: Any) -> "MeasureInputs":
        """From an ``ingest.IngestResult`` (attributes ``tables`` and ``supplied``)."""
        return cls(tables=dict(result.tables), supplied=_supplied_columns(result.supplied))

    @classmethod
    def from_warehouse(cls, path: str | Path, la_codes: list[str] | None = None) -> "MeasureInputs":
        """From a warehouse file written by ``csc-outcomes ingest``."""
        from csc_outcomes import warehouse

        tables, supplied = warehouse.read_tables(Path(path), la_codes=la_codes)
        return cls(tables=tables, supplied=_supplied_columns(supplied))


def _supplied_columns(supplied: pd.DataFrame) -> pd.DataFrame:
    """``la_code, table_name`` and, when known, ``collection_year`` (the OC2/OC3 year
    rule uses the years supplied, even a year whose file had no rows)."""
    cols = ["la_code", "table_name"]
    if "collection_year" in supplied.columns:
        cols.append("collection_year")
    return supplied[cols].copy()
