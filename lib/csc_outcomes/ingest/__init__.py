"""Step 2, ingest: an input folder of statutory returns -> an :class:`IngestResult` in memory.

In: ``<input>/<la_code>/ssda903/<year>/*.csv|*.xml``, ``cin/<year>/*.xml``,
``school_census/*.csv`` and ``contacts/*.csv``. Each file is read by its source's reader
(``sources/``), validated against its contract for its collection year (``contracts``,
``parse``, ``schema``), cross-checked (``crosschecks``) and collection years are combined
(``combine``). An entry that is not a regular file, or a table missing from an LA's
latest return (``completeness``), is refused by name rather than skipped. Out: the
canonical tables (``keys.TABLE_SOURCE``), ``supplied``, ``rejects``, ``repairs``,
``input_files`` (every raw file read, hashed) and the QA report. Ingest writes nothing:
the warehouse stores the result (``warehouse.write_ingest``).
"""

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from csc_outcomes.ingest.discover import UsageError, la_code
    from csc_outcomes.ingest.pipeline import BATCH_BYTES, IngestResult, ingest_folder
    from csc_outcomes.ingest.pool import default_jobs
    from csc_outcomes.ingest.qa import default_qa_path, format_summary, write_qa

#: Where each of the step's names lives: imported when first asked for (``__getattr__``),
#: because the pipeline brings pandera, which costs seconds, and a report notebook needs
#: only ``contracts`` and ``discover`` of this step.
_HOME = {"UsageError": "discover", "la_code": "discover", "BATCH_BYTES": "pipeline",
         "IngestResult": "pipeline", "ingest_folder": "pipeline", "default_jobs": "pool",
         "default_qa_path": "qa", "format_summary": "qa", "write_qa": "qa"}


def __getattr__(name: str) -> Any:
    """A name of the step, from its module (PEP 562)."""
    if name in _HOME:
        return getattr(importlib.import_module(f"csc_outcomes.ingest.{_HOME[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "BATCH_BYTES",
    "IngestResult",
    "UsageError",
    "default_jobs",
    "default_qa_path",
    "format_summary",
    "ingest_folder",
    "la_code",
    "write_qa",
]
