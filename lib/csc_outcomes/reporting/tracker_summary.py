"""The RAG tracker's published face: how many children had each colour, per domain.

The child rows stay in the restricted tree (``tracker_write``); a report may show
only these counts, and only through the one disclosure step
(``disclosure.suppress_table``). Each domain's row adds up to the tracker's rows:
the children looked after at the period end (a published figure) and the year's care
leavers (rated only in the care-leaver domain, "Not applicable" elsewhere, so the
"Not applicable" cells hold them too). A suppressed cell must not be recoverable from
that total: row totals are protected (secondary suppression);
column totals (a colour summed over domains) add up to nothing and are not.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from csc_outcomes.reporting import disclosure
from csc_outcomes.reporting.tracker_rating import DOMAINS, RATINGS

#: The counts' file beside the tracker (restricted: the counts are not yet suppressed).
SUMMARY_FILE = "rag_summary.csv"


def summary_counts(rated: pd.DataFrame) -> pd.DataFrame:
    """``Domain`` and one count column per rating (``tracker_rating.RATINGS``)."""
    rows = []
    for d in DOMAINS:
        counts = rated[f"{d.key}_rag"].value_counts()
        rows.append({"Domain": d.label, **{r: int(counts.get(r, 0)) for r in RATINGS}})
    return pd.DataFrame(rows, columns=["Domain", *RATINGS])


def released(counts: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """``counts`` as a report may show them: 1 to ``threshold`` and any cell the row's
    total would give away shown as ``c``."""
    return disclosure.suppress_table(counts, threshold, rows=True, columns=False,
                                     exclude=["Domain"])


def released_summary(output_dir: str | Path, threshold: int) -> pd.DataFrame | None:
    """The suppressed summary of the tracker written in ``output_dir`` (the LA's
    restricted folder), or ``None`` when no tracker was written there yet (a notebook
    opened in JupyterLab before any run)."""
    path = Path(output_dir) / SUMMARY_FILE
    if not path.is_file():
        return None
    return released(pd.read_csv(path), threshold)


__all__ = ["SUMMARY_FILE", "released", "released_summary", "summary_counts"]
