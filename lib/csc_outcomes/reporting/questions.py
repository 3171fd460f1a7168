"""Questions to explore: what the figures suggest a board might ask, never verdicts.

A review board is helped less by more numbers than by questions to discuss with the
people who know the children. Four fixed rules raise a question about an LA's figure
(the constants below set them; ``docs/board-pack.md`` explains them):

- **funnel**: the figure is beyond the outer (99.8%) limits of the funnel the report
  draws (``published_funnel.best_funnel``: every LA's published figure where DfE
  publishes the measure, else the warehouse's LAs whose figure is shown), when that
  funnel has at least ``stats.funnel.MIN_UNITS`` LAs (fewer cannot tell chance from
  the way LAs differ, so no question is raised);
- **change**: it moved since a year earlier by more than chance explains: a
  two-proportion z-test for a rate, a test of two Poisson counts for a count
  (|z| > :data:`CHANGE_Z`; ratios are not tested);
- **neighbours**: with DfE's published figures (``benchmarks.comparators``, passed as
  ``published``): the LA's figure is beyond the range of its statistical neighbours'
  published figures by more than :data:`RANGE_MARGIN` of its width (at least
  :data:`MIN_COMPARATORS` of them; counts per 10,000 children); without them, a rate or ratio beyond its comparators' range and more than
  :data:`GAP_IQR` interquartile ranges beyond their quartiles (at least
  :data:`MIN_COMPARATORS` comparators with a figure shown);
- **partner**: a performance measure and its outcome partner (``catalogue.PARTNERS``) moved
  in opposite directions, better against worse, each by |z| >= :data:`PARTNER_Z`.

Everything is read from released rows (``disclosure.release``): a suppressed figure
never appears in a question nor raises one, since only shown rows are tested.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from csc_outcomes.measures.catalogue import CATALOGUE, DIRECTION, PARTNERS
from csc_outcomes.reporting import disclosure, published_funnel
from csc_outcomes.reporting.context import ReportView
from csc_outcomes.reporting.published_data import Published
from csc_outcomes.stats.funnel import MIN_UNITS

#: The funnel level (column tag of ``stats.funnel``) beyond which a question is raised.
FUNNEL_LEVEL = "998"
#: |z| beyond which a change since a year earlier is more than chance explains (about
#: 1 in 370 by chance alone for one measure; a report tests about twenty).
CHANGE_Z = 3.0
#: How many interquartile ranges beyond the comparators' quartiles a gap is "large".
GAP_IQR = 1.5
#: With published figures (median and range only): how far beyond the neighbours'
#: range, as a share of its width, a gap is "large". An ordinary LA is outside the range
#: of ten neighbours about 2 times in 11 by chance; half the width beyond it is about as
#: rare as Tukey's fences (1.5 IQR beyond the quartiles) for normally spread figures.
RANGE_MARGIN = 0.5
#: Fewest comparators with a figure shown for a gap to be judged at all.
MIN_COMPARATORS = 4
#: |z| each partner must have moved by for "moving the other way" to be asked about.
PARTNER_Z = 2.0
#: Days between two period ends for them to count as "a year apart".
YEAR_APART_DAYS = 300



@dataclass(frozen=True)
class Question:
    """One question: the rule that raised it, the measure, what was seen, what to ask."""

    rule: str
    measure_id: str
    seen: str
    ask: str


def change_z(kind: str, now: pd.Series, before: pd.Series) -> float | None:
    """z of the change between two released rows (shown ones only), or None.

    Rates: the two-proportion z-test with a pooled proportion. Counts: two Poisson
    counts, ``(x2 - x1) / sqrt(x1 + x2)`` (the normal form of the conditional binomial
    test). Ratios, rows not shown and tests with no variance give None.
    """
    if now["status"] != "shown" or before["status"] != "shown":
        return None
    if kind == "count":
        x1, x2 = float(before["value"]), float(now["value"])
        return (x2 - x1) / np.sqrt(x1 + x2) if x1 + x2 > 0 else None
    if kind != "rate":
        return None
    r1, n1, r2, n2 = (float(x) for x in (before["numerator"], before["denominator"],
                                         now["numerator"], now["denominator"]))
    p = (r1 + r2) / (n1 + n2)
    var = p * (1 - p) * (1 / n1 + 1 / n2)
    return (r2 / n2 - r1 / n1) / np.sqrt(var) if var > 0 else None


def year_earlier(view: ReportView) -> pd.Timestamp | None:
    """The period a year before the view's, when the table has it (else None)."""
    prev = view.previous_period()
    return prev if prev is not None and (view.period - prev).days > YEAR_APART_DAYS else None


