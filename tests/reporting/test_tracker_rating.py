"""The RAG thresholds: the kit's defaults, per-LA overrides, and what the schema refuses."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml

from csc_outcomes import paths
from csc_outcomes.reporting.parameter_schema import ParameterError
from csc_outcomes.reporting.parameters import check_folder, load_la_parameters
from csc_outcomes.reporting.tracker_rating import (
    DEFAULT_THRESHOLDS,
    DOMAINS,
    RATED,
    ThresholdError,
    figure,
    rate_domain,
    threshold_problems,
    thresholds_for,
    valid_thresholds,
)


def test_defaults_yaml_states_the_kits_thresholds():
    data = yaml.safe_load((paths.parameters_dir() / "defaults.yaml").read_text(encoding="utf-8"))
    assert data["rag"] == DEFAULT_THRESHOLDS
    assert set(DEFAULT_THRESHOLDS) == {d.key for d in DOMAINS} | {"care_leaver_age"}


def test_an_la_changes_one_threshold_and_keeps_the_others():
    merged = thresholds_for({"sdq": {"amber": 15}}, {"sdq": {"red": 20}, "care_leaver_age": 16})
    assert merged["sdq"] == {"amber": 15, "red": 20}
    assert merged["missing"] == DEFAULT_THRESHOLDS["missing"]
    assert merged["care_leaver_age"] == 16
    assert DEFAULT_THRESHOLDS["sdq"] == {"amber": 14, "red": 17}  # not changed in place


def test_merged_amber_above_red_is_refused_naming_the_domain():
    with pytest.raises(ThresholdError, match=r"rag\.missing: amber 4 is above red 3"):
        thresholds_for(None, {"missing": {"amber": 4}})


@pytest.mark.parametrize("value", [
    {"sdq": {"amber": 20, "red": 3}}, {"sdq": {"red": True}}, {"sdq": {}}, {"sdq": 14},
    {"sdq": {"amber": -1}}, {"sdq": {"green": 1}}, {"moves": {"red": 3}},
    {"care_leaver_age": 30}, {"care_leaver_age": 17.5}, ["sdq"],
    {"sdq": {"amber": 0, "red": 0}}, {"sdq": {"red": float("inf")}}, {"sdq": {"amber": 14.5}},
    {"missing": {"amber": 0}}, {"absence": {"amber": float("nan")}}, {"absence": {"red": -1}}])
def test_schema_refuses(value):
    assert not valid_thresholds(value)
    assert threshold_problems(value)


@pytest.mark.parametrize(("value", "message"), [
    ({"sdq": {"amber": 0, "red": 0}}, "rag.sdq.amber: got 0, expected above 0"),
    ({"sdq": {"red": float("inf")}}, "rag.sdq.red: got inf, expected a finite number"),
    ({"sdq": {"amber": 14.5}}, "rag.sdq.amber: got 14.5, expected a whole number"),
    ({"sdq": {"amber": 20, "red": 3}}, "rag.sdq: amber 20 is above red 3"),
    ({"care_leaver_age": 30}, "rag.care_leaver_age: got 30")])
def test_each_problem_names_the_sub_key_and_its_value(value, message):
    assert any(p.startswith(message) for p in threshold_problems(value)), threshold_problems(value)


def test_schema_takes_any_part():
    assert valid_thresholds(DEFAULT_THRESHOLDS)
    assert valid_thresholds({"absence": {"amber": 2.5}})
    assert valid_thresholds({"sdq": {"amber": 17, "red": 17}})  # no amber band: allowed
    assert valid_thresholds({"missing": {"amber": 1.0}})  # YAML 1.0 is still whole


def test_a_wrong_la_threshold_stops_the_run_naming_file_and_key(tmp_path):
    (tmp_path / "defaults.yaml").write_text("rag:\n  sdq: {amber: 14, red: 17}\n")
    (tmp_path / "SYN01.yaml").write_text("rag:\n  sdq: {amber: 20, red: 3}\n")
    with pytest.raises(ParameterError, match=r"SYN01\.yaml: rag\.sdq: amber 20 is above red 3"):
        load_la_parameters("SYN01", tmp_path)
    (tmp_path / "SYN01.yaml").write_text("rag:\n  sdq: {amber: 0, red: 0}\n  missing: {red: .inf}\n")
    with pytest.raises(ParameterError) as err:
        load_la_parameters("SYN01", tmp_path)
    lines = str(err.value).splitlines()
    assert [line.split("SYN01.yaml: ")[1] for line in lines] == [
        "rag.sdq.amber: got 0, expected above 0 (an amber of 0 rates every child amber or red)",
        "rag.missing.red: got inf, expected a finite number"]
    assert "{" not in str(err.value)  # the sub-key and value, not the whole mapping
    with pytest.raises(ParameterError, match=r"SYN01\.yaml: rag"):
        check_folder(tmp_path)


def test_rating_says_which_threshold_gave_the_colour():
    domain = DOMAINS[0]  # placement moves
    value = pd.Series([0, 1, 2, None, None])
    state = pd.Series([RATED, RATED, RATED, "No data", "Not applicable"])
    colour, why = rate_domain(value, state, domain, {"amber": 1, "red": 2})
    assert list(colour) == ["Green", "Amber", "Red", "No data", "Not applicable"]
    assert list(why) == ["0 moves < amber at 1", "1 moves >= amber at 1", "2 moves >= red at 2",
                         "", ""]


@pytest.mark.parametrize(("v", "limits", "text"), [
    (100 * 6 / 121, (5, 10), "4.96"), (4.996, (5, 10), "4.996"), (9.9, (5, 10), "9.9"),
    (5.0, (5, 10), "5"), (5.04, (5, 10), "5.04"), (2.46, (2.5, 10), "2.46"), (12.0, (), "12")])
def test_a_figure_reads_as_it_compares(v, limits, text):
    assert figure(v, limits) == text


def test_why_shows_decimals_enough_to_read_right():
    absence = next(d for d in DOMAINS if d.key == "absence")
    _, why = rate_domain(pd.Series([100 * 6 / 121]), pd.Series([RATED]), absence,
                         {"amber": 5, "red": 10})
    assert list(why) == ["4.96% absent < amber at 5"]
