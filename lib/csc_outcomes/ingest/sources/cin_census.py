"""Children in need census XML, flattened into the CIN canonical tables.

``Message/Header`` then ``Children/Child``; each child has ``ChildIdentifiers``,
``ChildCharacteristics`` and one or more ``CINdetails`` (with ``Assessments``,
``CINPlanDates``, ``Section47`` and ``ChildProtectionPlans``). Read with lxml
``iterparse`` one ``Child`` at a time (memory stays flat); namespaces are ignored (tags
are matched by local name), so are layout and line breaks. Each row's line is the
line of its element's start tag (1 for a file on one line; see :func:`start_line`).

Assumptions: ``Sex`` (from 2024-25) is read into ``GenderCurrent``; disabilities are
either the text of ``Disabilities`` or its ``Disability`` children, joined by spaces;
assessment factors are any ``AssessmentFactors``/``AssessmentFactor`` leaves inside an
``Assessments`` element (inside ``FactorsIdentifiedAtAssessment`` or not).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from lxml import etree

from csc_outcomes.ingest.contracts import load_contract
from csc_outcomes.ingest.sources import FileRejected, RawTable
from csc_outcomes.ingest.sources.text import start_line, xml_source

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

    ``iterparse`` reports only the end of each ``Child`` element (the tag filter runs in
    C); each child's subtree is then walked once, depth first, with the parent's kind
    known from the walk (no ``getparent`` per element), and the child is cleared. A
    file whose ``Child`` elements are spelt in another case falls back to matching
    every element's local name case-insensitively. Rows are collected as dicts and
    turned into one frame per table at the end.
    """
    st = _State()
    try:
        n_children, root_el = _parse(path, st, fast=True)
        root = _local(root_el.tag) if root_el is not None else None
        if root is not None and root != "message":
            raise FileRejected(
                f"{label}: the XML root is <{root_el.tag}>, not <Message>; this is not a CIN census "
                "file (an SSDA903 XML export belongs in ssda903/<year>/)",
                rule="not_expected_table", line=start_line(root_el))
        if n_children == 0 and root is not None:
            st = _State()
            n_children, root_el = _parse(path, st, fast=False)
        stated_year = _reference_date(root_el) if root_el is not None else None
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
        fields = _FIELDS[t]
        rows = st.rows[t]
        frame = pd.DataFrame.from_records(rows, columns=fields) if rows else \
            pd.DataFrame({f: pd.Series(dtype=object) for f in fields})
        out.append(RawTable(table=t, frame=frame, lines=np.asarray(st.lines[t], dtype="int64")))
    if st.unknown:
        unknown = sorted(st.unknown)
        out[0].notes.append({"line": 1, "column": ", ".join(unknown), "value": None, "rule": "extra_columns",
                             "message": f"{label}: element(s) {', '.join(unknown)} are not part of the "
                                        "CIN contracts and were left out", "severity": "warning"})
    return out, stated_year


_FIELDS = {t: load_contract(t).fields for t in TABLES}


class _State:
    """What the walk carries between elements (as the end-event state machine did)."""

    __slots__ = (
        "child",
        "child_rows",
        "disabilities",
        "ep_rows",
        "episode",
        "factors",
        "group",
        "lines",
        "rows",
        "unknown",
    )

    def __init__(self) -> None:
        self.rows: dict[str, list[dict]] = {t: [] for t in TABLES}
        self.lines: dict[str, list[int]] = {t: [] for t in TABLES}
        self.unknown: set[str] = set()
        self.child: dict = {}
        self.episode: dict = {}
        self.group: dict = {}
        self.factors: list = []
        self.disabilities: list = []
        self.child_rows: list = []   # (table, dict, line) waiting for LAchildID
        self.ep_rows: list = []      # (table, dict, line) waiting for CINreferralDate


def _parse(path: Path, st: _State, fast: bool):
    """One pass over the file: every ``Child`` element walked into ``st``; returns
    ``(children seen, root element)``."""
    n = 0
    if fast:
        context = etree.iterparse(xml_source(path), events=("end",), tag="{*}Child", huge_tree=True)
    else:
        context = etree.iterparse(xml_source(path), events=("end",), huge_tree=True)
    for _event, el in context:
        if not fast and _local(el.tag) != "child":
            continue
        n += 1
        _end_child(el, st)
        el.clear()
        parent = el.getparent()
        if parent is not None:
            while el.getprevious() is not None:
                del parent[0]
    return n, context.root


