"""The sections of ``proportionality.ipynb``: needs and the level of intervention."""

from __future__ import annotations

import pandas as pd

from csc_outcomes.measures.catalogue import LEVELS as CATALOGUE_LEVELS
from csc_outcomes.reporting import context as ctx
from csc_outcomes.reporting import observed_expected as oe
from csc_outcomes.reporting import odds_words, plots
from csc_outcomes.reporting.labels import factor_term_labels
from csc_outcomes.reporting.outputs import show
from csc_outcomes.reporting.sections import common
from csc_outcomes.reporting.sections.common import practice_context, source
from csc_outcomes.reporting.sections.report import Report
from csc_outcomes.stats import proportionality

LEVELS = ["at_risk"]
#: The most factors the odds-ratio chart and table show (the largest).
TOP_FACTORS = 12


def headlines(r: Report) -> None:
    """The at-risk measures, one sentence each."""
    common.bullets(r, ["assessments_within_45wd", "cpp_second_or_subsequent", "cin_closures_sustained_12m"])


def at_risk_grid(r: Report) -> None:
    """Children at risk of harm: performance and outcomes beside the comparators."""
    common.level_grid(r, LEVELS, CATALOGUE_LEVELS["at_risk"])


def published_comparators(r: Report) -> None:
    """Children at risk of harm beside England, the region and statistical neighbours."""
    common.level_comparators(r, LEVELS, CATALOGUE_LEVELS["at_risk"])


def model_note(r: Report) -> None:
    """Why the proportionality model could not be fitted, if it could not."""
    common.why_not_fitted(r, "proportionality")


def observed_and_expected(r: Report) -> None:
    """The LA's assessments by level, observed and expected from needs; every LA's ratio."""
    _, fit, _ = r.model("proportionality")
    if fit is None:
        return
    expected = proportionality.expected_by_la(fit)  # kept with the fit: every LA's, once
    levels = oe.level_table(expected, r.la_code, r.threshold)
    ctx.show_figure(plots.level_bars(levels[["Observed"]].join(levels[["Expected from needs"]]),
                                     title=f"Assessments by level of intervention: {r.view.name}"),
                    "Assessments by level of intervention for this LA, observed and expected "
                    "from the needs recorded")
    show(ctx.styled(levels, index=True,
                    caption=f"{r.view.name}: assessments by level of intervention, observed and "
                            "expected from the needs recorded (all LAs' model, without LA effects)"))
    ratios = oe.headline_ratios(expected, r.threshold)
    ctx.show_figure(plots.ranked_ratios(ratios, r.la_code,
                                        title="A plan or care, observed against expected from needs"),
                    "Every LA's ratio of observed to expected plans or care, ranked, against the "
                    "95% limits chance alone gives around 1; this LA marked")
    ctx.say(oe.headline_sentence(ratios, r.la_code, r.view.name))


def largest_factors(r: Report) -> tuple[pd.DataFrame, str] | None:
    """The factors with the largest odds ratios, and which of how many they are."""
    _, fit, _ = r.model("proportionality")
    if fit is None:
        return None
    ors = proportionality.odds_ratio_table(fit, labels=factor_term_labels(list(fit.factors)))
    top = ors.sort_values("odds_ratio").tail(TOP_FACTORS)
    return top, (f"the {len(top)} largest of {len(ors)}" if len(top) < len(ors)
                 else f"all {len(ors)}")


def needs_odds_ratios(r: Report) -> None:
    """Odds ratios of a higher level of intervention per assessment factor."""
    if (largest := largest_factors(r)) is None:
        return
    top, shown_of = largest
    assessments, _, _ = r.model("proportionality")
    rows = 0 if assessments is None else len(assessments)
    ctx.show_figure(plots.coef_plot(top, title=f"Needs associated with a higher level of "
                                               f"intervention ({shown_of})"),
                    "Odds ratios of a higher level of intervention for the assessment factors, "
                    "with 95% confidence intervals")
    show(ctx.model_table(top, caption=f"Proportionality model ({shown_of} factors): "
                                      f"{rows:,} assessments, all LAs",
                         label="Assessment factor",
                         columns=["label", "odds_ratio", "ci_lower", "ci_upper"], precision=2))


def needs_in_words(r: Report) -> None:
    """The largest odds ratios in words."""
    if (largest := largest_factors(r)) is not None:
        ctx.say(odds_words.sentences(largest[0], "a higher level of intervention"))


def assessments_funnel(r: Report) -> None:
    """Assessments within 45 working days: every LA's published figure in a funnel."""
    common.funnel(
        r, "assessments_within_45wd", title="Assessments within 45 working days",
        xlabel="Assessments authorised in the year", ylabel="Share within 45 working days",
        chart_alt="Bar chart of assessments within 45 working days for this LA and its "
                  "comparators",
        funnel_alt="Funnel plot of assessments within 45 working days, one point per LA "
                   "(published) and this LA's own figure")


def questions(r: Report) -> None:
    """Questions to explore about children at risk of harm."""
    common.ask(r, levels=LEVELS)


SECTIONS = (practice_context, headlines, at_risk_grid, published_comparators, model_note,
            observed_and_expected, needs_odds_ratios, needs_in_words, assessments_funnel,
            questions, source)
