"""Questions to explore: raised for planted outliers by each rule, never for ordinary LAs,
never by (or showing) a suppressed figure."""

import pandas as pd
import pytest

from csc_outcomes.reporting import context as ctx
from csc_outcomes.reporting import published_funnel
from csc_outcomes.reporting import questions as qs
from csc_outcomes.reporting.published_data import load_published

NOW, BEFORE = "2026-03-31", "2025-03-31"
ORDINARY = [f"SYN{i:02d}" for i in range(3, 19)]  # sixteen ordinary LAs
STEADY = dict(zip(ORDINARY, [40, 60, 45, 55, 50, 42, 58, 48, 52, 50, 47, 53, 44, 56, 49, 51],
                  strict=True))


def frame(rows):
    df = pd.DataFrame(rows, columns=["la_code", "period_end", "measure_id", "numerator",
                                     "denominator", "value"])
    df["period_end"] = pd.to_datetime(df["period_end"])
    return df


def rate(la, period, mid, num, den):
    return (la, period, mid, num, den, num / den)


def count(la, period, mid, n):
    return (la, period, mid, n, None, float(n))


def measures(syn01_now=90, syn02_now=4, referrals_now=160, ordinary=16):
    """Re-referrals: ``ordinary`` LAs from 20% to 30% of 200, steady; SYN01 up from 50 to
    ``syn01_now`` of 200; SYN02's figure now suppressed (``syn02_now`` of 200).
    Referrals (a count): SYN01 from 100 to ``referrals_now``, the others steady at 100.
    Assessments on time: 62% to 78% of 200, steady. SYN03: assessments better (70% to
    79%, z = 2.06) and re-referrals worse (20% to 30%, z = 2.31): each below the change
    rule's 3, both beyond the partner rule's 2."""
    rows = []
    for la, n in list(STEADY.items())[:ordinary]:
        for p in (BEFORE, NOW):
            rows += [rate(la, p, "rereferrals_within_12m", n, 200), count(la, p, "referrals", 100),
                     rate(la, p, "assessments_within_45wd", 140 + (n - 50) * 8 // 5, 200)]
    rows = [r for r in rows if r[0] != "SYN03" or r[2] == "referrals"]
    rows += [rate("SYN03", BEFORE, "rereferrals_within_12m", 40, 200),
             rate("SYN03", NOW, "rereferrals_within_12m", 60, 200),
             rate("SYN03", BEFORE, "assessments_within_45wd", 140, 200),
             rate("SYN03", NOW, "assessments_within_45wd", 158, 200)]
    for la, before, now, refs in (("SYN01", 50, syn01_now, referrals_now), ("SYN02", 50, syn02_now, 100)):
        rows += [rate(la, BEFORE, "rereferrals_within_12m", before, 200),
                 rate(la, NOW, "rereferrals_within_12m", now, 200),
                 count(la, BEFORE, "referrals", 100), count(la, NOW, "referrals", refs)]
    return frame(rows)


def view(la, **kw):
    return ctx.ReportView.from_measures(measures(**kw), la, NOW)


def test_change_z_hand_worked():
    row = pd.Series
    before = row({"status": "shown", "numerator": 50.0, "denominator": 200.0, "value": 0.25})
    now = row({"status": "shown", "numerator": 90.0, "denominator": 200.0, "value": 0.45})
    # p = 140/400 = 0.35; sd = sqrt(0.35 * 0.65 * (2/200)) = 0.047697; z = 0.2 / sd
    assert qs.change_z("rate", now, before) == pytest.approx(4.1931, abs=1e-4)
    count = row({"status": "shown", "value": 160.0})
    assert qs.change_z("count", count, row({"status": "shown", "value": 100.0})) == \
        pytest.approx(60 / 260 ** 0.5)  # 3.72
    assert qs.change_z("rate", row({**now, "status": "c"}), before) is None
    assert qs.change_z("ratio", now, before) is None


def test_planted_outlier_raises_funnel_and_change_questions():
    found = qs.questions(view("SYN01"))
    rules = {(q.rule, q.measure_id) for q in found}
    assert ("funnel", "rereferrals_within_12m") in rules
    assert ("change", "rereferrals_within_12m") in rules
    assert ("change", "referrals") in rules  # 100 -> 160 children: z = 3.72 (Poisson)
    funnel = next(q for q in found if q.rule == "funnel")
    assert funnel.ask.startswith("What explains") and funnel.ask.endswith("?")
    assert "45.0% (90 of 200)" in funnel.seen and "above the outer (99.8%)" in funnel.seen
    change = next(q for q in found if q.rule == "change" and q.measure_id == "referrals")
    assert "z = 3.7" in change.seen and "from 100 to 160" in change.ask


def test_no_funnel_question_from_too_few_las():
    # 12 LAs: too few to tell chance from how LAs differ (stats.funnel.MIN_UNITS = 15);
    # the same planted outlier among 18 LAs raises one (above)
    found = qs.questions(view("SYN01", ordinary=10))
    assert not [q for q in found if q.rule == "funnel"]
    assert ("change", "rereferrals_within_12m") in {(q.rule, q.measure_id) for q in found}


def test_count_change_within_chance_raises_nothing():
    found = qs.questions(view("SYN01", referrals_now=144))  # z = 44 / sqrt(244) = 2.82
    assert not [q for q in found if q.measure_id == "referrals"]


def test_ordinary_la_raises_no_question():
    for la in ("SYN04", "SYN08", "SYN12"):
        assert qs.questions(view(la)) == [], la
    text = qs.markdown(view("SYN04"))
    assert "no question is raised" in text


def test_suppressed_figure_neither_shown_nor_raising_a_question():
    found = qs.questions(view("SYN02"))  # 4 of 200 now: c (from 50 of 200)
    assert not [q for q in found if q.measure_id == "rereferrals_within_12m"]
    text = qs.markdown(view("SYN01"))
    assert "(4 of" not in text and "2.0%" not in text


def test_partner_moving_the_other_way():
    found = qs.questions(view("SYN03"))
    assert [(q.rule, q.measure_id) for q in found] == [("partner", "assessments_within_45wd")]
    assert "moved towards its target (70.0% to 79.0%)" in found[0].seen
    assert "got worse (20.0% to 30.0%)" in found[0].seen


def test_large_gap_to_comparators():
    # quartiles 0.22 and 0.26 (IQR 0.04): beyond 0.26 + 0.06 and the maximum 0.28
    others = [0.20, 0.22, 0.24, 0.26, 0.28]
    assert qs.is_large_gap(0.33, others) and qs.is_large_gap(0.15, others)
    assert not qs.is_large_gap(0.31, others)  # above the range, within the fence
    assert not qs.is_large_gap(0.9, others[:3])  # too few comparators to judge
    v = ctx.ReportView.from_measures(measures(), "SYN01", NOW, comparators=ORDINARY[1:6])
    gap = [q for q in qs.questions(v) if q.rule == "neighbours"]
    assert gap and "above the range of its 5 statistical neighbours" in gap[0].seen


def test_markdown_lists_questions_for_levels():
    text = qs.markdown(view("SYN01"), levels=["at_risk"])
    assert text.count("What was seen:") >= 3 and "1. **What" in text
    assert "no question" in qs.markdown(view("SYN01"), levels=["leaving_care"])


def published_row(la_value, lo=0.18, hi=0.28, n=10):
    """A row of ``benchmarks.comparators`` (the columns the gap rule reads)."""
    return pd.DataFrame([{"measure_id": "rereferrals_within_12m", "label": "Re-referrals",
                          "kind": "rate", "per_10k": False, "la_value": la_value,
                          "la_shown": "c" if pd.isna(la_value) else f"{100 * la_value:.1f}%",
                          "neighbours_min": lo, "neighbours_max": hi, "neighbours_n": n,
                          "published_year": 2025}])


def test_gap_to_published_neighbours_when_dfe_publishes_the_measure():
    v = view("SYN04")  # 30% of 200: ordinary among the synthetic LAs
    # neighbours 18% to 28% (width 10 points): a gap is beyond 28% + 5 points
    found = qs.questions(v, ["rereferrals_within_12m"], published=published_row(0.34))
    gap = [q for q in found if q.rule == "neighbours"]
    assert gap and "above the range of its 10 statistical neighbours' published figures" in gap[0].seen
    assert "18.0% to 28.0%" in gap[0].seen and "OGL" in gap[0].seen
    assert not qs.questions(v, ["rereferrals_within_12m"], published=published_row(0.32))
    assert not qs.questions(v, ["rereferrals_within_12m"], published=published_row(0.34, n=3))
    # a suppressed own figure (NaN beside DfE's) is never placed against them
    assert not qs.questions(view("SYN02"), ["rereferrals_within_12m"],
                            published=published_row(float("nan")))


def test_partners_moving_the_same_way_raise_nothing():
    df = measures()
    better = (df["la_code"] == "SYN03") & (df["period_end"] == NOW) & (
        df["measure_id"] == "rereferrals_within_12m")
    df.loc[better, ["numerator", "value"]] = [20, 0.10]  # re-referrals fell: 20% to 10%
    v = ctx.ReportView.from_measures(df, "SYN03", NOW)
    assert not [q for q in qs.questions(v) if q.rule == "partner"]


def test_labels_inside_a_sentence_keep_acronyms():
    assert qs.in_sentence("CIN closures sustained for 12 months") == "CIN closures sustained for 12 months"
    assert qs.in_sentence("Re-referrals within 12 months") == "re-referrals within 12 months"


def test_the_funnel_rule_reads_the_flag_the_drawn_published_funnel_gives():
    """With DfE's figures the funnel rule reads only the LA's own point on the published
    limits (``published_funnel.own_on_published``), not the whole funnel a report draws:
    its flag is the one the drawn funnel gives the LA, for a planted outlier, ordinary
    LAs and a suppressed figure (no point, no flag)."""
    pub = load_published()
    flags = {}
    for la in ("SYN01", "SYN02", "SYN04", "SYN10"):
        v = view(la)
        drawn = published_funnel.published_funnel(v, "rereferrals_within_12m", pub)
        mine = drawn[drawn["unit"] == la]
        expected = mine[f"flag_{qs.FUNNEL_LEVEL}"].iloc[0] if len(mine) else None
        _, flags[la] = qs.funnel_flag(v, "rereferrals_within_12m", pub)
        assert flags[la] == expected, la
    assert flags["SYN01"] == "above" and flags["SYN02"] is None  # 90 of 200; c: no point
    found = qs.questions(view("SYN01"), pub=pub)
    assert ("funnel", "rereferrals_within_12m") in {(q.rule, q.measure_id) for q in found}
