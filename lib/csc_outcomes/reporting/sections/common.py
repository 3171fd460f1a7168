"""What several reports show: the practitioners' context, a level's grid and published
comparators, a funnel, why a model was not fitted, questions and the figures' source."""

from __future__ import annotations

from collections.abc import Sequence

from csc_outcomes.reporting import benchmarks, plots, published_funnel
from csc_outcomes.reporting import context as ctx
from csc_outcomes.reporting import practice_context as context_file
from csc_outcomes.reporting import questions as question_rules
from csc_outcomes.reporting.outputs import show
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


def level_grid(r: Report, levels: Sequence[str], who: str) -> None:
    """One level's measures (``who``: "Children in care"), performance and outcomes,
    beside the comparators."""
    show(ctx.styled(ctx.grid_display(r.view.grid_table(levels=levels)),
                    caption=f"{who}: performance and outcomes, {r.view.name} and comparators"))


def level_comparators(r: Report, levels: Sequence[str], who: str) -> None:
    """One level's measures beside England, the region and the statistical neighbours
    (published figures), with DfE's notes where its definitions differ."""
    show(ctx.styled(benchmarks.display_table(r.bench, r.view.name, levels=list(levels)),
                    caption=f"{who}: {r.view.name} beside England, its region and its "
                            "statistical neighbours (published figures)"))
    ctx.say(benchmarks.definition_notes(r.bench, levels=list(levels)))


def funnel(r: Report, measure_id: str, *, title: str, xlabel: str, ylabel: str,
           chart_alt: str, funnel_alt: str) -> None:
    """A measure over every LA's published figure in a funnel, this LA's own on it (a bar
    chart of the LA and its comparators where DfE publishes none), and a sentence."""
    view = r.view
    found = published_funnel.best_funnel(view, measure_id, r.pub)
    if found is None:
        ctx.show_figure(view.comparison_chart(measure_id), chart_alt)
    else:
        ctx.show_figure(plots.funnel_plot(found, highlight=r.la_code, title=title, xlabel=xlabel,
                                          ylabel=ylabel), funnel_alt)
    ctx.say(view.funnel_sentence(found))


def comparison_table(r: Report, measure_id: str) -> None:
    """One measure for the LA and each of its comparators."""
    show(ctx.styled(r.view.comparison_table(measure_id),
                    caption=f"{r.view.label(measure_id)}: {r.view.name} and its "
                            f"{r.view.comparator_label}"))


def why_not_fitted(r: Report, model: str) -> None:
    """Why pooled model ``model`` could not be fitted, if it could not."""
    _, _, why = r.model(model)
    if why:
        ctx.say(why)