def _reference_date(root_el) -> str | None:
    """The first ``ReferenceDate`` in the header part of the message (stripped)."""
    for el in root_el.iter():
        if _local(el.tag) == "referencedate":
            parent = el.getparent()
            kind = _PARENT_KIND.get(_local(parent.tag)) if parent is not None else "header"
            if kind == "header":
                return (el.text or "").strip()
    return None


def _walk(el, kind: str | None, st: _State) -> None:
    """Handle ``el`` (whose parent is of ``kind``) after its descendants: the end events
    of the element tree in document order."""
    name = _local(el.tag)
    if not name:
        return
    if len(el):
        sub = _PARENT_KIND.get(name)
        for c in el:
            _walk(c, sub, st)
    if name in _GROUP_END:
        _end_group(name, el, st)
        return
    if name == "cindetails":
        _end_episode(el, st)
        return
    if name == "child":  # a Child inside a Child: as the state machine, it ends a child
        _end_child(el, st, walked=True)
        return
    _LEAF.get(kind or "", _group_leaf)(el, name, kind, el.text or "", st)


def _child_leaf(el: Any, name: str, kind: str | None, text: str, st: _State) -> None:
    """A leaf of ``ChildIdentifiers`` / ``ChildCharacteristics``: a child field."""
    f = _CHILD_FIELDS.get(name)
    if f:
        if name == "disabilities" and not text.strip():
            return
        st.child[f] = text
    elif name not in _STRUCTURE:
        st.unknown.add(f"{_local(el.getparent().tag)}/{name}")


def _episode_leaf(el: Any, name: str, kind: str | None, text: str, st: _State) -> None:
    """A leaf of ``CINdetails``: an episode field."""
    f = _EPISODE_FIELDS.get(name)
    if f:
        st.episode[f] = text
    elif name not in _STRUCTURE and name != "cindetails":
        st.unknown.add(f"cindetails/{name}")


def _group_leaf(el: Any, name: str, kind: str | None, text: str, st: _State) -> None:
    """A leaf of one of the four groups (a group field or an assessment factor); a leaf
    under anything else is ignored."""
    if kind not in _GROUP_FIELDS:
        return
    f = _GROUP_FIELDS[kind].get(name)
    if f:
        st.group[f] = text
    elif name in ("assessmentfactors", "assessmentfactor"):
        if len(el) == 0:
            st.factors.append((text, start_line(el)))
    elif name not in _STRUCTURE:
        st.unknown.add(f"{kind}/{name}")


def _factor_leaf(el: Any, name: str, kind: str | None, text: str, st: _State) -> None:
    """A leaf inside ``AssessmentFactors``: one factor code."""
    if len(el) == 0:
        st.factors.append((text, start_line(el)))


def _disability_leaf(el: Any, name: str, kind: str | None, text: str, st: _State) -> None:
    """A leaf inside ``Disabilities``: one disability code."""
    if text.strip():
        st.disabilities.append(text.strip())


#: The handler of a leaf by the kind of its parent (the groups' kinds: ``_group_leaf``).
_LEAF = {"child": _child_leaf, "episode": _episode_leaf, "factor": _factor_leaf,
         "disability": _disability_leaf}


# local names that end something (a group, an episode, a child) wherever they appear:
# an element so named is never a plain leaf value
_SPECIAL = frozenset(["cindetails", "child", "assessments", "cinplandates", "section47", "childprotectionplans"])


def _disabilities(el: Any, st: _State) -> None:
    """A ``Disabilities`` element: its ``Disability`` leaves, then its own text (as the
    walk reads them)."""
    local = _LOCAL
    for d in el:
        dtag = d.tag
        dname = local.get(dtag) or _local(dtag)
        if dname and not len(d) and dname not in _SPECIAL:
            v = (d.text or "").strip()
            if v:
                st.disabilities.append(v)
        else:
            _walk(d, "disability", st)
    text = el.text or ""
    if text.strip():
        st.child["Disabilities"] = text