def measure_change(view: ReportView, measure_id: str) -> tuple[float, str, str] | None:
    """(z, shown then, shown now) of a measure's change since a year earlier, or None."""
    prev = year_earlier(view)
    now = view.one(measure_id)
    before = view.one(measure_id, period=prev) if prev is not None else None
    if now is None or before is None:
        return None
    z = change_z(view.kind(measure_id), now, before)
    return None if z is None else (z, str(before["display"]), str(now["display"]))


def in_sentence(label: str) -> str:
    """A label inside a sentence: first letter lower-cased, unless it starts an acronym
    (``CIN closures`` stays as it is)."""
    return label if label[1:2].isupper() else label[:1].lower() + label[1:]


def figure(view: ReportView, measure_id: str) -> str:
    """The LA's shown figure, with its numerator and denominator for a rate."""
    row = view.one(measure_id)
    if row is None:
        return disclosure.NOT_AVAILABLE
    if view.kind(measure_id) == "rate":
        return f"{row['display']} ({row['numerator_display']} of {row['denominator_display']})"
    return str(row["display"])


def funnel_flag(view: ReportView, measure_id: str, pub: Published | None) -> tuple[Any, Any]:
    """(the funnel :func:`funnel_question` speaks of, the LA's own flag at its outer
    limits), the flag None when there is no claim to make: no funnel, too few LAs to
    tell chance from overdispersion, or no own figure on it. The published funnel's own
    point is read without adding it to the funnel (``own_on_published``)."""
    column = f"flag_{FUNNEL_LEVEL}"
    found = published_funnel.own_on_published(view, measure_id, pub) if pub else None
    if found is not None:
        base, own = found
        units = len(base) + (0 if own is None else len(own))
        if own is None or column not in own.columns or units < MIN_UNITS:
            return base, None
        return base, own[column].iloc[0]
    res = published_funnel.best_funnel(view, measure_id, pub) if pub else view.funnel(measure_id)
    if res is None or column not in res.columns or len(res) < MIN_UNITS:
        return res, None
    mine = res[res["unit"].astype(str) == view.la_code]
    return res, (mine[column].iloc[0] if len(mine) else None)


def funnel_question(view: ReportView, measure_id: str,
                    pub: Published | None = None) -> Question | None:
    """A question when the LA is beyond the outer limits of the funnel the report draws:
    over every LA's published figure where DfE publishes the measure (``pub`` given),
    else over the warehouse's LAs."""
    res, flag = funnel_flag(view, measure_id, pub)
    if flag not in ("above", "below"):
        return None
    label, side = view.label(measure_id), "higher" if flag == "above" else "lower"
    centre = disclosure.format_value(res.target, "rate")
    seen = (f"{label}: {figure(view, measure_id)} for {view.name}, {flag} the outer (99.8%) "
            f"funnel limits around {res.attrs.get('against', 'the all-LA average')} of "
            f"{centre}: {side} than chance "
            "alone would give an LA of its size.")
    ask = (f"What explains {view.name}'s {in_sentence(label)} being {side} than "
           "other LAs': the children and families it serves, how it records, or practice?")
    return Question("funnel", measure_id, seen, ask)


