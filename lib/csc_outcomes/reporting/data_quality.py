"""Data quality per LA: what the ingest read, rejected, repaired and warned about.

A figure is only as good as the records behind it, so each LA's report says, from the
ingest's QA report (``<warehouse stem>.qa.json`` beside the warehouse, written by
``ingest.qa``) and the warehouse's ``repairs`` table: the files and rows read, the rows
rejected (left out of every measure), the rows repaired, the rows of the school census
and contacts feeds matching no child, and the warnings, each with one sentence on what
it means for the figures.

These are counts of records, not children, but a count of rejected header rows is a
count of children: every count from 1 to the disclosure threshold is shown as ``c``
(``disclosure.suppress_counts``), and the rows accepted (read minus rejected) are not
shown, so no ``c`` can be worked out. A QA report that is missing, unreadable or from
another ingest than the warehouse's is said so, never silently ignored.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from csc_outcomes import warehouse as wh
from csc_outcomes.ingest import default_qa_path
from csc_outcomes.reporting import disclosure
from csc_outcomes.reporting.file_memo import FileVersion, file_version

#: What each count means for the figures (one sentence per item).
MEANINGS: dict[str, str] = {
    "files": "Every file of the LA's returns and feeds that the ingest read.",
    "files_rejected": "A rejected file adds nothing: measures that need its table are left "
                      "out or lower for the years it covers.",
    "rows_read": "Records read from those files (a child has many records: episodes, "
                 "reviews, terms).",
    "rows_rejected": "Rejected records are left out of every measure, so counts built on "
                     "them are lower than the LA's own systems would give.",
    "repairs": "Repaired records were kept after a documented fix (for example an open "
               "episode stitched across years); the figures count them as repaired.",
    "rows_unmatched": "Feed records (school census, contacts) matching no child of the LA "
                      "are kept but no measure can use them: attendance, suspension and "
                      "contact measures cover matched children only.",
    "warnings": "Warnings flag records that were kept but look unusual; figures include "
                "them, so read the warned-about measures with care.",
}
#: Display labels of the items, in the order shown.
LABELS: dict[str, str] = {
    "files": "Files read", "files_rejected": "Files rejected", "rows_read": "Records read",
    "rows_rejected": "Records rejected", "repairs": "Records repaired",
    "rows_unmatched": "Feed records matching no child", "warnings": "Warnings",
}


class QualityNote(str):
    """A sentence saying why the QA report could not be used (shown instead of the table)."""


def load_qa(path: Path) -> dict[str, Any] | QualityNote:
    """The QA report at ``path``, or a note saying why there is none to use.

    Read once per process for one version of the file (``file_memo.file_version``): a national
    report is 4 MB of JSON, and the workbook stage asks for it once per LA (153 times:
    12 s). The dict returned is shared: read it, never change it."""
    if not path.is_file():
        return QualityNote(f"No ingest QA report was found ({path.name} beside the warehouse), "
                           "so the records read and rejected cannot be shown; re-run "
                           "'csc-outcomes ingest' to write it.")
    return _read_qa(file_version(path))


@functools.lru_cache(maxsize=4)
def _read_qa(version: FileVersion) -> dict[str, Any] | QualityNote:
    path = Path(version[0])
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return QualityNote(f"The ingest QA report {path.name} could not be read "
                           f"({type(exc).__name__}); re-run 'csc-outcomes ingest'.")
    if not isinstance(data, dict) or not isinstance(data.get("files"), list):
        return QualityNote(f"The ingest QA report {path.name} has no list of files; "
                           "re-run 'csc-outcomes ingest'.")
    return data


@functools.lru_cache(maxsize=4)
def warehouse_facts(version: FileVersion) -> tuple[dict[str, int], frozenset[str]]:
    """Each LA's count of repaired rows and the ingests' input hashes, for one version of
    the warehouse: counted in SQL once, not read row by row for each LA's report."""
    with wh.connect(Path(version[0])) as con:
        counts = dict(con.execute("SELECT la_code, count(*) FROM repairs GROUP BY la_code").fetchall())
        hashes = con.execute("SELECT DISTINCT CAST(input_hash AS VARCHAR) FROM ingest_runs "
                             "WHERE input_hash IS NOT NULL").fetchall()
    return {str(k): int(v) for k, v in counts.items()}, frozenset(str(h) for (h,) in hashes)


