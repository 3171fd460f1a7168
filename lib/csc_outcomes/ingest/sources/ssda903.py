"""SSDA903 (children looked after and care leavers): CSV files and the XML form.

CSV: one file per table per collection year in ``<la>/ssda903/<year>/``, named after the
table (``header.csv``, ``episodes.csv``, ...). A few other names that LA systems and
peer tools use are accepted (:data:`FILE_ALIASES`).

XML: the export some LA systems produce, root ``EXPSSDA903`` with one ``CHILD`` element
per child. ``docs/input-formats.md`` only fixes the root, the ``CHILD`` element, ``CHILDID`` for
``CHILD`` and ``PL`` for ``PLACE``; the rest is an assumption, documented here and made
tolerant:

* every element is matched by its tag name, case-insensitively; ``CHILDID`` -> ``CHILD``,
  ``PL`` -> ``PLACE``;
* leaf elements directly under ``CHILD`` or under a ``HEADER`` element are child-level
  fields: they give the ``header`` row and, when present, the child-level tables
  ``uasc`` (``DUC``), ``oc3`` (``IN_TOUCH``/``ACTIV``/``ACCOM``), ``ad1`` (``DATE_INT``,
  ``DATE_MATCH``, ...), ``previous_permanence`` (``PREV_PERM``, ...) and ``oc2`` (OC2
  fields written flat);
* any element with element children (other than ``HEADER``) is a repeating group, one
  row of a table chosen by its tag (``EPISODE`` -> episodes, ``AREVIEW``/``REVIEW`` ->
  reviews, ``OC2``, ``OC3``, ``AD1``, ``AD_PLACED``/``PLACED_FOR_ADOPTION``,
  ``PREV_PERM``, ``MISSING``/``MISSING_EPISODE``, ``SW_EPISODE``, ``UASC``), or else by the
  table whose columns best match its leaves; ``CHILD`` and ``DOB`` are carried from the
  child into every row;
* the line of a row is the start-tag line of its element (``text.start_line``) (the ``CHILD`` element for
  child-level tables); unknown elements are reported once per file.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from lxml import etree

from csc_outcomes.ingest.contracts import load_contract
from csc_outcomes.ingest.sources import FileRejected, RawTable, table_from_csv
from csc_outcomes.ingest.sources.text import start_line, xml_source

TABLES = [
    "header", "episodes", "uasc", "reviews", "oc2", "oc3", "ad1",
    "placed_for_adoption", "previous_permanence", "missing", "sw_episodes",
]

FILE_ALIASES = {
    "episode": "episodes",
    "review": "reviews",
    "placed_adoption": "placed_for_adoption",
    "placed_for_adopt": "placed_for_adoption",
    "ad_placed": "placed_for_adoption",
    "prev_perm": "previous_permanence",
    "previous_perm": "previous_permanence",
    "social_worker": "sw_episodes",
    "social_workers": "sw_episodes",
    "sw_episode": "sw_episodes",
    "missing_episodes": "missing",
}

XML_ALIASES = {"CHILDID": "CHILD", "PL": "PLACE"}

_GROUP_TAGS = {
    "EPISODE": "episodes", "EPISODES": "episodes",
    "AREVIEW": "reviews", "REVIEW": "reviews", "REVIEWS": "reviews",
    "OC2": "oc2", "OC3": "oc3", "AD1": "ad1", "UASC": "uasc",
    "AD_PLACED": "placed_for_adoption", "PLACED_FOR_ADOPTION": "placed_for_adoption",
    "PREV_PERM": "previous_permanence", "PREVIOUS_PERMANENCE": "previous_permanence",
    "MISSING": "missing", "MISSING_EPISODE": "missing", "MISSING_EPISODES": "missing",
    "SW_EPISODE": "sw_episodes", "SW_EPISODES": "sw_episodes", "SOCIAL_WORKER": "sw_episodes",
}

#: Child-level tables and the leaf fields whose presence gives a row.
_CHILD_LEVEL_TRIGGERS = {
    "uasc": ["DUC"],
    "oc3": ["IN_TOUCH", "ACTIV", "ACCOM"],
    "ad1": ["DATE_INT", "DATE_MATCH", "FOSTER_CARE", "NB_ADOPTR", "SEX_ADOPTR", "LS_ADOPTR"],
    "previous_permanence": ["PREV_PERM", "LA_PERM", "DATE_PERM"],
    "oc2": ["SDQ_SCORE", "SDQ_REASON", "CONVICTED", "HEALTH_CHECK", "IMMUNISATIONS", "TEETH_CHECK",
            "HEALTH_ASSESSMENT", "SUBSTANCE_MISUSE", "INTERVENTION_RECEIVED", "INTERVENTION_OFFERED"],
}


def table_for_file(path: Path) -> str | None:
    """The SSDA903 table a CSV holds, from its file name (None when unknown)."""
    stem = Path(path).stem.strip().lower().replace("-", "_").replace(" ", "_")
    if stem in TABLES:
        return stem
    if stem in FILE_ALIASES:
        return FILE_ALIASES[stem]
    for t in TABLES:  # e.g. "903_episodes_2024"
        if t in stem.split("_") or stem.endswith("_" + t) or stem.startswith(t + "_"):
            return t
    return None


def read_csv(path: Path, label: str, table: str | None = None) -> RawTable:
    """Read one SSDA903 CSV (its table from the file name unless given)."""
    table = table or table_for_file(path)
    if table is None:
        raise FileRejected(
            f"{label}: the file name does not name an SSDA903 table; rename it to one of "
            + ", ".join(f"{t}.csv" for t in TABLES),
            rule="unknown_file")
    return table_from_csv(path, table, label)


def _local(tag: Any) -> str:
    """Upper-case local name of a tag (namespace dropped); '' for comments."""
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1].upper()


def _leaves(el: Any) -> list[tuple[str, str]]:
    """(name, text) of each leaf element directly under ``el``."""
    return [(_local(c.tag), (c.text or "")) for c in el if isinstance(c.tag, str) and len(c) == 0]


@functools.cache
def _fields_upper() -> dict[str, dict[str, str]]:
    """Per table: upper-case element name -> contract column (``XML_ALIASES`` included)."""
    out = {t: {f.upper(): f for f in load_contract(t).fields} for t in TABLES}
    for fields in out.values():
        for k, v in XML_ALIASES.items():
            if v in fields.values():
                fields[k] = v
    return out


class _Rows:
    """Rows collected per table while the file is walked, with their lines, and the
    element names no contract knows."""

    def __init__(self) -> None:
        self.rows: dict[str, list[dict]] = defaultdict(list)
        self.lines: dict[str, list[int]] = defaultdict(list)
        self.unknown: set[str] = set()

    def add(self, table: str, row: dict, line: int) -> None:
        """A row of ``table`` read from ``line``."""
        self.rows[table].append(row)
        self.lines[table].append(line)

    def tables(self, label: str) -> list[RawTable]:
        """One :class:`RawTable` per table found (the unknown elements noted on the first)."""
        out = []
        for t in TABLES:
            if t not in self.rows:
                continue
            fields = load_contract(t).fields
            frame = pd.DataFrame(self.rows[t], dtype=object)
            for f in fields:
                if f not in frame.columns:
                    frame[f] = None
            out.append(RawTable(table=t, frame=frame[fields], lines=np.asarray(self.lines[t], dtype="int64")))
        if self.unknown and out:
            unknown = ", ".join(sorted(self.unknown))
            out[0].notes.append({
                "line": 1, "column": unknown, "value": None, "rule": "extra_columns",
                "message": f"{label}: element(s) {unknown} are not part of any SSDA903 contract and "
                           "were left out", "severity": "warning"})
        return out


def _child_parts(el: Any) -> tuple[dict[str, str], list[Any]]:
    """A ``CHILD`` element's leaf fields (its own and its ``HEADER``'s) and its groups."""
    child_fields: dict[str, str] = {}
    groups = []
    for c in el:
        if not isinstance(c.tag, str):
            continue
        tag = _local(c.tag)
        if len(c) == 0:
            child_fields[tag] = c.text or ""
        elif tag == "HEADER":
            for h in c:
                if not isinstance(h.tag, str):
                    continue
                if len(h) == 0:
                    child_fields[_local(h.tag)] = h.text or ""
                else:
                    groups.append(h)
        else:
            groups.append(c)
    return child_fields, groups


def _child(el: Any, out: _Rows) -> None:
    """The rows of one ``CHILD``: its header, its child-level tables and its groups."""
    fields_upper = _fields_upper()
    child_fields, groups = _child_parts(el)
    child_id = child_fields.get("CHILDID", child_fields.get("CHILD", ""))
    dob = child_fields.get("DOB", "")
    line = start_line(el)
    used: set[str] = set()
    hdr = _pick(child_fields, fields_upper["header"], used)
    hdr["CHILD"] = child_id
    out.add("header", hdr, line)
    for t, triggers in _CHILD_LEVEL_TRIGGERS.items():
        if any(k in child_fields for k in triggers):
            r = _pick(child_fields, fields_upper[t], used)
            r.setdefault("DOB", dob)
            r["CHILD"] = child_id
            out.add(t, r, line)
    out.unknown.update(k for k in child_fields if k not in used and k not in ("CHILDID", "CHILD", "UASC"))
    for g in groups:
        leaves = dict(_leaves(g))
        table = _GROUP_TAGS.get(_local(g.tag)) or _best_table(leaves, fields_upper)
        if table is None:
            out.unknown.add(_local(g.tag))
            continue
        used_g: set[str] = set()
        r = _pick(leaves, fields_upper[table], used_g)
        r["CHILD"] = child_id
        if "DOB" in fields_upper[table].values():
            r.setdefault("DOB", dob)
        out.unknown.update(f"{_local(g.tag)}/{k}" for k in leaves if k not in used_g)
        out.add(table, r, start_line(g) or line)


def _walk_children(path: Path, label: str, out: _Rows) -> int:
    """Read every ``EXPSSDA903/CHILD`` of the file into ``out``; return how many."""
    n_children = 0
    root_seen = None
    for event, el in etree.iterparse(xml_source(path), events=("start", "end"), recover=False,
                                     huge_tree=True):
        if event == "start":
            if root_seen is None:
                root_seen = _local(el.tag)
                if root_seen != "EXPSSDA903":
                    raise FileRejected(
                        f"{label}: the XML root is <{el.tag}>, not <EXPSSDA903>; this is not an SSDA903 "
                        "export (a CIN census file belongs in cin/<year>/)", rule="not_expected_table",
                        line=start_line(el))
            continue
        parent = el.getparent()
        if _local(el.tag) != "CHILD" or parent is None or _local(parent.tag) != "EXPSSDA903":
            continue
        n_children += 1
        _child(el, out)
        el.clear()
        while el.getprevious() is not None:
            del parent[0]
    return n_children


def read_xml(path: Path, label: str) -> list[RawTable]:
    """Read the SSDA903 XML form into one :class:`RawTable` per table found."""
    out = _Rows()
    try:
        n_children = _walk_children(path, label, out)
    except (etree.XMLSyntaxError, OSError) as exc:
        raise FileRejected(f"{label}: not well-formed XML ({exc}); export the file again",
                           rule="file_unreadable") from None
    if n_children == 0:
        raise FileRejected(f"{label}: no EXPSSDA903/CHILD elements found; check the export",
                           rule="not_expected_table")
    return out.tables(label)


def _pick(leaves: dict[str, str], fields: dict[str, str], used: set[str]) -> dict[str, str]:
    """The ``leaves`` that are ``fields``, under the contract's names (recorded in ``used``)."""
    out = {}
    for k, v in leaves.items():
        if k in fields:
            out[fields[k]] = v
            used.add(k)
    return out


def _best_table(leaves: dict[str, str], fields_upper: dict[str, dict[str, str]]) -> str | None:
    """The table (not the header) whose fields best cover a group's leaves (None under half)."""
    keys = set(leaves)
    best, score = None, 0.0
    for t, f in fields_upper.items():
        if t == "header":
            continue
        s = len(keys & set(f)) / max(len(keys), 1)
        if s > score:
            best, score = t, s
    return best if score >= 0.5 else None
