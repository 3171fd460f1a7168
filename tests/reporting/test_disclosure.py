"""Disclosure control: suppression, tables with totals, the released measures, pools."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from attacker import PoolFact, Row, TableFact, attack

from csc_outcomes.reporting import disclosure as d


def test_primary_suppression_of_counts():
    assert d.suppress_counts([0, 1, 5, 6]).tolist() == [0, "c", "c", 6]


def test_threshold_is_configurable_and_missing_is_x():
    assert d.suppress_counts([3, 9, 10, None], threshold=9).tolist() == [3 and "c", "c", 10, "x"]


def test_secondary_single_suppression_in_a_row_takes_next_smallest():
    table = pd.DataFrame({"a": [3, 50], "b": [12, 60], "c": [40, 70]})
    out = d.suppress_table(table, columns=False)
    # row 0: 3 is primary; next smallest of (12, 40) is 12
    assert out.loc[0].tolist() == ["c", "c", 40]
    assert out.loc[1].tolist() == [50, 60, 70]


def test_secondary_suppression_runs_across_rows_and_columns_until_stable():
    table = pd.DataFrame({"g": ["a", "b", "c"], "x": [3, 10, 20], "y": [12, 8, 30], "z": [40, 7, 9]})
    out = d.suppress_table(table, exclude=["g"])
    assert out["g"].tolist() == ["a", "b", "c"]
    assert out[["x", "y", "z"]].values.tolist() == [["c", "c", 40], ["c", "c", 7], [20, 30, 9]]
    # every row and every column has 0 or at least 2 suppressed cells
    m = out[["x", "y", "z"]] == "c"
    assert not (m.sum(axis=1) == 1).any()
    assert not (m.sum(axis=0) == 1).any()


def test_secondary_prefers_a_nonzero_cell_and_leaves_two_suppressions_alone():
    # one suppressed: skip the zero, take 9
    m = d.secondary_mask([2, 0, 9, 30], [True, False, False, False], ["g"] * 4)
    assert m.tolist() == [True, False, True, False]
    # two already suppressed: nothing more
    m2 = d.secondary_mask([2, 4, 9, 30], [True, True, False, False], ["g"] * 4)
    assert m2.tolist() == [True, True, False, False]


def test_secondary_mask_is_per_group():
    vals = [2, 10, 20, 50, 60, 70]
    groups = ["a", "a", "a", "b", "b", "b"]
    prim = [True, False, False, False, False, False]
    assert d.secondary_mask(vals, prim, groups).tolist() == [True, True, False, False, False, False]


@pytest.mark.parametrize(
    "value, expected",
    [(0, 0), (1, "k"), (4, "k"), (5, 10), (14, 10), (15, 20), (1234, 1230), (81773, 81770), (None, "x")],
)
def test_round_to_nearest_ten(value, expected):
    assert d.round_to_base([value]).tolist() == [expected]


def measures(rows):
    """A measures table from (la, measure, numerator, denominator, value) tuples."""
    return pd.DataFrame([(la, "2026-03-31", m, n, den, v) for la, m, n, den, v in rows],
                        columns=["la_code", "period_end", "measure_id", "numerator",
                                 "denominator", "value"])


def test_release_display_frame():
    m = measures([("SYN01", "referrals", 4, None, 4), ("SYN01", "referrals", 0, None, 0),
                   ("SYN01", "rr", 3, 10, 0.3), ("SYN01", "rr", 50, 100, 0.5),
                   ("SYN01", "rr", 0, 0, None), ("SYN01", "ratio", 100, 40, 2.5)])
    out = d.release(m, kinds={"rr": "rate", "ratio": "ratio", "referrals": "count"})
    assert list(out.columns) == d.RELEASE_COLUMNS
    assert out["status"].tolist() == ["c", "shown", "c", "shown", "z", "shown"]
    assert out["display"].tolist() == ["c", "0", "c", "50.0%", "z", "2.50"]
    assert out["numerator_display"].tolist() == ["c", "0", "c", "50", "0", "100"]
    assert out["denominator_display"].tolist() == ["z", "z", "10", "100", "0", "40"]
    # nothing withheld survives as a number
    assert out.loc[out["status"] == "c", ["numerator", "value"]].isna().all().all()
    assert d.require_released(out, "a test") == 5


def test_release_withholds_a_rate_whose_complement_is_small():
    """Finding: "90.0% (9 of 10)" reveals the 1 child not counted."""
    out = d.release(measures([("A", "cla_3plus_placements", 9, 10, 0.9),
                              ("A", "cla_3plus_placements", 95, 100, 0.95),
                              ("A", "cla_3plus_placements", 94, 100, 0.94)]))
    assert out["display"].tolist() == ["c", "c", "94.0%"]
    assert out["numerator_display"].tolist() == ["c", "c", "94"]
    assert out["denominator_display"].tolist() == ["10", "100", "100"]  # safe alone
    rows = [Row("A", "p", str(i), "rate", n, den, v) for i, (n, den, v) in enumerate(
        zip(out["numerator_display"], out["denominator_display"], out["display"], strict=True))]
    assert attack(rows) == []


def test_release_withholds_a_small_denominator_and_marks_the_frame():
    out = d.release(measures([("A", "x", 4, 5, 0.8)]), kinds={"x": "rate"})
    assert out.loc[0, "display"] == "c" and out.loc[0, "denominator_display"] == "c"
    with pytest.raises(d.DisclosureError, match="released figures"):
        d.require_released(measures([("A", "x", 4, 5, 0.8)]), "a chart")


def issue_pools():
    """The issue's numbers: SYN01 3 of 49, SYN02 2 of 31, SYN03 9 of 121."""
    return d.release(measures([("SYN01", "cla_3plus_placements", 3, 49, 3 / 49),
                               ("SYN02", "cla_3plus_placements", 2, 31, 2 / 31),
                               ("SYN03", "cla_3plus_placements", 9, 121, 9 / 121)]))


