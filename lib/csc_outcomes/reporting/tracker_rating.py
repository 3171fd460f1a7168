"""The RAG tracker's ratings: each child's evidence against the thresholds, pure.

A review board discusses every child in care domain by domain; a colour it cannot
trace to a rule invites argument about the colour rather than the child. So every
rating here comes from one number per domain compared with two thresholds (``amber``
and ``red``: a value at or above ``red`` is red, at or above ``amber`` amber, below
it green), and the tracker writes which threshold gave the colour ("2 moves >= red
at 2"). A domain the returns cannot rate for a child is "No data" (say, social
workers in a year whose return did not hold them) or "Not applicable" (an SDQ for a
two-year-old): never a guessed colour.

The thresholds are parameters (``rag:`` in ``parameters/defaults.yaml``, changeable
per LA in ``<LA>.yaml``; ``parameter_schema.RAG`` checks them); :data:`DEFAULT_THRESHOLDS`
holds the kit's defaults, stated again in ``defaults.yaml`` and ``docs/board-pack.md``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

RED, AMBER, GREEN = "Red", "Amber", "Green"
NO_DATA, NOT_APPLICABLE = "No data", "Not applicable"
#: Every rating, in the order the summary shows them.
RATINGS = (RED, AMBER, GREEN, NO_DATA, NOT_APPLICABLE)
#: An evidence column's state: rated against the thresholds, or why not.
RATED = "rated"


@dataclass(frozen=True)
class Domain:
    """One domain of the tracker: its key (in ``rag:`` and the evidence columns), its
    heading, and how its number reads in the "why" text."""

    key: str
    label: str
    shown: Callable[[float], str]


def _count(unit: str) -> Callable[[float], str]:
    return lambda v: f"{v:g} {unit}"


DOMAINS: tuple[Domain, ...] = (
    Domain("placement_moves", "Placement moves (12 months)", _count("moves")),
    Domain("stability", "Long-term stability (carer changes, 2 years)", _count("carer changes")),
    Domain("missing", "Missing episodes (12 months)", _count("missing episodes")),
    Domain("social_workers", "Social workers (12 months)", _count("social workers")),
    Domain("health", "Health, dental, immunisations", _count("of 3 not done")),
    Domain("sdq", "SDQ score", lambda v: f"SDQ {v:g}"),
    Domain("absence", "School absence this year", lambda v: f"{v:.1f}% absent"),
    Domain("suspensions", "Suspensions (12 months)", _count("suspensions")),
    Domain("care_leaver", "Care leaver: activity, accommodation", _count("of 2 not met")),
)
DOMAIN_KEYS = tuple(d.key for d in DOMAINS)

#: The kit's thresholds (``rag:`` in ``defaults.yaml`` states the same values).
DEFAULT_THRESHOLDS: dict[str, Any] = {
    "placement_moves": {"amber": 1, "red": 2},
    "stability": {"amber": 1, "red": 2},
    "missing": {"amber": 1, "red": 3},
    "social_workers": {"amber": 2, "red": 3},
    "health": {"amber": 1, "red": 2},
    "sdq": {"amber": 14, "red": 17},
    "absence": {"amber": 5, "red": 10},
    "suspensions": {"amber": 1, "red": 2},
    "care_leaver": {"amber": 1, "red": 2},
    "care_leaver_age": 17,
}


class ThresholdError(ValueError):
    """Thresholds that cannot rate (amber above red once merged); names where each came from."""


def _number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and v >= 0


def valid_thresholds(value: Any) -> bool:
    """Whether ``value`` is a ``rag:`` block (the whole or any part of
    :data:`DEFAULT_THRESHOLDS`): known domains, each ``amber``/``red`` a number of at
    least 0, amber at most red when both are given; ``care_leaver_age`` 0 to 25."""
    if not isinstance(value, Mapping) or not set(value) <= set(DEFAULT_THRESHOLDS):
        return False
    for key, limits in value.items():
        if key == "care_leaver_age":
            if not (isinstance(limits, int) and not isinstance(limits, bool) and 0 <= limits <= 25):
                return False
        elif not (isinstance(limits, Mapping) and limits and set(limits) <= {"amber", "red"}
                  and all(_number(v) for v in limits.values())
                  and limits.get("amber", 0) <= limits.get("red", float("inf"))):
            return False
    return True


def thresholds_for(defaults: Mapping[str, Any] | None,
                   la: Mapping[str, Any] | None) -> dict[str, Any]:
    """The thresholds for one LA: the kit's, then ``defaults.yaml``'s ``rag:``, then the
    LA's (each key of each domain overridden on its own). :class:`ThresholdError` when a
    domain's amber ends up above its red (each file may change only one of them)."""
    merged: dict[str, Any] = {k: (dict(v) if isinstance(v, Mapping) else v)
                              for k, v in DEFAULT_THRESHOLDS.items()}
    for layer in (defaults or {}, la or {}):
        for key, value in layer.items():
            if isinstance(value, Mapping):
                merged[key].update(value)
            else:
                merged[key] = value
    bad = [f"{k}: amber {merged[k]['amber']} is above red {merged[k]['red']}"
           for k in DOMAIN_KEYS if merged[k]["amber"] > merged[k]["red"]]
    if bad:
        raise ThresholdError("RAG thresholds (parameters/defaults.yaml rag: and the LA's "
                             "<LA>.yaml rag:) do not rate: " + "; ".join(bad)
                             + "; make amber at most red")
    return merged


