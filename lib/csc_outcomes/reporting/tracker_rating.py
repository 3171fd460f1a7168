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

import math
from collections.abc import Mapping
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
    heading, how its number reads in the "why" text (``shown``, a template taking the
    figure as :func:`figure` writes it), and whether its thresholds may be fractional
    (a percentage) or must be whole (a count, a score)."""

    key: str
    label: str
    shown: str
    percent: bool = False


DOMAINS: tuple[Domain, ...] = (
    Domain("placement_moves", "Placement moves (12 months)", "{} moves"),
    Domain("stability", "Long-term stability (carer changes, 2 years)", "{} carer changes"),
    Domain("missing", "Missing episodes (12 months)", "{} missing episodes"),
    Domain("social_workers", "Social workers (12 months)", "{} social workers"),
    Domain("health", "Health, dental, immunisations", "{} of 3 not done"),
    Domain("sdq", "SDQ score", "SDQ {}"),
    Domain("absence", "School absence this year", "{}% absent", percent=True),
    Domain("suspensions", "Suspensions (12 months)", "{} suspensions"),
    Domain("contacts", "Front-door contacts (12 months)", "{} contacts"),
    Domain("care_leaver", "Care leaver: activity, accommodation", "{} of 2 not met"),
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
    "contacts": {"amber": 1, "red": 3},
    "care_leaver": {"amber": 1, "red": 2},
    "care_leaver_age": 17,
}


class ThresholdError(ValueError):
    """Thresholds that cannot rate (amber above red once merged); names where each came from."""


def _limit_problem(key: str, name: str, v: Any, percent: bool) -> str | None:
    """Why one threshold (``rag.<key>.<name>``) cannot rate, or ``None`` when it can.

    A count or score is whole, so a fraction would hide which value turns amber; an
    infinite threshold never rates anyone; an amber of 0 rates every child at least
    amber (every number rated is 0 or more), so amber must be above 0."""
    where = f"rag.{key}.{name}: got {v!r}"
    if not isinstance(v, int | float) or isinstance(v, bool) or not math.isfinite(v):
        return f"{where}, expected a finite number"
    if not percent and v != int(v):
        return f"{where}, expected a whole number (the domain counts)"
    if v <= 0 and name == "amber":
        return f"{where}, expected above 0 (an amber of 0 rates every child amber or red)"
    if v < 0:
        return f"{where}, expected 0 or more"
    return None


def threshold_problems(value: Any) -> list[str]:
    """Each reason a ``rag:`` block (the whole or any part of :data:`DEFAULT_THRESHOLDS`)
    cannot rate, naming the sub-key (``rag.sdq.amber``) and its value; ``[]`` when it can.

    A loose threshold does not fail loudly: ``{amber: 0}`` rates every child amber and
    ``.inf`` rates none, and a board would read either as a finding. So each threshold
    must be finite, whole (a percentage may be fractional), amber above 0, and red at
    least amber when both are given; ``care_leaver_age`` a whole number 0 to 25."""
    if not isinstance(value, Mapping):
        return [f"rag: got {value!r}, expected a mapping of domains to thresholds"]
    percent = {d.key: d.percent for d in DOMAINS}
    out: list[str] = []
    for key, limits in value.items():
        if key == "care_leaver_age":
            if not (isinstance(limits, int) and not isinstance(limits, bool) and 0 <= limits <= 25):
                out.append(f"rag.care_leaver_age: got {limits!r}, expected a whole number 0 to 25")
        elif key not in percent:
            out.append(f"rag.{key}: not a domain (expected one of {', '.join(DEFAULT_THRESHOLDS)})")
        elif not isinstance(limits, Mapping) or not limits:
            out.append(f"rag.{key}: got {limits!r}, expected {{amber: number, red: number}}")
        else:
            out += [f"rag.{key}.{name}: not a threshold (expected amber or red)"
                    for name in limits if name not in ("amber", "red")]
            found = [_limit_problem(key, n, v, percent[key]) for n, v in limits.items()
                     if n in ("amber", "red")]
            out += [f for f in found if f]
            if not any(found) and {"amber", "red"} <= set(limits) and limits["amber"] > limits["red"]:
                out.append(f"rag.{key}: amber {limits['amber']!r} is above red {limits['red']!r}, "
                           "expected red at least amber")
    return out


def valid_thresholds(value: Any) -> bool:
    """Whether ``value`` is a ``rag:`` block that can rate (:func:`threshold_problems`)."""
    return not threshold_problems(value)


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
    bad = [f"rag.{k}: amber {merged[k]['amber']} is above red {merged[k]['red']}"
           for k in DOMAIN_KEYS if merged[k]["amber"] > merged[k]["red"]]
    if bad:
        raise ThresholdError("RAG thresholds (parameters/defaults.yaml rag: and the LA's "
                             "<LA>.yaml rag:) do not rate: " + "; ".join(bad)
                             + "; make amber at most red")
    return merged


def figure(v: float, limits: tuple[float, ...] = ()) -> str:
    """``v`` written so that it reads as it compares: a whole number as is, else with
    the fewest decimals (1 to 6) that neither look whole nor round onto the other side
    of a threshold in ``limits``.

    4.96% at one decimal is "5.0%", which beside "< amber at 5" reads as a wrong
    rating; two decimals ("4.96%") read right."""
    if not math.isfinite(v) or v == int(v):
        return f"{v:g}"
    for d in range(1, 7):
        r = round(v, d)
        if r != int(r) and all((r >= t) == (v >= t) for t in limits):
            return f"{v:.{d}f}"
    return f"{v:.6f}"


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
    shown = [domain.shown.format(figure(x, (amber, red))) if ok else ""
             for x, ok in zip(v, rated, strict=True)]
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
    "figure",
    "rate",
    "rate_domain",
    "threshold_problems",
    "thresholds_for",
    "valid_thresholds",
]
