"""The measure registry: every measure of the catalogue (``shared/reference/measures.md``).

``CATALOGUE`` maps ``measure_id`` to a :class:`Measure`, in the catalogue's order
(which is also the output order of ``compute.compute_measures``). Reports read the
metadata through :func:`catalogue_frame`.

Groups follow the catalogue's last section: timeliness, re-referral and placement
counts (and other activity counts) are ``performance``; sustained closures,
stability, health, education and care-leaver status are ``outcome``. The choices the
catalogue leaves open (``cla_3plus_social_workers``, ``cla_missing``, polarities) are
listed in ``docs/measures.md``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from types import MappingProxyType

import pandas as pd

from csc_outcomes.measures import (
    care_leavers,
    cohorts,
    education,
    health,
    placements,
    protection,
    referrals,
)

KINDS = ("count", "rate", "ratio")
LEVELS = ("at_risk", "in_care", "leaving_care")
GROUPS = ("performance", "outcome")
POLARITIES = ("higher_better", "lower_better", "neutral")

#: The feeds whose absence omits a measure. ``cin`` is the CIN census (any of its
#: tables supplied for the LA); the others are canonical table names.
FEEDS = ("cin", "episodes", "missing", "oc2", "oc3", "sw_episodes", "attendance", "suspensions", "contacts")


@dataclass(frozen=True)
class Measure:
    """One measure: metadata and the pure function computing it.

    ``function(tables, periods)`` takes a ``_common.Context`` (or a mapping of
    canonical tables) and the periods frame (``_common.make_periods``) and returns
    ``la_code, period_end, numerator, denominator`` for the LAs with events.
    ``requires`` are the tables it reads; ``feeds`` the supplied feeds without which
    it is omitted for an LA (the catalogue's "absent sources" rule).
    """

    measure_id: str
    label: str
    kind: str
    level: str
    group: str
    polarity: str
    requires: tuple[str, ...]
    feeds: tuple[str, ...]
    function: Callable[..., pd.DataFrame] = field(repr=False, compare=False)

    def __post_init__(self) -> None:
        assert self.kind in KINDS, self.kind
        assert self.level in LEVELS, self.level
        assert self.group in GROUPS, self.group
        assert self.polarity in POLARITIES, self.polarity
        assert all(f in FEEDS for f in self.feeds), self.feeds

    @property
    def description(self) -> str:
        """The first line of the function's docstring."""
        return (self.function.__doc__ or "").strip().splitlines()[0]

    @property
    def definition(self) -> str:
        """The function's docstring (it quotes the catalogue's definition)."""
        return " ".join((self.function.__doc__ or "").split())


_CIN = ("cin",)
_CLA = ("episodes",)
_M = Measure

_MEASURES = [
    # children at risk of harm (CIN census, contacts)
    _M("referrals", "Referrals", "count", "at_risk", "performance", "neutral",
       ("cin_episodes",), _CIN, referrals.referrals),
    _M("rereferrals_within_12m", "Re-referrals within 12 months", "rate", "at_risk",
       "performance", "lower_better", ("cin_episodes",), _CIN, referrals.rereferrals_within_12m),
    _M("referrals_nfa", "Referrals with no further action", "rate", "at_risk", "performance",
       "neutral", ("cin_episodes",), _CIN, referrals.referrals_nfa),
    _M("assessments_within_45wd", "Assessments completed within 45 working days", "rate",
       "at_risk", "performance", "higher_better", ("assessments",), _CIN,
       protection.assessments_within_45wd),
    _M("icpc_within_15wd", "Initial child protection conferences within 15 working days",
       "rate", "at_risk", "performance", "higher_better", ("section47",), _CIN,
       protection.icpc_within_15wd),
    _M("cpp_started", "Child protection plans started", "count", "at_risk", "performance",
       "neutral", ("cp_plans",), _CIN, protection.cpp_started),
    _M("cpp_second_or_subsequent", "Second or subsequent child protection plans", "rate",
       "at_risk", "performance", "lower_better", ("cp_plans",), _CIN,
       protection.cpp_second_or_subsequent),
    _M("cpp_ended_2y_plus", "Child protection plans ending after 2 years or more", "rate",
       "at_risk", "performance", "lower_better", ("cp_plans",), _CIN,
       protection.cpp_ended_2y_plus),
    _M("cin_closures_sustained_12m", "CIN closures sustained for 12 months", "rate",
       "at_risk", "outcome", "higher_better", ("cin_episodes",), _CIN,
       referrals.cin_closures_sustained_12m),
    _M("contacts_to_referrals", "Contacts per referral", "ratio", "at_risk", "performance",
       "neutral", ("contacts", "cin_episodes"), ("contacts", "cin"),
       referrals.contacts_to_referrals),
    # children in care (SSDA903, school census)
    _M("cla_at_period_end", "Children looked after at the period end", "count", "in_care",
       "performance", "neutral", ("episodes",), _CLA, cohorts.cla_at_period_end),
    _M("cla_started", "Children starting to be looked after", "count", "in_care",
       "performance", "neutral", ("episodes",), _CLA, cohorts.cla_started),
    _M("cla_3plus_placements", "Children looked after with 3 or more placements in the year",
       "rate", "in_care", "performance", "lower_better", ("episodes",), _CLA,
       placements.cla_3plus_placements),
    _M("cla_long_term_stability", "Long-term placement stability", "rate", "in_care",
       "outcome", "higher_better", ("episodes", "header"), _CLA,
       placements.cla_long_term_stability),
    _M("cla_3plus_social_workers", "Children looked after with 3 or more social workers",
       "rate", "in_care", "performance", "lower_better", ("episodes", "sw_episodes"),
       ("episodes", "sw_episodes"), cohorts.cla_3plus_social_workers),
    _M("cla_missing", "Children looked after who went missing", "rate", "in_care", "outcome",
       "lower_better", ("episodes", "missing"), ("episodes", "missing"), cohorts.cla_missing),
    _M("oc2_health_check", "Annual health check", "rate", "in_care", "outcome",
       "higher_better", ("episodes", "header", "oc2"), ("episodes", "oc2"),
       health.oc2_health_check),
    _M("oc2_teeth_check", "Dental check", "rate", "in_care", "outcome", "higher_better",
       ("episodes", "header", "oc2"), ("episodes", "oc2"), health.oc2_teeth_check),
    _M("oc2_immunisations", "Immunisations up to date", "rate", "in_care", "outcome",
       "higher_better", ("episodes", "header", "oc2"), ("episodes", "oc2"),
       health.oc2_immunisations),
    _M("oc2_sdq_recorded", "Strengths and difficulties questionnaire recorded", "rate",
       "in_care", "outcome", "higher_better", ("episodes", "header", "oc2"),
       ("episodes", "oc2"), health.oc2_sdq_recorded),
    # children leaving care (SSDA903 OC3)
    _M("care_leavers_eet_19_21", "Care leavers aged 19-21 in education, employment or training",
       "rate", "leaving_care", "outcome", "higher_better", ("oc3", "header"), ("oc3",),
       care_leavers.care_leavers_eet_19_21),
    _M("care_leavers_suitable_accom_19_21",
       "Care leavers aged 19-21 in suitable accommodation", "rate", "leaving_care", "outcome",
       "higher_better", ("oc3", "header"), ("oc3",),
       care_leavers.care_leavers_suitable_accom_19_21),
    _M("care_leavers_in_touch_19_21", "Care leavers aged 19-21 in touch with the LA", "rate",
       "leaving_care", "outcome", "higher_better", ("oc3", "header"), ("oc3",),
       care_leavers.care_leavers_in_touch_19_21),
    # education of children in care (school census feed)
    _M("cla_attendance_rate", "School attendance of children looked after", "rate", "in_care",
       "outcome", "higher_better", ("episodes", "header", "attendance"),
       ("episodes", "attendance"), education.cla_attendance_rate),
    _M("cla_persistent_absence", "Children looked after persistently absent from school",
       "rate", "in_care", "outcome", "lower_better", ("episodes", "header", "attendance"),
       ("episodes", "attendance"), education.cla_persistent_absence),
    _M("cla_suspended", "Children looked after with a suspension", "rate", "in_care", "outcome",
       "lower_better", ("episodes", "header", "attendance", "suspensions"),
       ("episodes", "attendance", "suspensions"), education.cla_suspended),
]

#: measure_id -> Measure, in the catalogue's order (read-only).
CATALOGUE: MappingProxyType[str, Measure] = MappingProxyType({m.measure_id: m for m in _MEASURES})


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
                "description": m.description,
                "order": i,
            }
            for i, m in enumerate(CATALOGUE.values())
        ]
    )


__all__ = ["Measure", "CATALOGUE", "catalogue_frame", "KINDS", "LEVELS", "GROUPS", "POLARITIES"]