def _child_section(sec: Any, st: _State) -> None:
    """``ChildIdentifiers`` / ``ChildCharacteristics``: the usual leaves read with a plain
    loop, anything else through :func:`_walk`."""
    child = st.child
    local = _LOCAL
    for leaf in sec:
        ltag = leaf.tag
        lname = local.get(ltag) or _local(ltag)
        if lname == "disabilities":
            _disabilities(leaf, st)
            continue
        f = _CHILD_FIELDS.get(lname)
        if f is not None and not len(leaf):
            child[f] = leaf.text or ""
        else:
            _walk(leaf, "child", st)


def _emit_child(el: Any, st: _State) -> None:
    """The child's row, and the rows of its episodes and groups, which wait for its
    ``LAchildID``; the state is reset for the next child."""
    if st.disabilities:
        st.child["Disabilities"] = " ".join(st.disabilities)
    child = st.child
    child_id = child.get("LAchildID")
    child_row = {f: child[f] for f in _FIELDS["cin_children"] if f in child}
    st.rows["cin_children"].append(child_row)
    st.lines["cin_children"].append(start_line(el))
    rows, lines = st.rows, st.lines
    for table, r, line in st.child_rows:
        r["LAchildID"] = child_id
        rows[table].append(r)
        lines[table].append(line)
    st.child, st.child_rows, st.disabilities = {}, [], []


def _end_child(el: Any, st: _State, walked: bool = False) -> None:
    """Walk a ``Child`` element's subtree (unless ``walked`` already), then emit its rows."""
    if not walked:
        local = _LOCAL
        for sec in el:
            tag = sec.tag
            name = local.get(tag) or _local(tag)
            if name == "cindetails":
                _episode(sec, st)
            elif name in ("childidentifiers", "childcharacteristics"):
                _child_section(sec, st)
            else:
                _walk(sec, "child", st)
    _emit_child(el, st)


def _episode(el, st: _State) -> None:
    """A ``CINdetails`` element: the usual shape read with plain loops (leaves, the four
    groups and their ``AssessmentFactors`` lists), anything else through :func:`_walk`;
    the same result as the walk."""
    episode = st.episode
    local = _LOCAL
    for x in el:
        tag = x.tag
        name = local.get(tag) or _local(tag)
        f = _EPISODE_FIELDS.get(name)
        if f is not None and not len(x):
            episode[f] = x.text or ""
            continue
        if name in _GROUP_END:
            kind = _PARENT_KIND[name]
            fields = _GROUP_FIELDS[kind]
            group = st.group
            for leaf in x:
                ltag = leaf.tag
                lname = local.get(ltag) or _local(ltag)
                gf = fields.get(lname)
                if gf is not None and not len(leaf):
                    group[gf] = leaf.text or ""
                elif lname == "assessmentfactors" and gf is None and len(leaf):
                    # AssessmentFactor leaves (the walk with the parent kind "factor")
                    for c in leaf:
                        ctag = c.tag
                        cname = local.get(ctag) or _local(ctag)
                        if cname and not len(c) and cname not in _SPECIAL:
                            st.factors.append((c.text or "", start_line(c)))
                        else:
                            _walk(c, "factor", st)
                else:
                    _walk(leaf, kind, st)
            _end_group(name, x, st)
        else:
            _walk(x, "episode", st)
    _end_episode(el, st)


def _end_group(name: str, el, st: _State) -> None:
    """End of an Assessments / CINPlanDates / Section47 / ChildProtectionPlans element."""
    group = st.group
    st.ep_rows.append((_GROUP_END[name], group, start_line(el)))
    if st.factors:
        start = group.get("AssessmentActualStartDate")
        for code, fline in st.factors:
            st.ep_rows.append(("assessment_factors",
                               {"AssessmentFactor": code, "AssessmentActualStartDate": start}, fline))
        st.factors = []
    st.group = {}


def _end_episode(el, st: _State) -> None:
    """End of a ``CINdetails`` element: its rows wait for the child's ``LAchildID``."""
    ref = st.episode.get("CINreferralDate")
    for table, r, line in st.ep_rows:
        r["CINreferralDate"] = ref
        st.child_rows.append((table, r, line))
    st.child_rows.append(("cin_episodes", st.episode, start_line(el)))
    st.episode, st.ep_rows = {}, []