def change_question(view: ReportView, measure_id: str) -> Question | None:
    """A question when the measure moved since a year earlier beyond chance."""
    change = measure_change(view, measure_id)
    if change is None or abs(change[0]) <= CHANGE_Z:
        return None
    z, then, now = change
    label = view.label(measure_id)
    test = "two Poisson counts" if view.kind(measure_id) == "count" else "two proportions"
    seen = (f"{label}: {then} a year earlier, {figure(view, measure_id)} now for "
            f"{view.name}; a change beyond what chance explains (z = {z:.1f} comparing "
            f"{test}; the rule is |z| > {CHANGE_Z:g}).")
    ask = (f"What changed between the two years (practice, demand, the teams, or how it is "
           f"recorded) to move {in_sentence(label)} from {then} to {now}?")
    return Question("change", measure_id, seen, ask)


def comparator_values(view: ReportView, measure_id: str) -> list[float]:
    """The shown figures of the view's comparators for the measure (suppressed left out)."""
    return view.pool_rows(measure_id).shown_values(view.comparator_codes)


def is_large_gap(value: float, others: Sequence[float]) -> bool:
    """Beyond the others' range and more than :data:`GAP_IQR` IQRs beyond their quartiles."""
    if len(others) < MIN_COMPARATORS:
        return False
    q1, q3 = np.percentile(others, [25, 75])
    reach = GAP_IQR * (q3 - q1)
    return bool((value > max(others) and value > q3 + reach)
                or (value < min(others) and value < q1 - reach))


def gap_question(view: ReportView, measure_id: str) -> Question | None:
    """A question when the LA's rate or ratio is far from its comparators' (not a count:
    a count grows with an LA's size, so a gap in counts says little)."""
    row = view.one(measure_id)
    if view.kind(measure_id) == "count":
        return None
    others = comparator_values(view, measure_id)
    if row is None or row["status"] != "shown" or not is_large_gap(float(row["value"]), others):
        return None
    kind, label = view.kind(measure_id), view.label(measure_id)
    lo, hi = (disclosure.format_value(v, kind) for v in (min(others), max(others)))
    side = "above" if float(row["value"]) > max(others) else "below"
    seen = (f"{label}: {figure(view, measure_id)} for {view.name}, {side} the range of its "
            f"{len(others)} {view.comparator_label} with figures shown ({lo} to {hi}) and "
            f"more than {GAP_IQR:g} times their interquartile range beyond their quartiles.")
    ask = (f"What does {view.name} do differently from its {view.comparator_label}, or "
           f"record differently, that puts its figure for {in_sentence(label)} {side} all of them?")
    return Question("neighbours", measure_id, seen, ask)


def published_gap_question(view: ReportView, row: pd.Series) -> Question | None:
    """A question when the LA's figure is beyond its statistical neighbours' published
    range (a row of ``benchmarks.comparators``: the LA's released figure beside DfE's)."""
    value, lo, hi = (float(row[c]) for c in ("la_value", "neighbours_min", "neighbours_max"))
    reach = RANGE_MARGIN * (hi - lo)
    if np.isnan(value) or int(row["neighbours_n"]) < MIN_COMPARATORS or (
            lo - reach <= value <= hi + reach):
        return None
    side = "above" if value > hi else "below"
    per = " per 10,000 children" if bool(row["per_10k"]) else ""
    fmt = (lambda v: f"{v:,.1f}") if per else (lambda v: disclosure.format_value(v, str(row["kind"])))
    label = str(row["label"])
    seen = (f"{label}: {row['la_shown']}{per} for {view.name}, {side} the range of its "
            f"{int(row['neighbours_n'])} statistical neighbours' published figures "
            f"({fmt(lo)} to {fmt(hi)}, year ending 31 March {row['published_year']}; DfE, OGL "
            f"v3.0) by more than {RANGE_MARGIN:g} of its width.")
    ask = (f"What does {view.name} do differently from its statistical neighbours, or record "
           f"differently, that puts its figure for {in_sentence(label)} {side} all of them?")
    return Question("neighbours", str(row["measure_id"]), seen, ask)