def la_counts(qa: Mapping[str, Any], la_code: str, repairs: int) -> dict[str, int]:
    """The LA's counts (:data:`LABELS` keys) from the QA report and its count of rows in
    the repairs table (``repairs``)."""
    files = [f for f in qa["files"] if f.get("la_code") == la_code]
    return {
        "files": len({f["path"] for f in files}),
        "files_rejected": len({f["path"] for f in files if f.get("status") == "rejected"}),
        "rows_read": sum(int(f.get("rows_read") or 0) for f in files),
        "rows_rejected": sum(int(f.get("rows_rejected") or 0) for f in files),
        "repairs": repairs,
        "rows_unmatched": sum(int(f.get("rows_unmatched") or 0) for f in files),
        "warnings": sum(1 for f in files for p in f.get("problems") or []
                        if p.get("severity") == "warning"),
    }


def quality_table(counts: Mapping[str, int],
                  threshold: int = disclosure.DEFAULT_THRESHOLD) -> pd.DataFrame:
    """Item, count (1 to ``threshold`` shown as ``c``) and what it means for the figures."""
    shown = disclosure.suppress_counts(pd.Series([counts[k] for k in LABELS]), threshold)
    table = pd.DataFrame({"Item": list(LABELS.values()), "Count": shown.tolist(),
                          "What it means for the figures": [MEANINGS[k] for k in LABELS]})
    return disclosure.mark_released(table, threshold)


def stale_note(qa: Mapping[str, Any], warehouse: Path) -> str | None:
    """A note when the QA report is from another ingest than the warehouse's."""
    _, hashes = warehouse_facts(file_version(warehouse))
    if not hashes or qa.get("input_hash") in hashes:
        return None
    return ("The QA report beside the warehouse is from another ingest than the warehouse's "
            "(its input hash differs): the counts below may not describe these figures.")


def la_quality(qa_path: str | Path, warehouse: str | Path, la_code: str,
               threshold: int = disclosure.DEFAULT_THRESHOLD) -> tuple[pd.DataFrame | None, str]:
    """The LA's table (None when there is no QA report to use) and a sentence to show
    with it: a note when the report is missing, unreadable or stale, else a summary."""
    qa = load_qa(Path(qa_path or qa_report_path(warehouse)))
    if isinstance(qa, QualityNote):
        return None, str(qa)
    if not Path(warehouse).is_file():
        return None, f"The warehouse ({Path(warehouse).name}) was not found, so data quality is not shown."
    repairs, _ = warehouse_facts(file_version(Path(warehouse)))
    table = quality_table(la_counts(qa, la_code, repairs.get(la_code, 0)), threshold)
    note = stale_note(qa, Path(warehouse)) or (
        "Counts are of records, not children, from the ingest's QA report; counts from 1 "
        f"to {threshold} are shown as c. The QA report itself (restricted) lists each "
        "problem with its file, line and column.")
    return table, note


def read_by_reports(qa_path: Path) -> dict[str, Any]:
    """What the reports read of the QA report at ``qa_path`` (:func:`la_quality`), as
    plain data for a run's report keys: each LA's counts (its repaired rows aside: they
    are its warehouse content) and the ingest's input hash; or the note shown instead.

    Not the report's bytes: those hold the ingest's day and every LA's files, so keyed by
    them, a re-ingest of the same returns on another day, or of one LA's files, made
    every LA's reports run again."""
    qa = load_qa(qa_path)
    if isinstance(qa, QualityNote):
        return {"note": str(qa)}
    by_la: dict[str, list[Any]] = {}
    for f in qa["files"]:  # one pass, not one per LA over every LA's files
        by_la.setdefault(str(f.get("la_code")), []).append(f)
    return {"input_hash": qa.get("input_hash"),
            "las": {la: la_counts({"files": files}, la, 0) for la, files in sorted(by_la.items())}}


def ingest_hashes(warehouse: Path) -> list[str]:
    """The input hashes of the ingests the warehouse holds (what :func:`stale_note` asks)."""
    return sorted(warehouse_facts(file_version(warehouse))[1])


def qa_report_path(warehouse: str | Path) -> Path:
    """Where the ingest wrote the QA report of the warehouse (beside it)."""
    return default_qa_path(Path(warehouse))
