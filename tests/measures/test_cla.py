"""Children looked after: cohort, starts, placements, stability, social workers, missing."""

import pandas as pd

from .conftest import get, has_row, inputs, result, table

PE = "2024-03-31"  # window 2023-04-01 .. 2024-03-31


def ep(child, decom, dec=None, *, rne="P", ls="C2", place="U1", urn=None, post=None, la="LA1"):
    return {"la_code": la, "CHILD": child, "DECOM": decom, "DEC": dec, "RNE": rne, "LS": ls,
            "PLACE": place, "URN": urn, "PL_POST": post}


def hdr(child, dob="2012-01-01", upn=None, la="LA1"):
    return {"la_code": la, "CHILD": child, "DOB": dob, "UPN": upn}


def chain(child, *steps, **kw):
    """Episodes from (decom, rne, place[, ls, urn, post]) steps, each ending the next
    one's start (the last open)."""
    rows = []
    for i, step in enumerate(steps):
        decom, rne, place, *rest = step
        ls = rest[0] if len(rest) > 0 else "C2"
        urn = rest[1] if len(rest) > 1 else None
        post = rest[2] if len(rest) > 2 else None
        dec = steps[i + 1][0] if i + 1 < len(steps) else kw.get("end")
        rows.append(ep(child, decom, dec, rne=rne, ls=ls, place=place, urn=urn, post=post))
    return rows


def test_cla_at_period_end():
    # c1 open: counts. c2 ends on the period end (DEC = PE is not open): no.
    # c3 starts on the period end: counts. c4 open short break (V3): no.
    # c5 short break ended 2024-01-01 then an open C2 episode (RNE L): counts.
    # c6 starts the day after: no. c7 same-day duplicate of the open episode, V4 then
    # C2; the later row wins: counts. Total 4 (c1 c3 c5 c7).
    rows = [
        ep("c1", "2023-01-01", rne="S"),
        ep("c2", "2023-01-01", "2024-03-31", rne="S"),
        ep("c3", "2024-03-31", rne="S"),
        ep("c4", "2023-01-01", rne="S", ls="V3"),
        ep("c5", "2023-06-01", "2024-01-01", rne="S", ls="V3"),
        ep("c5", "2024-01-01", rne="L"),
        ep("c6", "2024-04-01", rne="S"),
        ep("c7", "2023-05-01", rne="S", ls="V4"),
        ep("c7", "2023-05-01", rne="S", ls="C2"),
    ]
    res = result(inputs(episodes=rows), [PE, "2024-04-30"])
    assert get(res, "cla_at_period_end", PE) == (4, None, 4.0)
    # At 2024-04-30: c1 c2? (ended) no; c1 c3 c5 c6 c7 -> 5.
    assert get(res, "cla_at_period_end", "2024-04-30") == (5, None, 5.0)


def test_cla_started():
    # s1 S on the first day of the window: counts. s2 S as a short break: no.
    # s3 two starts in the window (returned to care): once. s4 S the day before: no.
    # s5 only an RNE P episode in the window: no. Total 2.
    rows = [
        ep("s1", "2023-04-01", rne="S"),
        ep("s2", "2023-05-01", rne="S", ls="V3"),
        ep("s3", "2023-05-01", "2023-06-01", rne="S"),
        ep("s3", "2023-09-01", rne="S"),
        ep("s4", "2023-03-31", rne="S"),
        ep("s5", "2022-01-01", "2023-06-01", rne="S"),
        ep("s5", "2023-06-01", rne="P"),
    ]
    res = result(inputs(episodes=rows), [PE])
    assert get(res, "cla_started", PE) == (2, None, 2.0)