def partner_question(view: ReportView, performance: str, target: int,
                     outcome: str) -> Question | None:
    """A question when a performance measure and its outcome partner moved opposite ways
    (one towards its target and the outcome worse, or the reverse), each by
    |z| >= :data:`PARTNER_Z`; ``target``: +1 when the performance target is higher."""
    moves = [measure_change(view, m) for m in (performance, outcome)]
    better = DIRECTION.get(CATALOGUE[outcome].polarity, 0) if outcome in CATALOGUE else 0
    p_move, o_move = moves
    if p_move is None or o_move is None or better == 0 or min(
            abs(p_move[0]), abs(o_move[0])) < PARTNER_Z:
        return None
    towards, improved = np.sign(p_move[0]) == target, np.sign(o_move[0]) == better
    if towards == improved:
        return None
    p_label, o_label = view.label(performance), view.label(outcome)
    p_way = "moved towards its target" if towards else "moved away from its target"
    o_way = "got worse" if towards else "got better"
    seen = (f"Since a year earlier {p_label} {p_way} ({p_move[1]} to {p_move[2]}) while "
            f"{o_label} {o_way} ({o_move[1]} to {o_move[2]}), each by more than chance "
            f"usually gives (|z| >= {PARTNER_Z:g}).")
    ask = (f"Is the change in {in_sentence(p_label)} connected with the change "
           f"in {in_sentence(o_label)}, and what would practitioners say links them?")
    return Question("partner", performance, seen, ask)


def questions(view: ReportView, measure_ids: Sequence[str] | None = None,
              published: pd.DataFrame | None = None,
              pub: Published | None = None) -> list[Question]:
    """Every question the rules raise for the view's LA and period, measure by measure
    (``measure_ids``, default every measure the LA has), then the partner pairs with a
    member among them. ``published``: ``benchmarks.comparators`` for the LA; the gap
    rule then uses the statistical neighbours' published figures where DfE has them;
    ``pub`` (``published_data.load_published``): the funnel rule uses the funnel over
    every LA's published figure, as the reports draw it."""
    mine = view.rows()
    have = list(dict.fromkeys(mine.loc[mine["la_code"] == view.la_code, "measure_id"]))
    ids = have if measure_ids is None else [m for m in measure_ids if m in have]
    rows = {} if published is None else {r["measure_id"]: r for _, r in published.iterrows()}
    found = []
    for m in ids:
        found += [q for q in (funnel_question(view, m, pub), change_question(view, m)) if q]
        gap = published_gap_question(view, rows[m]) if m in rows else gap_question(view, m)
        found += [gap] if gap else []
    found += [q for p, t, o in PARTNERS if p in ids or o in ids
              if (q := partner_question(view, p, t, o)) is not None]
    return found


INTRO = ("These questions are raised by fixed rules from the figures shown in this report "
         "(beyond the funnel's 99.8% limits, a change since a year earlier beyond chance, "
         "a large gap to comparators, a measure moving the other way from its outcome "
         "partner). They are prompts for the board and practitioners, not findings: an "
         "unusual figure can come from the children an LA serves, from how it records, or "
         "from practice.")


def markdown(view: ReportView, measure_ids: Sequence[str] | None = None,
             levels: Sequence[str] | None = None, published: pd.DataFrame | None = None,
             pub: Published | None = None) -> str:
    """The questions as markdown for a report (``levels``: only measures of these levels;
    ``published`` and ``pub``: as for :func:`questions`)."""
    ids = list(measure_ids) if measure_ids else None
    if levels:
        in_levels = [m for m, spec in CATALOGUE.items() if spec.level in set(levels)]
        ids = [m for m in (ids or in_levels) if m in in_levels]
    found = questions(view, ids, published, pub)
    if not found:
        return (f"{INTRO}\n\nNo figure in this report for {view.name} met a rule this "
                "period, so no question is raised.")
    items = "\n".join(f"{n}. **{q.ask}**  \n   What was seen: {q.seen}"
                      for n, q in enumerate(found, start=1))
    return f"{INTRO}\n\n{items}"
