"""The sections of ``placement_stability.ipynb``: placement moves and what follows them."""

from __future__ import annotations

from csc_outcomes.measures.catalogue import LEVELS as CATALOGUE_LEVELS
from csc_outcomes.reporting import benchmarks, plots
from csc_outcomes.reporting import context as ctx
from csc_outcomes.reporting.outputs import show
from csc_outcomes.reporting.sections import common
from csc_outcomes.reporting.sections.common import practice_context, source
from csc_outcomes.reporting.sections.report import Report

LEVELS = ["in_care"]


def headlines(r: Report) -> None:
    """The in-care measures, one sentence each."""
    common.bullets(r, ["cla_at_period_end", "cla_3plus_placements", "cla_long_term_stability",
                "cla_attendance_rate", "cla_missing"])


def in_care_grid(r: Report) -> None:
    """Children in care: performance and outcomes beside the comparators."""
    common.level_grid(r, LEVELS, CATALOGUE_LEVELS["in_care"])


def published_comparators(r: Report) -> None:
    """Children in care beside England, the region and statistical neighbours."""
    common.level_comparators(r, LEVELS, CATALOGUE_LEVELS["in_care"])
    ctx.say(benchmarks.sentences(r.bench, r.view.name, ["cla_at_period_end", "cla_3plus_placements",
                                                        "cla_long_term_stability",
                                                        "cla_attendance_rate"]))


def placements_funnel(r: Report) -> None:
    """Three or more placements: every LA's published figure in a funnel."""
    common.funnel(
        r, "cla_3plus_placements", title="Children in care with 3+ placements in the year",
        xlabel=r.view.label("cla_at_period_end"), ylabel="Share with 3+ placements",
        chart_alt="Bar chart of children in care with 3 or more placements for this LA and its "
                  "comparators",
        funnel_alt="Funnel plot of the share of children in care with 3 or more placements, one "
                   "point per LA (published) and this LA's own figure")


def placements_table(r: Report) -> None:
    """Three or more placements: the LA and its comparators."""
    common.comparison_table(r, "cla_3plus_placements")


def attendance_model_note(r: Report) -> None:
    """Why the attendance model could not be fitted, if it could not."""
    common.why_not_fitted(r, "stability")


def attendance_model(r: Report) -> None:
    """The Tobit model's coefficient of moves on attendance, as a chart and a table."""
    terms, fit, _ = r.model("stability")
    if fit is None or terms is None:
        return
    coefs = fit.coef_table()
    coefs = coefs[coefs["term"] != "const"] if "term" in coefs else coefs
    ctx.show_figure(plots.coef_plot(coefs, estimate="coef",
                                    title="Attendance associated with each move in the year "
                                          "before the term",
                                    xlabel="Difference in attendance (share of sessions)"),
                    "Difference in school attendance associated with each placement move in "
                    "the year before the term, with 95% confidence interval")
    show(ctx.model_table(coefs, caption=f"Attendance model: {len(terms):,} child-terms",
                         precision=4, columns=["label", "coef", "ci_lower", "ci_upper", "p_value"]))


def questions(r: Report) -> None:
    """Questions to explore about children in care."""
    common.ask(r, levels=LEVELS)


SECTIONS = (practice_context, headlines, in_care_grid, published_comparators, placements_funnel,
            placements_table, attendance_model_note, attendance_model, questions, source)