def placement_rows():
    rows = []
    # p1: three placements in the window -> 3 (yes).
    rows += chain("p1", ("2023-05-01", "S", "U1"), ("2023-08-01", "P", "U2"),
                  ("2023-11-01", "P", "U3"))
    # p2: hospital (T1) then back to the same PLACE/URN/PL_POST: not new; then U2 -> 2.
    rows += chain("p2", ("2023-05-01", "S", "U1", "C2", "SC1", "AB1 1AA"),
                  ("2023-07-01", "P", "T1"),
                  ("2023-07-10", "P", "U1", "C2", "SC1", "AB1 1AA"),
                  ("2023-10-01", "P", "U2"))
    # p3: absence (T2) then a different placement: new; then U5 -> 3 (yes).
    rows += chain("p3", ("2023-05-01", "S", "U1", "C2", "SC1", "AB1 1AA"),
                  ("2023-07-01", "P", "T2"),
                  ("2023-07-10", "P", "U4", "C2", "SC2", "AB1 1AA"),
                  ("2023-10-01", "P", "U5"))
    # p4: U1, U2, then A3 placed for adoption with the U2 foster carer (not new) -> 2.
    rows += chain("p4", ("2023-05-01", "S", "U1"), ("2023-07-01", "P", "U2"),
                  ("2023-10-01", "B", "A3", "E1"))
    # p5: legal-status-only changes (RNE L) do not count -> R1, R2 -> 2.
    rows += chain("p5", ("2023-05-01", "S", "R1"), ("2023-06-01", "L", "R1", "C1"),
                  ("2023-07-01", "L", "R1", "E1"), ("2023-08-01", "P", "R2"))
    # p6: the first episode overlapping the window (started 2022) counts 1; an episode
    # ending on window_start does not overlap -> U1, U2, U3 -> 3 (yes).
    rows += chain("p6", ("2021-01-01", "S", "R1"), ("2023-04-01", "P", "U1"))[:1]
    rows[-1]["DEC"] = "2022-01-01"
    rows += chain("p6", ("2022-01-01", "P", "U1"), ("2023-04-02", "P", "U2"),
                  ("2023-09-01", "P", "U3"))
    # p7: the span opens with a temporary absence; counting starts at the next episode
    # (U1, 1), then U2 (2), then RNE T to U3 (same carer, still a placement) -> 3 (yes).
    rows += chain("p7", ("2021-01-01", "S", "U1", "C2", "SC1", "X"),
                  ("2023-03-01", "P", "T1"),
                  ("2023-04-10", "P", "U1", "C2", "SC1", "X"),
                  ("2023-06-01", "P", "U2"), ("2023-09-01", "T", "U3"))
    # p8: open short break: not in the denominator however many placements.
    rows += chain("p8", ("2023-05-01", "S", "U1", "V3"), ("2023-06-01", "P", "U2", "V3"),
                  ("2023-07-01", "P", "U3", "V3"))
    return rows


def test_cla_3plus_placements():
    # Denominator p1..p7 = 7; numerator p1 p3 p6 p7 = 4.
    res = result(inputs(episodes=placement_rows()), [PE])
    n, d, v = get(res, "cla_3plus_placements", PE)
    assert (n, d) == (4, 7) and abs(v - 4 / 7) < 1e-12


def test_placement_counts_are_order_independent():
    rows = table("episodes", placement_rows())
    shuffled = rows.sample(frac=1, random_state=3).reset_index(drop=True)
    a = result(inputs(episodes=rows), [PE])
    b = result(inputs(episodes=shuffled), [PE])
    pd.testing.assert_frame_equal(a, b)


def stability_rows():
    rows = []
    rows += chain("l1", ("2021-09-30", "S", "U1"))  # started exactly 2.5 years before: in
    rows += chain("l2", ("2021-10-01", "S", "U1"))  # a day later: not eligible
    rows += chain("l3", ("2020-01-01", "S", "U1"), ("2022-03-31", "P", "U2"))  # change on PE-2y: ok
    rows += chain("l4", ("2020-01-01", "S", "U1"), ("2022-04-01", "P", "U2"))  # after: changed
    rows += chain("l5", ("2020-01-01", "S", "U1"), ("2022-06-01", "T", "U2"),
                  ("2023-01-01", "U", "U3", "C1"))  # same carer moves: ok
    rows += chain("l7", ("2020-01-01", "S", "U1", "C2", "SC9", "P1"),
                  ("2023-01-01", "P", "T1"),
                  ("2023-01-10", "P", "U1", "C2", "SC9", "P1"))  # back after hospital: ok
    rows += chain("l8", ("2020-01-01", "S", "U3"), ("2023-01-01", "B", "A5", "E1"))  # adopted by carer
    rows += chain("l9", ("2020-01-01", "S", "U1"))  # 16 on PE: not eligible
    rows += chain("l10", ("2020-01-01", "S", "U1"))  # 15 on PE: eligible, ok
    # l11: returned to care in 2022 after a gap: the continuous period starts 2022-02-01.
    rows += [ep("l11", "2019-01-01", "2022-01-01", rne="S"), ep("l11", "2022-02-01", None, rne="S")]
    # l12: a legal-status change continues the chain started in 2019: eligible, ok.
    rows += chain("l12", ("2019-01-01", "S", "U1"), ("2021-01-01", "L", "U1", "C1"))
    # l13: change of carer and legal status (B) inside the last two years: changed.
    rows += chain("l13", ("2019-01-01", "S", "U1"), ("2023-06-01", "B", "U2", "C1"))
    return rows


