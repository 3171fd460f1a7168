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
    rate_domain,
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
    with pytest.raises(ThresholdError, match="missing: amber 4 is above red 3"):
        thresholds_for(None, {"missing": {"amber": 4}})


@pytest.mark.parametrize("value", [
    {"sdq": {"amber": 20, "red": 3}}, {"sdq": {"red": True}}, {"sdq": {}}, {"sdq": 14},
    {"sdq": {"amber": -1}}, {"sdq": {"green": 1}}, {"moves": {"red": 3}},
    {"care_leaver_age": 30}, {"care_leaver_age": 17.5}, ["sdq"]])
def test_schema_refuses(value):
    assert not valid_thresholds(value)


def test_schema_takes_any_part():
    assert valid_thresholds(DEFAULT_THRESHOLDS)
    assert valid_thresholds({"absence": {"amber": 2.5}})


def test_a_wrong_la_threshold_stops_the_run_naming_file_and_key(tmp_path):
    (tmp_path / "defaults.yaml").write_text("rag:\n  sdq: {amber: 14, red: 17}\n")
    (tmp_path / "SYN01.yaml").write_text("rag:\n  sdq: {amber: 20, red: 3}\n")
    with pytest.raises(ParameterError, match=r"SYN01\.yaml: rag: expected a mapping of RAG"):
        load_la_parameters("SYN01", tmp_path)
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
