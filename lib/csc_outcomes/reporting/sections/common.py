"""Sections every report shows: the practitioners' context and the figures' source."""

from __future__ import annotations

from collections.abc import Sequence

from csc_outcomes.reporting import context as ctx
from csc_outcomes.reporting import practice_context as context_file
from csc_outcomes.reporting import questions as question_rules
from csc_outcomes.reporting.published_data import SOURCE
from csc_outcomes.reporting.sections.report import Report


def practice_context(r: Report) -> None:
    """``context/<LA>/<period_end>.md`` in the parameters folder, as written (nothing
    when there is none)."""
    if text := context_file.markdown(r.get("parameters_dir") or None, r.la_code, r.period_end):
        ctx.say(text)


def bullets(r: Report, measure_ids: Sequence[str]) -> None:
    """One plain-English sentence per measure, as a list."""
    ctx.say("\n".join(f"- {r.view.sentence(m)}" for m in measure_ids))


def ask(r: Report, measure_ids: Sequence[str] | None = None,
        levels: Sequence[str] | None = None) -> None:
    """Questions to explore; the gap rule uses the neighbours' published figures."""
    ctx.say(question_rules.markdown(r.view, measure_ids, levels=levels, published=r.bench,
                                    pub=r.pub))


def source(r: Report) -> None:
    """The attribution of DfE's published figures (Open Government Licence)."""
    ctx.say(f"*{SOURCE}*")
