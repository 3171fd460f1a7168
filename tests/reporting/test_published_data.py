"""The published figures as reports use them, read once per run."""

from __future__ import annotations

import pytest

from csc_outcomes.reporting import published_data
from csc_outcomes.reporting.published_data import load_published


@pytest.fixture(scope="module")
def pub():
    return load_published()


def test_stand_in_region_neighbours_and_population(pub):
    assert pub.stand_in("E06000001") == "E06000001"
    assert pub.stand_in("SYN01", "E09000019") == "E09000019"
    assert pub.stand_in("SYN01") is None and pub.stand_in("SYN01", "E99999999") is None
    # Islington: some files say Inner London; among the nine regions it is London
    assert pub.region_of("E09000019") == ("E12000007", "London")
    assert pub.neighbours_of("E06000001")[0] == "E06000003"  # Redcar and Cleveland, SN_1
    assert len(pub.neighbours_of("E06000001")) == 10
    assert pub.population("E06000001", 2025) == 21090
    assert pub.population("E06000001", 2013) == 19826  # nearest year published: 2021
    assert pub.latest_year("rereferrals_within_12m") == 2025
    assert pub.latest_year("assessments_within_45wd") is None
    assert "Open Government Licence v3.0" in published_data.SOURCE


def test_read_once_per_run_through_the_cache_dir(tmp_path, pub, monkeypatch):
    monkeypatch.setattr(published_data, "_READ", {})  # a process that has not read them
    first = load_published(tmp_path)
    assert (tmp_path / "published.pkl").is_file()
    monkeypatch.setattr(published_data, "_READ", {})  # the run's next notebook
    again = load_published(tmp_path)
    assert again is not first
    assert again.table.equals(first.table) and len(again.table) == len(pub.table)


def test_a_process_that_has_read_them_warm_uses_them_without_the_cache_dir(tmp_path, monkeypatch):
    """A kernel forked from the run's fork server (which ran ``warm``) finds the figures
    read, each measure's rows split and DfE's notes parsed: nothing read again."""
    monkeypatch.setattr(published_data, "_READ", {})
    published_data.warm()
    warmed = published_data._READ[None]
    assert {"by_measure", "rated_by_measure"} <= set(vars(warmed))
    assert load_published(tmp_path) is warmed and not (tmp_path / "published.pkl").exists()
    referrals = warmed.measure("rereferrals_within_12m")
    assert referrals.equals(warmed.table[warmed.table["measure_id"] == "rereferrals_within_12m"])
    assert warmed.measure("no_such_measure").empty and warmed.rated_measure("no_such_measure").empty


def test_what_every_report_asks_is_worked_out_once_and_cannot_be_changed_by_one(pub):
    """A national run asks each LA's region, neighbours, name and population thousands
    of times: each is worked out once a process (``Published.once``), a caller changing
    the list it got changes no later answer, and a question with no answer (an area DfE
    does not publish) is asked again rather than kept as an answer."""
    first = pub.neighbours_of("E06000001")
    first.append("E99999999")
    assert pub.neighbours_of("E06000001") == first[:10] and len(pub.neighbours_of("E06000001")) == 10
    assert ("neighbours of", "E06000001") in pub.worked_out
    assert pub.population("E06000001", 2025) == 21090
    assert pub.worked_out[("population", "E06000001", 2025)] == 21090
    assert pub.area_name("E06000001") == pub.worked_out[("area name", "E06000001")]
    with pytest.raises(ValueError, match="not an LA"):
        pub.region_of("E99999999")
    assert ("region of", "E99999999") not in pub.worked_out
    calls = []
    assert pub.once(("test", 1), lambda: calls.append(1) or "made") == "made"
    assert pub.once(("test", 1), lambda: calls.append(1) or "again") == "made" and calls == [1]