def rate_domain(value: pd.Series, state: pd.Series, domain: Domain,
                limits: Mapping[str, float]) -> tuple[pd.Series, pd.Series]:
    """Each child's colour in one domain, and why (the threshold that gave it).

    ``value`` is the domain's number (rated where ``state`` is ``"rated"``); ``state``
    is otherwise :data:`NO_DATA` or :data:`NOT_APPLICABLE`, which becomes the rating.
    """
    amber, red = limits["amber"], limits["red"]
    rated = (state == RATED).to_numpy()
    v = pd.to_numeric(value, errors="coerce").to_numpy(dtype=float)
    with np.errstate(invalid="ignore"):
        colour = np.select([v >= red, v >= amber], [RED, AMBER], GREEN)
    shown = [domain.shown(x) if ok else "" for x, ok in zip(v, rated, strict=True)]
    rule = np.select([colour == RED, colour == AMBER],
                     [f">= red at {red:g}", f">= amber at {amber:g}"], f"< amber at {amber:g}")
    why = [f"{s} {r}" if ok else "" for s, r, ok in zip(shown, rule, rated, strict=True)]
    colour = np.where(rated, colour, state.to_numpy(dtype=object))
    return (pd.Series(colour, index=value.index, dtype=object),
            pd.Series(why, index=value.index, dtype=object))


def rate(evidence: pd.DataFrame, thresholds: Mapping[str, Any]) -> pd.DataFrame:
    """``evidence`` (one row per child: ``<domain>``, ``<domain>_state`` and
    ``<domain>_evidence`` for every domain) with ``<domain>_rag`` and ``<domain>_why``."""
    out = evidence.copy()
    for d in DOMAINS:
        out[f"{d.key}_rag"], out[f"{d.key}_why"] = rate_domain(
            out[d.key], out[f"{d.key}_state"], d, thresholds[d.key])
    return out


__all__ = [
    "AMBER",
    "DEFAULT_THRESHOLDS",
    "DOMAINS",
    "DOMAIN_KEYS",
    "GREEN",
    "NOT_APPLICABLE",
    "NO_DATA",
    "RATED",
    "RATINGS",
    "RED",
    "Domain",
    "ThresholdError",
    "rate",
    "rate_domain",
    "thresholds_for",
    "valid_thresholds",
]
