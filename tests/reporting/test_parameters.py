"""Parameter files checked against their schema as they are read (findings 2 and 9): a wrong
value names the file, the key, what was expected and what was found; broken YAML names
the file and line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from csc_outcomes import paths
from csc_outcomes.reporting.disclosure import MINIMUM_THRESHOLD
from csc_outcomes.reporting.parameter_schema import (
    DEFAULTS,
    LA_FILE,
    SCHEDULE,
    ParameterError,
    validate,
)
from csc_outcomes.reporting.parameters import (
    check_folder,
    load_defaults,
    load_la_parameters,
    load_schedule,
)


@pytest.fixture
def params(tmp_path) -> Path:
    """A copy of the kit's parameters folder."""
    return Path(shutil.copytree(paths.parameters_dir(), tmp_path / "parameters"))


def test_the_kits_own_files_are_valid():
    check_folder()
    assert load_defaults()["suppression_threshold"] >= MINIMUM_THRESHOLD
    # each synthetic LA stands in for a real LA of a different region (its comparators)
    likes = [load_la_parameters(la)["like"] for la in ("SYN01", "SYN02", "SYN03")]
    assert likes == ["E06000001", "E08000029", "E09000019"]
    assert "jobs" not in load_schedule("monthly")  # the run's own: cores + 1


@pytest.mark.parametrize(("value", "got"), [
    ("0", "got 0 (a number)"), ("4", "got 4 (a number)"), ("-5", "got -5 (a number)"),
    ("5.5", "got 5.5 (a number)"), ('"5"', "got '5' (text)"), ("true", "got True (true/false)"),
    ("", "got None (empty)")])
def test_a_suppression_threshold_below_5_or_not_whole_is_refused(params, value, got):
    # today `suppression_threshold: 0` is accepted and turns suppression off
    defaults = params / "defaults.yaml"
    text = defaults.read_text().replace("suppression_threshold: 5", f"suppression_threshold: {value}")
    defaults.write_text(text)
    with pytest.raises(ParameterError) as exc:
        load_defaults(params)
    assert str(exc.value) == (f"{defaults}: suppression_threshold: expected a whole number of at "
                              f"least {MINIMUM_THRESHOLD}, {got}")


def test_thresholds_of_5_and_more_are_accepted(params):
    (params / "defaults.yaml").write_text("suppression_threshold: 10\n")
    assert load_defaults(params) == {"suppression_threshold": 10}


def test_statistical_neighbours_must_be_a_list_of_la_codes(params):
    la = params / "SYN01.yaml"
    la.write_text("name: Synthetic Borough 1\nstatistical_neighbours: 7\n")
    with pytest.raises(ParameterError, match=r"SYN01\.yaml: statistical_neighbours: expected a list, "
                                             r"each item an LA code .*, got 7 \(a number\)"):
        load_la_parameters("SYN01", params)
    la.write_text("statistical_neighbours: [SYN02, ../../etc]\n")
    with pytest.raises(ParameterError, match=r"got \['SYN02', '\.\./\.\./etc'\]"):
        check_folder(params)


def test_jobs_must_be_a_whole_number(params):
    sched = params / "schedules" / "monthly.yaml"
    sched.write_text(sched.read_text() + 'jobs: "two"\n')
    with pytest.raises(ParameterError) as exc:
        load_schedule("monthly", params)
    assert str(exc.value) == f"{sched}: jobs: expected a whole number of at least 1, got 'two' (text)"
    sched.write_text("jobs: 0\n")
    with pytest.raises(ParameterError, match="jobs: expected a whole number of at least 1, got 0"):
        load_schedule("monthly", params)


def test_broken_yaml_names_file_and_line(params):
    defaults = params / "defaults.yaml"
    defaults.write_text("period_end: 2026-03-31\nnotebooks:\n  - cohort_outcomes\n - rereferrals\n")
    with pytest.raises(ParameterError) as exc:
        load_defaults(params)
    message = str(exc.value)
    assert message.startswith(f"{defaults}, line 4, column 2: not valid YAML")
    assert len(message.splitlines()) == 1


