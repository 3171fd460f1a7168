"""The parameter files' schema: every key each file may hold, and what its value must be.

The schema is data (:data:`DEFAULTS`, :data:`SCHEDULE`, :data:`LA_FILE`): key -> a
:class:`Rule` saying in words what is expected and testing a value. :func:`validate`
checks a file's mapping against one and raises :class:`ParameterError` naming the
file, the key, what was expected and what was found, so that a wrong value stops a run
before any notebook starts, rather than as a bare ``TypeError`` half-way through (or,
for ``suppression_threshold: 0``, never: it would silently turn suppression off).
A key the schema does not know is an error too: a misspelt key would otherwise be
ignored without a word.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from csc_outcomes.ingest import UsageError, la_code
from csc_outcomes.measures import coverage
from csc_outcomes.reporting.config import FORMATS
from csc_outcomes.reporting.disclosure import MINIMUM_THRESHOLD
from csc_outcomes.reporting.la_register import is_current_la
from csc_outcomes.reporting.tracker_rating import threshold_problems, valid_thresholds

#: The renderers a run can be asked for.
RENDERERS = ("auto", "quarto", "builtin")


class ParameterError(ValueError):
    """A parameters file is not valid (a usage error, exit code 2); the message names the
    file, the key (or line), what was expected and what was found."""


@dataclass(frozen=True)
class Rule:
    """What a value must be: ``expected`` in words, ``test`` as a predicate, and
    optionally ``detail``: each sub-key's problem in words (a nested mapping, such as
    ``rag:``, is named down to the key at fault rather than shown whole)."""

    expected: str
    test: Callable[[Any], bool]
    detail: Callable[[Any], list[str]] | None = None


def integer(minimum: int) -> Rule:
    """A whole number (not a boolean, not text) of at least ``minimum``."""
    return Rule(f"a whole number of at least {minimum}",
                lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= minimum)


def text(pattern: str | None = None, what: str = "a text") -> Rule:
    """A non-empty text (matching ``pattern`` in full, when given)."""
    return Rule(what, lambda v: isinstance(v, str) and bool(v.strip())
                and (pattern is None or re.fullmatch(pattern, v.strip()) is not None))


def one_of(*choices: str) -> Rule:
    """One of ``choices``."""
    return Rule("one of " + ", ".join(choices), lambda v: v in choices)


def list_of(item: Rule) -> Rule:
    """A list (``[]`` for none) whose every item passes ``item``."""
    return Rule(f"a list, each item {item.expected}",
                lambda v: isinstance(v, list) and all(item.test(x) for x in v))


def either(*rules: Rule) -> Rule:
    """A value passing any of ``rules``."""
    return Rule(" or ".join(r.expected for r in rules), lambda v: any(r.test(v) for r in rules))


def _is_period(value: Any) -> bool:
    """Whether the period-end parser (``measures.coverage``) takes ``value``."""
    try:
        coverage.period_spelling(value)
    except (TypeError, ValueError):
        return False
    return True


def _is_la_code(value: Any) -> bool:
    """Whether ``value`` is an LA code (``ingest.la_code``: the one rule of their form)."""
    if not isinstance(value, str):
        return False
    try:
        la_code(value)
    except UsageError:
        return False
    return True


LA_CODE = Rule("an LA code (letters, digits, - or _; e.g. E09000001 or SYN01)", _is_la_code)
#: A real LA a synthetic one stands in for: one of today's 153 (DfE's neighbour model),
#: so that its published figures, region and neighbours exist.
CURRENT_LA = Rule("the current nine-character code of one of the 153 LAs in DfE's published "
                  "files (e.g. E06000001 for Hartlepool; see `csc-outcomes published "
                  "--neighbours CODE`)", is_current_la)
NAME = text(r"[A-Za-z0-9_][A-Za-z0-9_.-]*", "a name (letters, digits, _ . -)")
PATH = text(what="a path (text)")
ALL = one_of("all")
PERIOD = Rule("a period end: a date YYYY-MM-DD, last_month_end or latest_covered", _is_period)

#: The RAG tracker's thresholds (``rag:``, in ``defaults.yaml`` or an LA's file; any part).
RAG = Rule("a mapping of RAG domains (placement_moves, stability, missing, social_workers, "
           "health, sdq, absence, suspensions, care_leaver) to {amber: number, red: number} "
           "(finite whole numbers, a percentage for absence; amber above 0, red at least "
           "amber), and care_leaver_age: a whole number from 0 to 25 (docs/board-pack.md)",
           valid_thresholds, threshold_problems)

#: The options a run takes from ``defaults.yaml`` or a schedule.
RUN_OPTIONS: dict[str, Rule] = {
    "period_end": PERIOD,
    "notebooks": either(ALL, list_of(NAME)),
    "formats": list_of(one_of(*FORMATS)),
    "jobs": integer(1),
    "renderer": one_of(*RENDERERS),
    "warehouse": PATH,
    "measures": PATH,
    "reports_dir": PATH,
    "restricted_dir": PATH,
}
#: ``parameters/defaults.yaml``.
DEFAULTS: dict[str, Rule] = {**RUN_OPTIONS, "suppression_threshold": integer(MINIMUM_THRESHOLD),
                             "rag": RAG}
#: ``parameters/schedules/<name>.yaml``.
SCHEDULE: dict[str, Rule] = {**RUN_OPTIONS, "la_codes": either(ALL, list_of(LA_CODE))}
#: ``parameters/<LA>.yaml``.
LA_FILE: dict[str, Rule] = {"name": text(), "statistical_neighbours": list_of(LA_CODE), "region": text(),
                            "like": CURRENT_LA, "rag": RAG}


def shown(value: Any) -> str:
    """A value as the message shows it: its repr and, when not obvious, its YAML type."""
    kinds = {bool: "true/false", str: "text", int: "a number", float: "a number", list: "a list",
             dict: "a mapping", type(None): "empty"}
    kind = kinds.get(type(value), type(value).__name__)
    return f"{value!r} ({kind})"


def problems(data: Mapping[str, Any], schema: Mapping[str, Rule]) -> list[str]:
    """``key: expected ..., got ...`` for every key of ``data`` the schema refuses."""
    out = []
    for key, value in data.items():
        rule = schema.get(str(key))
        if rule is None:
            out.append(f"{key}: not a key this file may hold (expected one of {', '.join(schema)})")
        elif not rule.test(value):
            out += (rule.detail(value) if rule.detail is not None
                    else [f"{key}: expected {rule.expected}, got {shown(value)}"])
    return out


def validate(data: Any, schema: Mapping[str, Rule], path: Path) -> dict[str, Any]:
    """``data`` (a file's parsed YAML) when it fits ``schema``; else :class:`ParameterError`
    naming ``path``, each key, what was expected and what was found."""
    if not isinstance(data, dict):
        raise ParameterError(f"{path}: expected a mapping of keys to values, got {shown(data)}")
    found = problems(data, schema)
    if found:
        raise ParameterError("\n".join(f"{path}: {p}" for p in found))
    return data
