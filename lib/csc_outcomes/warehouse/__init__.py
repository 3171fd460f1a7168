"""Step 3, the warehouse: one DuckDB file, the canonical tables' one reader and writer.

In: an ``ingest.IngestResult`` (:func:`write_ingest`, or :func:`ingest_into` to ingest
a folder and store it). Out: the canonical tables, typed as their contracts say
(:func:`read_tables`, :func:`read_table`, :func:`connect` for SQL), after a check that
the file holds every table and column the kit reads (:class:`WarehouseSchemaError`
otherwise). The only package that talks to DuckDB.

Tables: every canonical table of ``keys.TABLE_SOURCE`` (always present, empty when no
LA supplied it), ``rejects``, ``repairs``, ``supplied``, ``input_files`` (la_code, path
relative to the input folder, size, sha256: every raw file behind the warehouse),
``ingest_runs`` (one row: started, finished, input_hash, counts as JSON) and
``schema_version`` (:data:`SCHEMA_VERSION`, checked on every read). Data tables hold
no timestamps, and rows are written in a fixed order, so ingesting the same files
twice gives the same content, and :func:`content_hash` the same hash. Writes are
atomic: a failed write leaves the previous warehouse untouched.
"""

import importlib
from typing import TYPE_CHECKING, Any

from csc_outcomes.warehouse.content import CONTENT_TABLES, content_hash
from csc_outcomes.warehouse.reader import (
    check_schema,
    connect,
    la_codes,
    read_table,
    read_tables,
    table_names,
)
from csc_outcomes.warehouse.schema import META_TABLES, SCHEMA_VERSION, WarehouseSchemaError

if TYPE_CHECKING:
    from csc_outcomes.warehouse.writer import ingest_into, write, write_ingest


def __getattr__(name: str) -> Any:
    """The writer's names, imported when first asked for (PEP 562): the writer brings
    the ingest pipeline (pandera, seconds to import), and a report notebook only reads."""
    if name in ("ingest_into", "write", "write_ingest"):
        return getattr(importlib.import_module("csc_outcomes.warehouse.writer"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


#: The table of every raw file behind the warehouse (la_code, path, size, sha256).
INPUT_FILES = "input_files"

__all__ = [
    "CONTENT_TABLES",
    "INPUT_FILES",
    "META_TABLES",
    "SCHEMA_VERSION",
    "WarehouseSchemaError",
    "check_schema",
    "connect",
    "content_hash",
    "ingest_into",
    "la_codes",
    "read_table",
    "read_tables",
    "table_names",
    "write",
    "write_ingest",
]
