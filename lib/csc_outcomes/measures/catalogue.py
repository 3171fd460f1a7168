"""The measure registry: the one place a measure's metadata is written.

Every measure is declared once, with keywords, in :data:`MEASURES`: its id, display
label, kind, level, group, polarity, the tables it reads, the feeds without which it
is omitted, its execution family and the pure function computing it. The
vocabularies (``LEVELS``, ``GROUPS``, ``POLARITIES``) carry their display labels, so
reports label the grid from here too. ``CATALOGUE`` maps ``measure_id`` to
:class:`Measure` in the catalogue's order (also the output order of
``compute.compute_measures``); :func:`catalogue_frame` gives the metadata as a table.

Groups follow the catalogue: timeliness, re-referral and placement counts (and other
activity counts) are ``performance``; sustained closures, stability, health, education
and care-leaver status are ``outcome``. The choices the catalogue leaves open
(``cla_3plus_social_workers``, ``cla_missing``, polarities) are listed in
``docs/measures.md``.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

import pandas as pd

from csc_outcomes.measures import (
    care_leavers,
    cohorts,
    education,
    health,
    protection,
    referrals,
    stability,
)
from csc_outcomes.measures.base import Context
from csc_outcomes.measures.fields import FIELDS

KINDS = ("count", "rate", "ratio")

#: Levels of the report grid (its columns), with their display labels.
LEVELS: dict[str, str] = {
    "at_risk": "Children at risk of harm",
    "in_care": "Children in care",
    "leaving_care": "Children leaving care",
}
#: Groups of the report grid (its rows), with their display labels.
GROUPS: dict[str, str] = {"performance": "Performance", "outcome": "Outcomes"}
#: Which direction is better, with the words reports say it in.
POLARITIES: dict[str, str] = {
    "higher_better": "Higher is better",
    "lower_better": "Lower is better",
    "neutral": "Neither higher nor lower is better in itself",
}
#: +1 where higher is better, -1 where lower is better (neutral measures: no direction).
DIRECTION: dict[str, int] = {"higher_better": 1, "lower_better": -1}

#: The feeds whose absence omits a measure. ``cin`` is the CIN census (any of its
#: tables supplied for the LA); the others are canonical table names.
FEEDS = ("cin", "episodes", "missing", "oc2", "oc3", "sw_episodes", "attendance", "suspensions",
         "contacts")

_LOOKED_AFTER = frozenset({Context.CODEBOOK, "prepared_episodes", "cla_cohort"})

#: Execution families, in the order they are computed, each with the memoised frames
#: (``Context.memo`` names) its measures share, and any table those frames read
#: beyond the measure's own ``requires``. Measures of a family run together, so a
#: family's frames are released (``Context.release``) before the next family builds
#: its own: the CIN census frames are gone before the looked-after frames are built.
FAMILIES: dict[str, frozenset[str]] = {
    "cin_referrals": frozenset({"referral_events"}),
    "cin_timeliness": frozenset(),
    "cp_plans": frozenset({"cp_plans"}),
    "looked_after": _LOOKED_AFTER,
    "oc2_health": _LOOKED_AFTER | {"oc2_cohort"},
    "education": _LOOKED_AFTER | {"suspensions", "education_keyed", "matched_children"},
    "care_leavers": frozenset({Context.CODEBOOK, "care_leavers"}),
}


@dataclass(frozen=True, kw_only=True)
class Measure:
    """One measure: metadata and the pure function computing it.

    ``function(tables, periods)`` takes a ``base.Context`` (or a mapping of canonical
    tables) and the periods frame (``periods.make_periods``) and returns ``la_code,
    period_end, numerator, denominator`` for the LAs with events. ``requires`` are the
    tables it reads; ``feeds`` the supplied feeds without which it is omitted for an
    LA (the catalogue's "absent sources" rule); ``family`` the execution family
    (:data:`FAMILIES`) whose shared frames it reads.
    """

    measure_id: str
    label: str
    kind: str
    level: str
    group: str
    polarity: str
    requires: tuple[str, ...]
    feeds: tuple[str, ...]
    family: str
    function: Callable[..., pd.DataFrame] = field(repr=False, compare=False)

    def __post_init__(self) -> None:
        self._check("kind", [self.kind], KINDS)
        self._check("level", [self.level], LEVELS)
        self._check("group", [self.group], GROUPS)
        self._check("polarity", [self.polarity], POLARITIES)
        self._check("requires", self.requires, FIELDS)
        self._check("feeds", self.feeds, FEEDS)
        self._check("family", [self.family], FAMILIES)

    def _check(self, what: str, values: Iterable[str], allowed: Collection[str]) -> None:
        """``ValueError`` naming the measure and any of ``values`` not ``allowed``."""
        unknown = [v for v in values if v not in allowed]
        if unknown:
            raise ValueError(f"measure {self.measure_id!r}: {what} {', '.join(unknown)} not "
                             f"one of {', '.join(allowed)}")

    @property
    def uses(self) -> frozenset[str]:
        """The prepared tables and memoised frames it reads, directly or through its
        family's shared frames (what must stay cached until it has run)."""
        return frozenset(self.requires) | FAMILIES[self.family]

    @property
    def description(self) -> str:
        """The first line of the function's docstring."""
        return (self.function.__doc__ or "").strip().splitlines()[0]

    @property
    def definition(self) -> str:
        """The function's docstring (it quotes the catalogue's definition)."""
        return " ".join((self.function.__doc__ or "").split())


#: Every measure, in the catalogue's order.
MEASURES: tuple[Measure, ...] = (
    # children at risk of harm (CIN census, contacts)
    Measure(
        measure_id="referrals",
        label="Referrals",
        kind="count", level="at_risk", group="performance", polarity="neutral",
        requires=("cin_episodes",), feeds=("cin",),
        family="cin_referrals", function=referrals.referrals,
    ),
    Measure(
        measure_id="rereferrals_within_12m",
        label="Re-referrals within 12 months",
        kind="rate", level="at_risk", group="performance", polarity="lower_better",
        requires=("cin_episodes",), feeds=("cin",),
        family="cin_referrals", function=referrals.rereferrals_within_12m,
    ),
    Measure(
        measure_id="referrals_nfa",
        label="Referrals with no further action",
        kind="rate", level="at_risk", group="performance", polarity="neutral",
        requires=("cin_episodes",), feeds=("cin",),
        family="cin_referrals", function=referrals.referrals_nfa,
    ),
    Measure(
        measure_id="assessments_within_45wd",
        label="Assessments completed within 45 working days",
        kind="rate", level="at_risk", group="performance", polarity="neutral",
        requires=("assessments",), feeds=("cin",),
        family="cin_timeliness", function=protection.assessments_within_45wd,
    ),
    Measure(
        measure_id="icpc_within_15wd",
        label="Initial child protection conferences within 15 working days",
        kind="rate", level="at_risk", group="performance", polarity="neutral",
        requires=("section47",), feeds=("cin",),
        family="cin_timeliness", function=protection.icpc_within_15wd,
    ),
    Measure(
        measure_id="cpp_started",
        label="Child protection plans started",
        kind="count", level="at_risk", group="performance", polarity="neutral",
        requires=("cp_plans",), feeds=("cin",),
        family="cp_plans", function=protection.cpp_started,
    ),
    Measure(
        measure_id="cpp_second_or_subsequent",
        label="Second or subsequent child protection plans",
        kind="rate", level="at_risk", group="performance", polarity="lower_better",
        requires=("cp_plans",), feeds=("cin",),
        family="cp_plans", function=protection.cpp_second_or_subsequent,
    ),
    Measure(
        measure_id="cpp_ended_2y_plus",
        label="Child protection plans ending after 2 years or more",
        kind="rate", level="at_risk", group="performance", polarity="lower_better",
        requires=("cp_plans",), feeds=("cin",),
        family="cp_plans", function=protection.cpp_ended_2y_plus,
    ),
    Measure(
        measure_id="cin_closures_sustained_12m",
        label="CIN closures sustained for 12 months",
        kind="rate", level="at_risk", group="outcome", polarity="higher_better",
        requires=("cin_episodes",), feeds=("cin",),
        family="cin_referrals", function=referrals.cin_closures_sustained_12m,
    ),
    Measure(
        measure_id="contacts_to_referrals",
        label="Contacts per referral",
        kind="ratio", level="at_risk", group="performance", polarity="neutral",
        requires=("contacts", "cin_episodes"), feeds=("contacts", "cin"),
        family="cin_referrals", function=referrals.contacts_to_referrals,
    ),
    # children in care (SSDA903)
    Measure(
        measure_id="cla_at_period_end",
        label="Children looked after at the period end",
        kind="count", level="in_care", group="performance", polarity="neutral",
        requires=("episodes",), feeds=("episodes",),
        family="looked_after", function=cohorts.cla_at_period_end,
    ),
    Measure(
        measure_id="cla_started",
        label="Children starting to be looked after",
        kind="count", level="in_care", group="performance", polarity="neutral",
        requires=("episodes",), feeds=("episodes",),
        family="looked_after", function=cohorts.cla_started,
    ),
    Measure(
        measure_id="cla_3plus_placements",
        label="Children looked after with 3 or more placements in the year",
        kind="rate", level="in_care", group="performance", polarity="lower_better",
        requires=("episodes",), feeds=("episodes",),
        family="looked_after", function=stability.cla_3plus_placements,
    ),
    Measure(
        measure_id="cla_long_term_stability",
        label="Long-term placement stability",
        kind="rate", level="in_care", group="outcome", polarity="higher_better",
        requires=("episodes", "header"), feeds=("episodes",),
        family="looked_after", function=stability.cla_long_term_stability,
    ),
    Measure(
        measure_id="cla_3plus_social_workers",
        label="Children looked after with 3 or more social workers",
        kind="rate", level="in_care", group="performance", polarity="lower_better",
        requires=("episodes", "sw_episodes"), feeds=("episodes", "sw_episodes"),
        family="looked_after", function=cohorts.cla_3plus_social_workers,
    ),
    Measure(
        measure_id="cla_missing",
        label="Children looked after who went missing",
        kind="rate", level="in_care", group="outcome", polarity="lower_better",
        requires=("episodes", "missing"), feeds=("episodes", "missing"),
        family="looked_after", function=cohorts.cla_missing,
    ),
    Measure(
        measure_id="oc2_health_check",
        label="Annual health check",
        kind="rate", level="in_care", group="outcome", polarity="higher_better",
        requires=("episodes", "header", "oc2"), feeds=("episodes", "oc2"),
        family="oc2_health", function=health.oc2_health_check,
    ),
    Measure(
        measure_id="oc2_teeth_check",
        label="Dental check",
        kind="rate", level="in_care", group="outcome", polarity="higher_better",
        requires=("episodes", "header", "oc2"), feeds=("episodes", "oc2"),
        family="oc2_health", function=health.oc2_teeth_check,
    ),
    Measure(
        measure_id="oc2_immunisations",
        label="Immunisations up to date",
        kind="rate", level="in_care", group="outcome", polarity="higher_better",
        requires=("episodes", "header", "oc2"), feeds=("episodes", "oc2"),
        family="oc2_health", function=health.oc2_immunisations,
    ),
    Measure(
        measure_id="oc2_sdq_recorded",
        label="Strengths and difficulties questionnaire recorded",
        kind="rate", level="in_care", group="outcome", polarity="higher_better",
        requires=("episodes", "header", "oc2"), feeds=("episodes", "oc2"),
        family="oc2_health", function=health.oc2_sdq_recorded,
    ),
    # children leaving care (SSDA903 OC3)
    Measure(
        measure_id="care_leavers_eet_19_21",
        label="Care leavers aged 19-21 in education, employment or training",
        kind="rate", level="leaving_care", group="outcome", polarity="higher_better",
        requires=("oc3", "header"), feeds=("oc3",),
        family="care_leavers", function=care_leavers.care_leavers_eet_19_21,
    ),
    Measure(
        measure_id="care_leavers_suitable_accom_19_21",
        label="Care leavers aged 19-21 in suitable accommodation",
        kind="rate", level="leaving_care", group="outcome", polarity="higher_better",
        requires=("oc3", "header"), feeds=("oc3",),
        family="care_leavers", function=care_leavers.care_leavers_suitable_accom_19_21,
    ),
    Measure(
        measure_id="care_leavers_in_touch_19_21",
        label="Care leavers aged 19-21 in touch with the LA",
        kind="rate", level="leaving_care", group="outcome", polarity="higher_better",
        requires=("oc3", "header"), feeds=("oc3",),
        family="care_leavers", function=care_leavers.care_leavers_in_touch_19_21,
    ),
    # education of children in care (school census feed)
    Measure(
        measure_id="cla_attendance_rate",
        label="School attendance of children looked after",
        kind="rate", level="in_care", group="outcome", polarity="higher_better",
        requires=("episodes", "header", "attendance"), feeds=("episodes", "attendance"),
        family="education", function=education.cla_attendance_rate,
    ),
    Measure(
        measure_id="cla_persistent_absence",
        label="Children looked after persistently absent from school",
        kind="rate", level="in_care", group="outcome", polarity="lower_better",
        requires=("episodes", "header", "attendance"), feeds=("episodes", "attendance"),
        family="education", function=education.cla_persistent_absence,
    ),
    Measure(
        measure_id="cla_suspended",
        label="Children looked after with a suspension",
        kind="rate", level="in_care", group="outcome", polarity="lower_better",
        requires=("episodes", "header", "attendance", "suspensions"),
        feeds=("episodes", "attendance", "suspensions"),
        family="education", function=education.cla_suspended,
    ),
)

#: measure_id -> Measure, in the catalogue's order (read-only).
CATALOGUE: MappingProxyType[str, Measure] = MappingProxyType({m.measure_id: m for m in MEASURES})


#: Performance measures, the way their target points (+1 up, -1 down: timeliness is
#: "neutral", since faster is not better in itself, yet it has a target), and their
#: outcome partners. When the first moves towards its target and the second gets worse
#: (or the reverse), a board may ask whether the two are linked: faster assessments,
#: more re-referrals.
PARTNERS: tuple[tuple[str, int, str], ...] = (
    ("assessments_within_45wd", 1, "rereferrals_within_12m"),
    ("assessments_within_45wd", 1, "cin_closures_sustained_12m"),
    ("icpc_within_15wd", 1, "cpp_second_or_subsequent"),
    ("cla_3plus_placements", -1, "cla_long_term_stability"),
    ("cla_3plus_placements", -1, "cla_attendance_rate"),
)


def execution_order(measure_ids: Sequence[str]) -> list[str]:
    """``measure_ids`` family by family (:data:`FAMILIES` order), catalogue order within."""
    family = list(FAMILIES)
    order = list(CATALOGUE)
    return sorted(measure_ids, key=lambda m: (family.index(CATALOGUE[m].family), order.index(m)))


def catalogue_frame() -> pd.DataFrame:
    """The registry's metadata as a DataFrame (one row per measure, catalogue order)."""
    return pd.DataFrame(
        [
            {
                "measure_id": m.measure_id,
                "label": m.label,
                "kind": m.kind,
                "level": m.level,
                "group": m.group,
                "polarity": m.polarity,
                "requires": " ".join(m.requires),
                "feeds": " ".join(m.feeds),
                "family": m.family,
                "description": m.description,
                "order": i,
            }
            for i, m in enumerate(CATALOGUE.values())
        ]
    )


__all__ = [
    "CATALOGUE",
    "DIRECTION",
    "FAMILIES",
    "FEEDS",
    "GROUPS",
    "KINDS",
    "LEVELS",
    "MEASURES",
    "PARTNERS",
    "POLARITIES",
    "Measure",
    "catalogue_frame",
    "execution_order",
]
