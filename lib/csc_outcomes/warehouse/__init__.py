"""Step 3, the warehouse: one DuckDB file, the canonical tables' one reader and writer.

In: an ``ingest.IngestResult`` (:func:`write_ingest`, or :func:`ingest_into` to ingest
a folder and store it). Out: the canonical tables, typed as their contracts say
(:func:`read_tables`, :func:`read_table`, :func:`connect` for SQL), after a check that
the file holds every table and column the kit reads (:class:`WarehouseSchemaError`
otherwise). The only package that talks to DuckDB.

Tables: every canonical table of ``keys.TABLE_SOURCE`` (always present, empty when no
LA supplied it), ``rejects``, ``repairs``, ``supplied`` and ``ingest_runs`` (one row:
started, finished, input_hash, counts as JSON). Data tables hold no timestamps, and
rows are written in a fixed order, so ingesting the same files twice gives the same
content. Writes are atomic: a failed write leaves the previous warehouse untouched.
"""

from csc_outcomes.warehouse.reader import connect, read_table, read_tables, table_names
from csc_outcomes.warehouse.schema import META_TABLES, WarehouseSchemaError
from csc_outcomes.warehouse.writer import ingest_into, write, write_ingest

__all__ = [
    "META_TABLES",
    "WarehouseSchemaError",
    "connect",
    "ingest_into",
    "read_table",
    "read_tables",
    "table_names",
    "write",
    "write_ingest",
]
