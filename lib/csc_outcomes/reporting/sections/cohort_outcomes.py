"""The sections of ``cohort_outcomes.ipynb``: outcomes across the levels of intervention."""

from __future__ import annotations

from csc_outcomes.reporting import benchmarks, data_quality, plots, tracker_summary, trends
from csc_outcomes.reporting import context as ctx
from csc_outcomes.reporting.outputs import show
from csc_outcomes.reporting.sections import common
from csc_outcomes.reporting.sections.common import practice_context, source
from csc_outcomes.reporting.sections.report import Report

#: The headline measures, one sentence each.
HEADLINE = ("rereferrals_within_12m", "cin_closures_sustained_12m", "cla_3plus_placements",
            "cla_long_term_stability", "care_leavers_eet_19_21", "care_leavers_suitable_accom_19_21")


def introduction(r: Report) -> None:
    """The LA, the year and its comparators."""
    view = r.view
    others = ", ".join(view.comparator_codes)
    ctx.say(f"**{view.name}**, year ending {ctx.long_date(view.period)}. "
            + (f"Comparators: {view.comparator_label} ({others})." if others else
               "No other LA is in this warehouse, so its figures are set beside DfE's published "
               "figures only."))


def grid_at_a_glance(r: Report) -> None:
    """Measures by level of intervention and kind, one cell each."""
    show(ctx.styled(plots.outcome_grid_table(r.view.released, r.la_code, r.period_end), index=True,
                    caption=f"{r.view.name}: measures by level of intervention and kind, year "
                            f"ending {ctx.long_date(r.view.period)}"))


def every_measure(r: Report) -> None:
    """Every measure with its comparators, the previous period and all LAs."""
    show(ctx.styled(ctx.grid_display(r.view.grid_table()),
                    caption=f"Measures for {r.view.name} by level and kind, year ending "
                            f"{ctx.long_date(r.view.period)}"))


def published_comparators(r: Report) -> None:
    """The LA beside England, its region and its statistical neighbours (published)."""
    ctx.say(benchmarks.introduction(r.pub, r.la_code, r.view.name, r.like))
    show(ctx.styled(benchmarks.display_table(r.bench, r.view.name),
                    caption=f"{r.view.name} beside England, its region and its statistical "
                            "neighbours (published figures)"))
    ctx.say(benchmarks.definition_notes(r.bench))
    ctx.say(benchmarks.sentences(r.bench, r.view.name))


def what_the_numbers_say(r: Report) -> None:
    """The headline measures, one sentence each."""
    common.bullets(r, HEADLINE)


def rag_summary(r: Report) -> None:
    """Children by RAG rating per domain of the board's tracker: counts only, suppressed
    (the tracker's child rows are never read here)."""
    rag = tracker_summary.released_summary(r.get("output_dir"), r.threshold)
    if rag is None:
        ctx.say("The RAG tracker's summary appears here once `csc-outcomes run` has written the tracker.")
    else:
        show(ctx.styled(rag, caption=f"Children looked after on {ctx.long_date(r.view.period)} "
                                     "by RAG rating, per domain of the review board's tracker"))


def trend_panels(r: Report) -> None:
    """Each measure over time, the LA's own figures beside published ones, per level."""
    for level_label, part in trends.by_level(trends.trend_frame(r.view, r.pub, r.like)).items():
        ctx.show_figure(plots.trend_panels(part, title=f"{level_label}: trends"),
                        f"{level_label}: each measure over time, the LA's own figures beside "
                        "published ones")


def questions(r: Report) -> None:
    """Questions to explore, over every measure."""
    common.ask(r)


def quality(r: Report) -> None:
    """Counts of records behind the figures, from the ingest's QA report, suppressed."""
    table, note = data_quality.la_quality(r.get("qa_report"), r.get("warehouse"), r.la_code,
                                          r.threshold)
    ctx.say(note)
    if table is not None:
        show(ctx.styled(table, caption=f"Records behind the figures for {r.view.name}"))


SECTIONS = (introduction, practice_context, grid_at_a_glance, every_measure,
            published_comparators, what_the_numbers_say, rag_summary, trend_panels, questions,
            quality, source)