def test_cla_long_term_stability():
    # PE 2024-03-31: continuous period started on or before 2021-09-30, under 16,
    # no carer change (P/B new placement) after 2022-03-31.
    # Eligible: l1 l3 l4 l5 l7 l8 l10 l12 l13 = 9; stable: l1 l3 l5 l7 l8 l10 l12 = 7.
    headers = [hdr(c) for c in ["l1", "l2", "l3", "l4", "l5", "l7", "l8", "l11", "l12", "l13"]]
    headers += [hdr("l9", "2008-03-31"), hdr("l10", "2008-04-01")]
    res = result(inputs(episodes=stability_rows(), header=headers), [PE])
    n, d, _ = get(res, "cla_long_term_stability", PE)
    assert (n, d) == (7, 9)


def test_long_term_stability_month_end_clipping():
    # PE 2024-08-31: 30 months before is 2022-02-28 (clipped). a starts 2022-02-28
    # (eligible, stable), b starts 2022-03-01 (not eligible). 1 of 1.
    rows = chain("a", ("2022-02-28", "S", "U1")) + chain("b", ("2022-03-01", "S", "U1"))
    res = result(inputs(episodes=rows, header=[hdr("a"), hdr("b")]), ["2024-08-31"])
    assert get(res, "cla_long_term_stability", "2024-08-31") == (1, 1, 1.0)


def sw(child, sw_id, start, end=None, la="LA1"):
    return {"la_code": la, "CHILD": child, "SW_ID": sw_id, "SW_DECOM": start, "SW_DEC": end}


def test_cla_3plus_social_workers_and_absent_feed():
    # w1: A, B, C overlap the window -> 3 (yes). w2: A, B, back to A -> 2.
    # w3: A ended on window_start (not overlapping), B, C -> 2. w4: none -> 0.
    # Denominator 4, numerator 1. LA2 supplied no sw_episodes: no row.
    eps = [ep(c, "2022-01-01", rne="S") for c in ["w1", "w2", "w3", "w4"]]
    eps += [ep("z", "2022-01-01", rne="S", la="LA2")]
    sws = [
        sw("w1", "A", "2023-01-01", "2023-06-01"), sw("w1", "B", "2023-06-01", "2023-09-01"),
        sw("w1", "C", "2023-09-01"),
        sw("w2", "A", "2023-01-01", "2023-06-01"), sw("w2", "B", "2023-06-01", "2023-09-01"),
        sw("w2", "A", "2023-09-01"),
        sw("w3", "A", "2022-01-01", "2023-04-01"), sw("w3", "B", "2023-04-01", "2023-09-01"),
        sw("w3", "C", "2023-09-01"),
    ]
    res = result(inputs(episodes=eps, sw_episodes=sws), [PE])
    assert get(res, "cla_3plus_social_workers", PE) == (1, 4, 0.25)
    assert not has_row(res, "cla_3plus_social_workers", "LA2")
    assert get(res, "cla_at_period_end", PE, "LA2") == (1, None, 1.0)


def miss(child, start, kind="M"):
    return {"CHILD": child, "MISSING": kind, "MIS_START": start, "MIS_END": None}


def test_cla_missing():
    # m1 C2 episode, missing M in the window: yes. m2 only away (A): denominator only.
    # m3 only a V3 episode: not in the denominator. m4 a V3 and a C2 episode, missing
    # while on the short break: yes (wherever the child was living).
    # m5 episode ended 2023-05-01, missing before the window: denominator only.
    # m6 episode ended on window_start: not overlapping. m7 missing twice on the same
    # day (one event): yes. Denominator m1 m2 m4 m5 m7 = 5, numerator m1 m4 m7 = 3.
    eps = [
        ep("m1", "2022-01-01", rne="S"), ep("m2", "2022-01-01", rne="S"),
        ep("m3", "2023-05-01", "2023-05-03", rne="S", ls="V3"),
        ep("m4", "2023-05-01", "2023-05-03", rne="S", ls="V3"),
        ep("m4", "2023-08-01", rne="S"),
        ep("m5", "2022-01-01", "2023-05-01", rne="S"),
        ep("m6", "2022-01-01", "2023-04-01", rne="S"),
        ep("m7", "2022-01-01", rne="S"),
    ]
    missing = [
        miss("m1", "2023-06-01"), miss("m2", "2023-06-01", "A"), miss("m3", "2023-05-02"),
        miss("m4", "2023-05-02"), miss("m5", "2023-03-31"), miss("m6", "2023-06-01"),
        miss("m7", "2024-03-31"), miss("m7", "2024-03-31"),
    ]
    res = result(inputs(episodes=eps, missing=missing), [PE])
    assert get(res, "cla_missing", PE) == (3, 5, 0.6)