def test_pools_are_built_from_shown_rows_only():
    """Finding: neighbours 7.1% of 49+121 and all LAs 7.0% of 201 gave SYN01 = 3 and
    SYN02 = 2. A pool now covers only shown rows and says which."""
    released = issue_pools()
    neighbours = d.pool(released, "cla_3plus_placements", ["SYN01", "SYN03"], "2026-03-31")
    everyone = d.pool(released, "cla_3plus_placements", ["SYN01", "SYN02", "SYN03"], "2026-03-31")
    assert neighbours.las == ("SYN03",) and neighbours.asked == ("SYN01", "SYN03")
    assert neighbours.partial and neighbours.display == "7.4%"
    assert everyone.las == ("SYN03",) and everyone.value == pytest.approx(9 / 121)
    rows = [Row(r.la_code, "p", r.measure_id, r.kind, r.numerator_display,
                r.denominator_display, r.display) for r in released.itertuples()]
    pools = [PoolFact("p", "cla_3plus_placements", "rate", p.las, p.display)
             for p in (neighbours, everyone)]
    assert attack(rows, pools) == []


def test_a_pool_with_nothing_shown_is_a_symbol():
    released = issue_pools()
    assert d.pool(released, "cla_3plus_placements", ["SYN01", "SYN02"], "2026-03-31").display == "c"
    assert d.pool(released, "cla_3plus_placements", ["SYN09"], "2026-03-31").display == "x"


def test_pools_of_counts_are_means_of_shown_counts():
    released = d.release(measures([("A", "cla_started", 5, None, 5),
                                   ("B", "cla_started", 30, None, 30),
                                   ("C", "cla_started", 40, None, 40)]))
    table = d.pools(released)
    assert table["value"].tolist() == [35.0] and table["n_las"].tolist() == [2]
    assert np.isnan(table["denominator"].iloc[0])


def test_secondary_suppression_covers_the_total_of_a_column():
    """Finding: bars of 141 - 96 - 41 - 0 gave a c as 4. With the column total
    published, one more cell goes."""
    counts = pd.DataFrame({"Observed": [96, 41, 4, 0], "Predicted": [100, 30, 11, 0]})
    out = d.suppress_table(counts, rows=False)
    assert out["Observed"].tolist() == [96, "c", "c", 0]
    assert out["Predicted"].tolist() == [100, 30, 11, 0]
    cells = {f"o{i}": str(v) for i, v in enumerate(out["Observed"])}
    assert attack([], tables=[TableFact("t", cells, (tuple(cells),), (141,))]) == []


