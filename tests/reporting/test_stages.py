"""The run's tracker stage (``stages.write_trackers``): thresholds checked before any
work, an LA whose tracker fails set aside while the others go on."""

from __future__ import annotations

import threading
from types import SimpleNamespace

import pytest

from csc_outcomes.reporting import stages
from csc_outcomes.reporting.config import RunError, RunResult
from csc_outcomes.reporting.identifiers import identifiers_from_warehouse


def plan_for(tmp_path, las, la_parameters=None):
    return SimpleNamespace(
        la_codes=tuple(las), defaults={}, la_parameters=la_parameters or {},
        parameters_dir=tmp_path, warehouse=tmp_path / "w.duckdb", period_end="2026-03-31",
        period_restricted=tmp_path / "restricted", staging=tmp_path / "staging",
        log=lambda message: None, job_keys=None, config=SimpleNamespace(jobs=2))


def result_for(las):
    return RunResult(period_end="2026-03-31", la_codes=list(las), notebooks=[], formats=["html"],
                     renderer="builtin")


def test_thresholds_that_cannot_rate_stop_the_run_naming_the_file(tmp_path, monkeypatch):
    written = []
    monkeypatch.setattr(stages, "write_tracker", lambda *a: written.append(a))
    plan = plan_for(tmp_path, ["SYN01"], {"SYN01": {"rag": {"missing": {"amber": 4}}}})
    with pytest.raises(RunError, match=r"SYN01\.yaml: .*missing: amber 4 is above red 3") as err:
        stages.write_trackers(plan, result_for(["SYN01"]))
    assert err.value.exit_code == 2
    assert not written


def test_an_la_whose_tracker_fails_is_set_aside(tmp_path, monkeypatch):
    def fake(warehouse, la, period_end, output_dir, limits):
        if la == "SYN02":
            raise ValueError("broken episodes")
        assert limits["sdq"] == {"amber": 14, "red": 18}  # the LA's own threshold reached it

    monkeypatch.setattr(stages, "write_tracker", fake)
    plan = plan_for(tmp_path, ["SYN01", "SYN02"], {"SYN01": {"rag": {"sdq": {"red": 18}}},
                                                   "SYN02": {"rag": {"sdq": {"red": 18}}}})
    result = result_for(["SYN01", "SYN02"])
    stages.write_trackers(plan, result)
    assert [(f["la_code"], f["stage"], f["error"]) for f in result.failed] == [
        ("SYN02", "tracker", "ValueError: broken episodes")]
    assert "trackers_s" in result.timings


def test_a_leak_in_a_reused_report_names_where_it_was_kept_and_the_fix(tmp_path):
    """A report kept by an earlier run fails every run until made again: say so."""
    plan = SimpleNamespace(period_restricted=tmp_path / "restricted" / "2026-03-31")
    result = RunResult("2026-03-31", ["SYN01", "SYN02"], ["tiny"], ["html"], "builtin")
    result.reuse = {"SYN01/tiny": "reused", "SYN02/tiny": "ran"}
    note = stages.reused_note(plan, result, {"SYN01/tiny.html", "SYN02/tiny.html"})
    assert "SYN01/tiny: kept by an earlier run" in note and "SYN02" not in note
    assert str(tmp_path / "restricted" / "2026-03-31" / "done") in note and "--force" in note
    assert stages.reused_note(plan, result, {"SYN02/tiny.html"}) == ""


def test_the_identifiers_are_collected_beside_the_stages_and_waited_for(tiny_setup, tmp_path):
    """The scan's identifier set is made in a thread while the workbooks are written: the
    same set as collected in line, its spill folder in the run's own folder, and the
    thread over when the block ends, even when collecting failed."""
    path = tiny_setup / "data" / "warehouse.duckdb"
    plan = SimpleNamespace(config=SimpleNamespace(identifiers=None), warehouse=path,
                           la_codes=("SYN01",), workdir=tmp_path / ".run-x")
    with stages.identifiers_in_background(plan) as collecting:
        assert collecting is not None
        held = collecting.result()
    assert held == identifiers_from_warehouse(path, ["SYN01"]) and len(held.ids) > 0
    assert (tmp_path / ".run-x" / "spill").is_dir()
    assert not [t for t in threading.enumerate() if t.name.startswith("identifiers")]
    plan.warehouse = tmp_path / "missing.duckdb"
    with stages.identifiers_in_background(plan) as collecting, pytest.raises(
            Exception, match=r"missing\.duckdb"):
        collecting.result()
    plan.config.identifiers = frozenset({"C1"})  # given: nothing collected
    with stages.identifiers_in_background(plan) as collecting:
        assert collecting is None
