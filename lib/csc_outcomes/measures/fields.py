"""The columns the measures read from each canonical table, and how each is typed.

One place for what a prepared table holds (``prepare.prepare_table``) and for what a
measures-only warehouse read selects (``inputs.MeasureInputs.from_warehouse``): a
field added to a measure is added here once. Table and field names are those of
``docs/architecture.md``.
"""

from __future__ import annotations

from collections.abc import Iterable

#: The fields of each canonical table that the measures read. A prepared table keeps
#: only these (and ``la_code``, ``collection_year``, ``source_line``); a field a
#: supplied table lacks is added as missing.
FIELDS: dict[str, list[str]] = {
    "header": ["CHILD", "DOB", "UPN"],
    "episodes": ["CHILD", "DECOM", "RNE", "LS", "PLACE", "DEC", "PL_POST", "URN"],
    "oc2": ["CHILD", "DOB", "SDQ_SCORE", "HEALTH_CHECK", "IMMUNISATIONS", "TEETH_CHECK"],
    "oc3": ["CHILD", "DOB", "IN_TOUCH", "ACTIV", "ACCOM"],
    "missing": ["CHILD", "MISSING", "MIS_START"],
    "sw_episodes": ["CHILD", "SW_ID", "SW_DECOM", "SW_DEC"],
    "cin_episodes": ["LAchildID", "CINreferralDate", "CINclosureDate", "ReferralNFA"],
    "assessments": ["LAchildID", "AssessmentActualStartDate", "AssessmentAuthorisationDate"],
    "section47": ["LAchildID", "S47ActualStartDate", "DateOfInitialCPC"],
    "cp_plans": ["LAchildID", "CPPstartDate", "CPPendDate", "NumberOfPreviousCPP"],
    "attendance": [
        "UPN", "term_start", "sessions_possible", "sessions_authorised_absence",
        "sessions_unauthorised_absence",
    ],
    "suspensions": ["UPN", "start_date", "category"],
    "contacts": ["contact_id", "contact_date"],
}

#: Date columns of each table (coerced to datetime64[ns] when a fixture gives strings).
DATES: dict[str, list[str]] = {
    "header": ["DOB"],
    "episodes": ["DECOM", "DEC"],
    "oc2": ["DOB"],
    "oc3": ["DOB"],
    "missing": ["MIS_START"],
    "sw_episodes": ["SW_DECOM", "SW_DEC"],
    "cin_episodes": ["CINreferralDate", "CINclosureDate"],
    "assessments": ["AssessmentActualStartDate", "AssessmentAuthorisationDate"],
    "section47": ["S47ActualStartDate", "DateOfInitialCPC"],
    "cp_plans": ["CPPstartDate", "CPPendDate"],
    "attendance": ["term_start"],
    "suspensions": ["start_date"],
    "contacts": ["contact_date"],
}

#: Code-valued columns that measures compare (stripped and upper-cased defensively).
CODES: dict[str, list[str]] = {
    "header": ["UPN"],
    "attendance": ["UPN"],
    "episodes": ["RNE", "LS", "PLACE", "URN", "PL_POST"],
    "oc3": ["IN_TOUCH", "ACTIV", "ACCOM"],
    "missing": ["MISSING"],
    "suspensions": ["UPN", "category"],
}

#: The child identifier column of each table (``child_key`` is built from it and
#: ``la_code`` when the table is prepared).
CHILD_COLUMN: dict[str, str] = {
    **dict.fromkeys(("header", "episodes", "oc2", "oc3", "missing", "sw_episodes"), "CHILD"),
    **dict.fromkeys(("cin_episodes", "assessments", "section47", "cp_plans"), "LAchildID"),
}

#: Lineage columns a prepared table keeps (the OC2/OC3 year rule reads the year).
KEEP_LINEAGE: dict[str, list[str]] = {"oc2": ["collection_year"], "oc3": ["collection_year"]}

#: Lineage columns read with the fields (the duplicates rule orders versions by them).
LINEAGE = ["la_code", "collection_year", "source_line"]


def read_columns(table: str, present: Iterable[str]) -> list[str]:
    """The columns of ``table`` the measures read, of those ``present``: lineage, then
    the fields. What a prepared table keeps and what a measures-only read selects."""
    have = set(present)
    return [c for c in dict.fromkeys([*LINEAGE, *FIELDS.get(table, [])]) if c in have]


__all__ = [
    "CHILD_COLUMN",
    "CODES",
    "DATES",
    "FIELDS",
    "KEEP_LINEAGE",
    "LINEAGE",
    "read_columns",
]
