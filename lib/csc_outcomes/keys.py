"""Canonical table names, their record keys, and the one rule for choosing a version.

Ingest (combining collection years) and the measures (defensive de-duplication)
both need "which rows are the same record, and which version wins"; it is written
here once. The rule is the catalogue's: rows of the same table with the same key are
one record, the later collection year winning, then the later row in the file.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: The source each canonical table comes from (used for the "absent sources" rule).
TABLE_SOURCE: dict[str, str] = {
    "header": "ssda903",
    "episodes": "ssda903",
    "uasc": "ssda903",
    "reviews": "ssda903",
    "oc2": "ssda903",
    "oc3": "ssda903",
    "ad1": "ssda903",
    "placed_for_adoption": "ssda903",
    "previous_permanence": "ssda903",
    "missing": "ssda903",
    "sw_episodes": "ssda903",
    "cin_children": "cin",
    "cin_episodes": "cin",
    "assessments": "cin",
    "assessment_factors": "cin",
    "cin_plans": "cin",
    "section47": "cin",
    "cp_plans": "cin",
    "attendance": "school_census",
    "suspensions": "school_census",
    "contacts": "contacts",
}

#: Record key of each table, within an LA (``la_code`` is always part of the key).
RECORD_KEYS: dict[str, list[str]] = {
    "header": ["CHILD"],
    "episodes": ["CHILD", "DECOM"],
    "uasc": ["CHILD"],
    "reviews": ["CHILD", "REVIEW"],
    "oc2": ["CHILD"],
    "oc3": ["CHILD"],
    "ad1": ["CHILD"],
    "placed_for_adoption": ["CHILD", "DATE_PLACED"],
    "previous_permanence": ["CHILD"],
    "missing": ["CHILD", "MIS_START"],
    "sw_episodes": ["CHILD", "SW_DECOM"],
    "cin_children": ["LAchildID"],
    "cin_episodes": ["LAchildID", "CINreferralDate"],
    "assessments": ["LAchildID", "AssessmentActualStartDate"],
    "assessment_factors": ["LAchildID", "AssessmentActualStartDate", "AssessmentFactor"],
    "cin_plans": ["LAchildID", "CINPlanStartDate"],
    "section47": ["LAchildID", "S47ActualStartDate"],
    "cp_plans": ["LAchildID", "CPPstartDate"],
    "attendance": ["UPN", "term_start"],
    "suspensions": ["UPN", "start_date", "category"],
    "contacts": ["contact_id"],
}

#: Tables that describe one collection year and are never combined across years.
PER_YEAR_TABLES: frozenset[str] = frozenset({"oc2", "oc3"})

#: Columns every canonical table carries besides its own fields.
LINEAGE_COLUMNS: list[str] = ["la_code", "collection_year", "source_file", "source_line"]


def version_key(table: str) -> list[str]:
    """Columns that identify one record of ``table`` (per year for OC2/OC3)."""
    key = ["la_code", *RECORD_KEYS[table]]
    if table in PER_YEAR_TABLES:
        key.append("collection_year")
    return key


def _shown(s: pd.Series) -> np.ndarray:
    """Values as text for messages: dates as ``yyyy-mm-dd``, missing as ``""``."""
    if pd.api.types.is_datetime64_any_dtype(s):
        out = s.dt.strftime("%Y-%m-%d")
    else:
        out = s.astype(object).where(s.notna(), None).astype(str)
    return out.fillna("").to_numpy(dtype=object)


def key_text(df: pd.DataFrame, key: list[str]) -> np.ndarray:
    """``KEY=value, ...`` of each row's record key, for messages and the repairs table
    (``la_code`` and ``collection_year`` left out: they are shown apart)."""
    parts = None
    for k in key:
        if k in ("la_code", "collection_year"):
            continue
        v = k + "=" + _shown(df[k])
        parts = v if parts is None else parts + ", " + v
    return parts if parts is not None else np.array([""] * len(df), dtype=object)


def latest_versions(df: pd.DataFrame, table: str) -> pd.DataFrame:
    """Keep one row per record: the later collection year, then the later line, wins.

    Rows lacking ``collection_year`` or ``source_line`` are ordered as given (a later
    row wins), which is what hand-built test fixtures expect.
    """
    if df.empty:
        return df
    order = [c for c in ("collection_year", "source_line") if c in df.columns]
    ranked = df.assign(_row_order=range(len(df)))
    ranked = ranked.sort_values([*order, "_row_order"], kind="stable")
    kept = ranked.drop_duplicates(subset=version_key(table), keep="last")
    return kept.sort_values("_row_order", kind="stable").drop(columns="_row_order")
