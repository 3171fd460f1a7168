"""Children in need census XML, flattened into the CIN canonical tables.

``Message/Header`` then ``Children/Child``; each child has ``ChildIdentifiers``,
``ChildCharacteristics`` and one or more ``CINdetails`` (with ``Assessments``,
``CINPlanDates``, ``Section47`` and ``ChildProtectionPlans``). Read with lxml
``iterparse`` one ``Child`` at a time (memory stays flat); namespaces are ignored (tags
are matched by local name), so are layout and line breaks. Each row's line is the
``sourceline`` of its element (1 for a file on one line).

Assumptions: ``Sex`` (from 2024-25) is read into ``GenderCurrent``; disabilities are
either the text of ``Disabilities`` or its ``Disability`` children, joined by spaces;
assessment factors are any ``AssessmentFactors``/``AssessmentFactor`` leaves inside an
``Assessments`` element (inside ``FactorsIdentifiedAtAssessment`` or not).
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd
from lxml import etree

from csc_outcomes.contracts import load_contract
from csc_outcomes.sources import FileRejected, RawTable
from csc_outcomes.sources.text import xml_source

TABLES = ["cin_children", "cin_episodes", "assessments", "assessment_factors", "cin_plans", "section47", "cp_plans"]

_CHILD_FIELDS = {f.lower(): f for f in load_contract("cin_children").fields}
_CHILD_FIELDS["sex"] = "GenderCurrent"
_EPISODE_FIELDS = {f.lower(): f for f in load_contract("cin_episodes").fields}
_ASSESS_FIELDS = {f.lower(): f for f in load_contract("assessments").fields}
_PLAN_FIELDS = {f.lower(): f for f in load_contract("cin_plans").fields}
_S47_FIELDS = {f.lower(): f for f in load_contract("section47").fields}
_CPP_FIELDS = {f.lower(): f for f in load_contract("cp_plans").fields}

_GROUPS = {
    "assessments": ("assessments", _ASSESS_FIELDS),
    "cinplandates": ("cin_plans", _PLAN_FIELDS),
    "section47": ("section47", _S47_FIELDS),
    "childprotectionplans": ("cp_plans", _CPP_FIELDS),
}
_IGNORED = {"reviews", "cppreviewdate", "factorsidentifiedatassessment", "assessmentfactors", "assessmentfactor"}


_LOCAL: dict = {}


def _local(tag) -> str:
    """Lower-case local name of a tag (namespace dropped); '' for comments. Cached."""
    try:
        return _LOCAL[tag]
    except (KeyError, TypeError):
        name = tag.rsplit("}", 1)[-1].lower() if isinstance(tag, str) else ""
        if isinstance(tag, str):
            _LOCAL[tag] = name
        return name


def _text(el) -> str:
    return el.text or ""


_PARENT_KIND = {
    "childidentifiers": "child", "childcharacteristics": "child", "child": "child",
    "cindetails": "episode",
    "assessments": "assessments", "factorsidentifiedatassessment": "factor", "assessmentfactors": "factor",
    "cinplandates": "cin_plans", "section47": "section47", "childprotectionplans": "cp_plans",
    "disabilities": "disability", "reviews": "ignore", "collectiondetails": "header",
    "header": "header", "source": "header", "message": "header", "children": "header",
}
_GROUP_FIELDS = {"assessments": _ASSESS_FIELDS, "cin_plans": _PLAN_FIELDS, "section47": _S47_FIELDS,
                 "cp_plans": _CPP_FIELDS}
_GROUP_END = {"assessments": "assessments", "cinplandates": "cin_plans", "section47": "section47",
              "childprotectionplans": "cp_plans"}
_STRUCTURE = {"childidentifiers", "childcharacteristics", "disabilities", "factorsidentifiedatassessment",
              "reviews", "cppreviewdate", "cpreviewdate", "header", "collectiondetails", "source", "children",
              "message", "collection", "year", "referencedate", "sourcelevel", "lea", "softwarecode",
              "release", "serialno", "datetime"}


def read(path: Path, label: str) -> tuple[list[RawTable], str | None]:
    """Read a CIN census file; return its tables and the collection year it states (if any).

    One pass of ``iterparse`` end events over every element, a flat state machine (a
    leaf's parent tells which record it belongs to); each element is handled once.
    """
    fields = {t: load_contract(t).fields for t in TABLES}
    rows: dict[str, list[tuple]] = {t: [] for t in TABLES}
    lines: dict[str, list[int]] = {t: [] for t in TABLES}
    unknown: set[str] = set()
    stated_year = None
    n_children = 0
    child: dict = {}
    episode: dict = {}
    group: dict = {}
    factors: list = []
    disabilities: list = []
    child_rows: list = []     # (table, dict, line) waiting for LAchildID
    ep_rows: list = []        # (table, dict, line) waiting for CINreferralDate
    try:
        context = etree.iterparse(xml_source(path), events=("end",), huge_tree=True)
        for _event, el in context:
            name = _local(el.tag)
            if not name:
                continue
            if name in _GROUP_END:
                table = _GROUP_END[name]
                ep_rows.append((table, group, el.sourceline or 0))
                for code, line in factors:
                    ep_rows.append(("assessment_factors", {"AssessmentFactor": code,
                                    "AssessmentActualStartDate": group.get("AssessmentActualStartDate")}, line))
                group, factors = {}, []
                continue
            if name == "cindetails":
                ref = episode.get("CINreferralDate")
                for table, r, line in ep_rows:
                    r["CINreferralDate"] = ref
                    child_rows.append((table, r, line))
                child_rows.append(("cin_episodes", episode, el.sourceline or 0))
                episode, ep_rows = {}, []
                continue
            if name == "child":
                n_children += 1
                if disabilities:
                    child["Disabilities"] = " ".join(disabilities)
                child_id = child.get("LAchildID")
                rows["cin_children"].append(tuple(child.get(f) for f in fields["cin_children"]))
                lines["cin_children"].append(el.sourceline or 0)
                for table, r, line in child_rows:
                    r["LAchildID"] = child_id
                    rows[table].append(tuple(r.get(f) for f in fields[table]))
                    lines[table].append(line)
                child, child_rows, disabilities = {}, [], []
                el.clear()
                parent = el.getparent()
                if parent is not None:
                    while el.getprevious() is not None:
                        del parent[0]
                continue
            parent = el.getparent()
            kind = _PARENT_KIND.get(_local(parent.tag)) if parent is not None else "header"
            text = el.text or ""
            if kind == "child":
                f = _CHILD_FIELDS.get(name)
                if f:
                    if name == "disabilities" and not text.strip():
                        continue
                    child[f] = text
                elif name not in _STRUCTURE:
                    unknown.add(f"{_local(parent.tag)}/{name}")
            elif kind == "episode":
                f = _EPISODE_FIELDS.get(name)
                if f:
                    episode[f] = text
                elif name not in _STRUCTURE and name != "cindetails":
                    unknown.add(f"cindetails/{name}")
            elif kind in _GROUP_FIELDS:
                f = _GROUP_FIELDS[kind].get(name)
                if f:
                    group[f] = text
                elif name in ("assessmentfactors", "assessmentfactor"):
                    if len(el) == 0:
                        factors.append((text, el.sourceline or 0))
                elif name not in _STRUCTURE:
                    unknown.add(f"{kind}/{name}")
            elif kind == "factor":
                if len(el) == 0:
                    factors.append((text, el.sourceline or 0))
            elif kind == "disability":
                if text.strip():
                    disabilities.append(text.strip())
            elif kind == "header":
                if name == "referencedate" and stated_year is None:
                    stated_year = text.strip()
        root_el = context.root
        root = _local(root_el.tag) if root_el is not None else None
        if root is not None and root != "message":
            raise FileRejected(
                f"{label}: the XML root is <{root_el.tag}>, not <Message>; this is not a CIN census "
                "file (an SSDA903 XML export belongs in ssda903/<year>/)",
                rule="not_expected_table", line=root_el.sourceline)
    except FileRejected:
        raise
    except (etree.XMLSyntaxError, OSError) as exc:
        raise FileRejected(f"{label}: not well-formed XML ({exc}); export the census file again",
                           rule="file_unreadable") from None
    if root is None:
        raise FileRejected(f"{label}: the file is empty", rule="file_unreadable")
    if n_children == 0:
        raise FileRejected(f"{label}: no Children/Child elements found; check the census export",
                           rule="not_expected_table")
    out = []
    for t in TABLES:
        frame = pd.DataFrame.from_records(rows[t], columns=fields[t]) if rows[t] else \
            pd.DataFrame({f: pd.Series(dtype=object) for f in fields[t]})
        out.append(RawTable(table=t, frame=frame, lines=np.asarray(lines[t], dtype="int64")))
    if unknown:
        out[0].notes.append(dict(line=1, column=", ".join(sorted(unknown)), value=None, rule="extra_columns",
                                 message=f"{label}: element(s) {', '.join(sorted(unknown))} are not part of the "
                                         "CIN contracts and were left out", severity="warning"))
    return out, stated_year
