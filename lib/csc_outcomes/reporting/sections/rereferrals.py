"""The sections of ``rereferrals.ipynb``: re-referrals and sustained closures."""

from __future__ import annotations

from pathlib import Path

from csc_outcomes import atomic
from csc_outcomes.reporting import benchmarks, odds_words, plots
from csc_outcomes.reporting import context as ctx
from csc_outcomes.reporting.outputs import show
from csc_outcomes.reporting.sections import common
from csc_outcomes.reporting.sections.common import practice_context, source
from csc_outcomes.reporting.sections.report import Report

MEASURES = ["referrals", "rereferrals_within_12m", "referrals_nfa", "cin_closures_sustained_12m"]
REFERRALS = ["referrals", "rereferrals_within_12m", "referrals_nfa"]
#: The child-level tracker for case review, in the LA's restricted folder.
TRACKER = "rereferral_tracker.csv"


def headlines(r: Report) -> None:
    """Referrals, re-referrals and sustained closures, one sentence each."""
    common.bullets(r, ["referrals", "rereferrals_within_12m", "cin_closures_sustained_12m"])


def measures_table(r: Report) -> None:
    """Re-referral performance and sustained closures, with comparators."""
    show(ctx.styled(r.view.measures_table(MEASURES),
                    caption="Re-referral performance and sustained closures, with comparators"))


def published_comparators(r: Report) -> None:
    """Referrals beside England, the region and statistical neighbours (published)."""
    bench = r.bench[r.bench["measure_id"].isin(REFERRALS)]
    ctx.say(benchmarks.introduction(r.pub, r.la_code, r.view.name, r.like))
    show(ctx.styled(benchmarks.display_table(bench, r.view.name),
                    caption=f"Referrals: {r.view.name} beside England, its region and its "
                            "statistical neighbours (published figures)"))
    ctx.say(benchmarks.definition_notes(bench))
    ctx.say(benchmarks.sentences(r.bench, r.view.name, REFERRALS))


def rereferrals_funnel(r: Report) -> None:
    """Re-referral rates against referrals: every LA's published figure in a funnel."""
    common.funnel(
        r, "rereferrals_within_12m", title=r.view.label("rereferrals_within_12m"),
        xlabel="Referrals in the year", ylabel="Re-referral rate",
        chart_alt="Bar chart of re-referrals within 12 months for this LA and its comparators",
        funnel_alt="Funnel plot of re-referral rates against referrals, one point per LA "
                   "(published) and this LA's own figure")


def rereferrals_table(r: Report) -> None:
    """Re-referrals within 12 months: the LA and its comparators."""
    common.comparison_table(r, "rereferrals_within_12m")


def model_note(r: Report) -> None:
    """Why the re-referral model could not be fitted, if it could not."""
    common.why_not_fitted(r, "rereferral")


def closure_odds_ratios(r: Report) -> None:
    """Odds ratios of re-referral by level of intervention, as a chart and a table."""
    closures, fit, _ = r.model("rereferral")
    if fit is None or closures is None:
        return
    ors = fit.odds_ratios()
    ctx.show_figure(plots.coef_plot(ors, title="Odds of re-referral within 12 months of closure"),
                    "Odds ratios of re-referral by level of intervention, with 95% confidence "
                    "intervals")
    show(ctx.model_table(ors, caption=f"Re-referral model: {len(closures):,} closures",
                         columns=["label", "odds_ratio", "ci_lower", "ci_upper", "p_value"]))


def closures_in_words(r: Report) -> None:
    """The odds ratios in words."""
    _, fit, _ = r.model("rereferral")
    if fit is not None:
        ctx.say(odds_words.sentences(fit.odds_ratios(), "re-referral within 12 months of closure"))


def case_review_tracker(r: Report) -> None:
    """The LA's re-referred closures, child by child, for case review: written to its
    restricted folder (owner-only), never shown."""
    closures, _, _ = r.model("rereferral")
    if closures is None:
        return
    tracker = closures[closures["la_code"] == r.la_code]
    folder = Path(r.get("output_dir"))
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    atomic.write_text(folder / TRACKER, tracker[tracker["rereferred"] == 1].to_csv(index=False),
                      mode=0o600)


def questions(r: Report) -> None:
    """Questions to explore about referrals and closures."""
    common.ask(r, MEASURES)


SECTIONS = (practice_context, headlines, measures_table, published_comparators,
            rereferrals_funnel, rereferrals_table, model_note, closure_odds_ratios,
            closures_in_words, case_review_tracker, questions, source)
