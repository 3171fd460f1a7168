"""Faults real exports carry, injected into an LA's CIN census XML: one fault of each
kind per LA, recorded so that the ingest's QA report can be checked against them.

Kinds are described at :func:`inject_xml`.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np

#: Elements of the CIN census that XML faults go into, with the record element each belongs
#: to (the ingest's ``source_line`` of a row is the line of that record's start tag).
XML_IMPOSSIBLE_DATE = {"CINclosureDate": "CINdetails", "AssessmentAuthorisationDate": "Assessments",
                       "CINPlanEndDate": "CINPlanDates", "CPPendDate": "ChildProtectionPlans"}
XML_CODE = {"PrimaryNeedCode": "CINdetails", "ReasonForClosure": "CINdetails", "Ethnicity": "Child",
            "InitialCategoryOfAbuse": "ChildProtectionPlans"}
XML_TRUE_BOOL = {"ReferralNFA": "CINdetails", "ICPCnotRequired": "Section47", "UPNunknown": "Child"}
XML_DATE = {"CINreferralDate": "CINdetails", "PersonBirthDate": "Child",
            "AssessmentActualStartDate": "Assessments", "S47ActualStartDate": "Section47",
            "CPPstartDate": "ChildProtectionPlans"}


#: Each kind of fault: the elements it goes into, which values can take it, the new value.
_PLANS: list[tuple[str, dict[str, str], Callable[[str], bool], Callable[[str], str]]] = [
    ("impossible_date", XML_IMPOSSIBLE_DATE, bool, lambda v: f"{v[:4]}-02-31"),
    ("lower_case_code", XML_CODE, lambda v: v != v.lower(), str.lower),
    ("boolean_yes", XML_TRUE_BOOL, lambda v: v in ("1", "true"), lambda v: "yes"),
    ("whitespace_in_date", XML_DATE, bool, lambda v: f"  {v}\t "),
]


def inject_xml(xmls: dict[str, str], la: str, rng: np.random.Generator) -> tuple[dict[str, str], list[dict]]:
    """Inject one fault of each XML kind into the CIN census files of an LA.

    Kinds (each recorded with ``la``, ``file``, ``line``, ``column`` (the element),
    ``element``, ``kind``, ``value``, ``element_line`` (the line of the faulty element
    itself), ``record`` (the record element) and ``child`` (its ``LAchildID``)):

    - ``impossible_date``: a date that does not exist (``yyyy-02-31``);
    - ``lower_case_code``: a code in lower case;
    - ``boolean_yes``: a true boolean written ``yes``;
    - ``whitespace_in_date``: blanks and a tab around a date, inside the element.

    ``line`` is the line of the start tag of the record holding the element (``Child``,
    ``CINdetails``, ``Assessments``, ``CINPlanDates``, ``Section47`` or
    ``ChildProtectionPlans``): the line the ingest gives the row (``source_line``) and so
    quotes in its QA report. No two faults share a record. Line breaks are never added,
    so every other line stays where it was.
    """
    names = sorted(xmls)
    edits: dict[str, list[tuple[int, int, str]]] = {p: [] for p in names}
    used: set[tuple[str, str, int]] = set()
    records: list[dict] = []
    for kind, elements, want, change in _PLANS:
        found = _find_element(rng, xmls, names, elements, want, used)
        if found is None:
            continue
        path, m, rec_tag, rec_at = found
        used.add((path, rec_tag, rec_at))
        value = change(m.group(2))
        edits[path].append((m.start(2), m.end(2), value))
        text = xmls[path]
        child_at = text.rfind("<Child>", 0, m.start())
        cid = re.search(r"<LAchildID>([^<]*)</LAchildID>", text[child_at:])
        records.append({"la": la, "file": path, "line": text.count("\n", 0, rec_at) + 1,
                        "column": m.group(1), "element": m.group(1), "kind": kind, "value": value,
                        "element_line": text.count("\n", 0, m.start()) + 1, "record": rec_tag,
                        "child": cid.group(1) if cid else None})
    out = {}
    for p in names:
        text = xmls[p]
        for a, b, v in sorted(edits[p], reverse=True):
            text = text[:a] + v + text[b:]
        out[p] = text
    return out, records


def _find_element(rng: np.random.Generator, xmls: dict[str, str], names: list[str],
                  elements: dict[str, str], want: Callable[[str], bool],
                  used: set[tuple[str, str, int]]) -> tuple[str, re.Match, str, int] | None:
    """A random element of ``elements`` whose value satisfies ``want``, in a record no
    fault is in yet: (path, match, record tag, record start). Files are drawn at random
    until one holds such an element (nearly always the first draw; None after 20)."""
    pattern = re.compile(r"<(" + "|".join(elements) + r")>([^<]*)</\1>")
    for _ in range(20):
        path = names[int(rng.integers(0, len(names)))]
        text = xmls[path]
        hits = []
        for m in pattern.finditer(text):
            if not want(m.group(2)):
                continue
            rec_tag = elements[m.group(1)]
            rec_at = text.rfind(f"<{rec_tag}>", 0, m.start())
            if rec_at >= 0 and (path, rec_tag, rec_at) not in used:
                hits.append((m, rec_tag, rec_at))
        if hits:
            m, rec_tag, rec_at = hits[int(rng.integers(0, len(hits)))]
            return path, m, rec_tag, rec_at
    return None
