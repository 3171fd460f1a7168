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