def test_unknown_keys_and_misplaced_keys_are_named(params):
    (params / "SYN02.yaml").write_text("name: x\nstatistical_neighbors: [SYN01]\n")  # misspelt
    (params / "schedules" / "monthly.yaml").write_text("suppression_threshold: 5\n")  # defaults only
    with pytest.raises(ParameterError) as exc:
        check_folder(params)
    lines = str(exc.value).splitlines()
    assert len(lines) == 2  # every problem of the folder at once
    assert lines[0].startswith(f"{params / 'SYN02.yaml'}: statistical_neighbors: not a key")
    assert lines[1].startswith(f"{params / 'schedules' / 'monthly.yaml'}: suppression_threshold: not a key")


def test_a_file_that_is_not_a_mapping_or_not_an_la_code(params):
    (params / "defaults.yaml").write_text("- a\n- list\n")
    (params / "my la.yaml").write_text("name: x\n")
    with pytest.raises(ParameterError) as exc:
        check_folder(params)
    text = str(exc.value)
    assert "my la.yaml: the file name is not an LA code" in text
    assert "defaults.yaml: expected a mapping of keys to values, got ['a', 'list'] (a list)" in text


def test_an_la_code_is_never_a_path(params):
    with pytest.raises(ParameterError, match="is not an LA code"):
        load_la_parameters("../defaults", params)


def test_a_schedule_name_is_never_a_path(params):
    with pytest.raises(FileNotFoundError, match=r"no schedule '\.\./defaults'"):
        load_schedule("../defaults", params)


@pytest.mark.parametrize(("schema", "data"), [
    (DEFAULTS, {"period_end": "2026-03-31", "formats": ["html", "pdf"], "notebooks": "all",
                "renderer": "builtin", "jobs": 1, "warehouse": "data/w.duckdb"}),
    (SCHEDULE, {"period_end": "last_month_end", "la_codes": ["SYN01", "e09000001"], "notebooks": []}),
    (LA_FILE, {"name": "Camden", "region": "London", "statistical_neighbours": []}),
])
def test_valid_values_pass(schema, data):
    assert validate(data, schema, Path("x.yaml")) == data


@pytest.mark.parametrize(("key", "value"), [("formats", "html"), ("formats", ["docx"]),
                                            ("renderer", "word"), ("period_end", "31/03/2026"),
                                            ("notebooks", "cohort_outcomes")])
def test_wrong_values_fail(key, value):
    with pytest.raises(ParameterError, match=f"x.yaml: {key}: expected .*, got"):
        validate({key: value}, SCHEDULE, Path("x.yaml"))


def test_a_folder_without_defaults_is_not_a_parameters_folder(tmp_path) -> None:
    # A mistyped --parameters-dir once ran with no LA names and no neighbours, exit 0.
    from csc_outcomes.reporting.parameters import ParameterError, check_folder

    with pytest.raises(ParameterError, match="not a parameters folder"):
        check_folder(tmp_path / "nonexistent")


@pytest.mark.parametrize("value", ["E0800", "SYN02", "E10000006", 801])
def test_like_must_be_a_current_la(params, value):
    # E10000006 is Cumbria: a former LA, with no neighbours or current figures
    la = params / "SYN01.yaml"
    la.write_text(f"name: Synthetic Borough 1\nlike: {value}\n")
    with pytest.raises(ParameterError, match=r"SYN01\.yaml: like: expected the current nine-character "
                                             r"code of one of the 153 LAs .*, got"):
        load_la_parameters("SYN01", params)


def test_a_real_la_needs_no_neighbour_list(params):
    got = load_la_parameters("E06000001", params)  # no E06000001.yaml
    assert got["name"] == "Hartlepool" and got["region"] == "North East"
    assert got["statistical_neighbours"][0] == "E06000003" and len(got["statistical_neighbours"]) == 10
    (params / "E06000001.yaml").write_text("name: Hartlepool Borough Council\nstatistical_neighbours: []\n")
    got = load_la_parameters("E06000001", params)
    assert got["name"] == "Hartlepool Borough Council" and got["statistical_neighbours"] == []
