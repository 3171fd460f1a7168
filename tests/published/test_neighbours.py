"""DfE's statistical neighbour model, keyed by old LA numbers, mapped to current codes."""

from __future__ import annotations

import pytest

from csc_outcomes.published.neighbours import all_neighbours, statistical_neighbours


def test_barking_and_dagenham_neighbours_in_rank_order() -> None:
    # sn_model_2025_wide.csv, line 2: 301 Barking and Dagenham: SN_1 308 (Enfield, Close),
    # SN_2 821 (Luton), SN_3 313 (Hounslow), SN_4 333 (Sandwell, Somewhat close).
    table = statistical_neighbours("E09000002")
    assert len(table) == 10 and list(table["rank"]) == list(range(1, 11))
    assert list(table["neighbour_name"][:4]) == ["Enfield", "Luton", "Hounslow", "Sandwell"]
    assert list(table["neighbour_code"][:2]) == ["E09000010", "E06000032"]
    assert table["closeness"].iloc[0] == "Close" and table["closeness"].iloc[3] == "Somewhat close"


def test_every_la_has_ten_neighbours_none_itself() -> None:
    table = all_neighbours()
    assert table["la_code"].nunique() == 153
    assert (table.groupby("la_code").size() == 10).all()
    assert not (table["la_code"] == table["neighbour_code"]).any()


def test_unknown_code_says_which_code_to_use() -> None:
    with pytest.raises(ValueError, match="nine-character"):
        statistical_neighbours("301")