def bridge_table():
    """Two 2x2 blocks of small counts joined by one small cell: every row and column
    holds two or more, yet the joining cell is the difference of the blocks' sums."""
    v = np.full((4, 4), 50)
    for i, j in [(0, 0), (0, 1), (1, 0), (1, 1), (2, 2), (2, 3), (3, 2), (3, 3), (1, 2)]:
        v[i, j] = 2
    return pd.DataFrame(v, columns=list("abcd"))


def test_no_cell_is_left_determined_by_the_totals_together():
    out = d.suppress_table(bridge_table())
    cells = {f"{i}{c}": str(out.loc[i, c]) for i in out.index for c in out.columns}
    groups = tuple(tuple(f"{i}{c}" for c in out.columns) for i in out.index) + \
        tuple(tuple(f"{i}{c}" for i in out.index) for c in out.columns)
    assert attack([], tables=[TableFact("t", cells, groups, (None,) * len(groups))]) == []
    # the rule that was there before (no row or column with a single c) is not enough
    mask = (bridge_table() <= 5).to_numpy().ravel()
    assert d.determined_cells(mask, [np.arange(4) + 4 * i for i in range(4)]
                              + [np.arange(0, 16, 4) + j for j in range(4)])[6]


def test_a_table_step_output_is_marked_released():
    out = d.suppress_table(pd.DataFrame({"g": ["a", "b"], "n": [3, 40]}), rows=False)
    assert out["g"].tolist() == ["a", "b"]  # labels found and left alone
    assert out["n"].tolist() == ["c", "c"]
    assert d.require_released(out, "a chart") == 5


def test_pool_rows_pool_each_set_of_las_from_one_cut_as_by_hand():
    """A report cuts a measure's rows once (``PoolRows``) and pools them for several sets
    of LAs: each pool is the one worked out by hand from shown rows only, and the LAs'
    shown figures come back in the order asked, suppressed and missing ones left out."""
    released = issue_pools()
    rows = d.PoolRows.of(released, "cla_3plus_placements", "2026-03-31")
    assert list(rows.la_code) == ["SYN01", "SYN02", "SYN03"]
    mine = rows.pool("cla_3plus_placements", ["SYN03", "SYN09"])
    # SYN01 (3) and SYN02 (2) are suppressed: only SYN03's 9 of 121 is pooled
    assert (mine.las, mine.asked, mine.numerator, mine.denominator) == (
        ("SYN03",), ("SYN03",), 9.0, 121.0)
    assert mine.display == "7.4%" and not mine.partial
    assert rows.pool("cla_3plus_placements", ["SYN01", "SYN02"]).display == "c"
    assert rows.pool("cla_3plus_placements", []).display == "x"
    assert rows.shown_values(["SYN09", "SYN03", "SYN01"]) == [pytest.approx(9 / 121)]
    other_period = d.PoolRows.of(released, "cla_3plus_placements", "2025-03-31")
    assert other_period.pool("cla_3plus_placements", ["SYN03"]).display == "x"


def test_pool_rows_of_counts_mean_the_shown_counts():
    released = d.release(measures([("A", "cla_started", 5, None, 5),
                                   ("B", "cla_started", 30, None, 30),
                                   ("C", "cla_started", 40, None, 40),
                                   ("D", "cla_started", 12, None, 12)]))
    p = d.pool(released, "cla_started", ["A", "B", "C", "D", "E"], "2026-03-31")
    # A's 5 is suppressed and E has no row: B, C and D pooled, 30 + 40 + 12 = 82 children,
    # a mean of 82 / 3 = 27.3 an LA, shown as a whole number
    assert p.las == ("B", "C", "D") and p.asked == ("A", "B", "C", "D")
    assert p.numerator == 82.0 and p.value == pytest.approx(82 / 3) and p.display == "27"
    assert np.isnan(p.denominator) and p.partial
