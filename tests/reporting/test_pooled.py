"""Pooled models: fitted once into the model cache, keyed by everything they depend on.

Each part of the key invalidates alone (the model's specification, the period, the
content of the columns it reads, the code), a change elsewhere in the warehouse does
not, and the frames built from the projected read are those of the full read.
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path
from types import SimpleNamespace

import duckdb
import pandas as pd
import pytest

from csc_outcomes.cli import main
from csc_outcomes.reporting import model_build, model_cache, pooled, stages
from csc_outcomes.reporting.config import RunResult
from csc_outcomes.reporting.pooled import PooledModel, pooled_model, shared_result
from csc_outcomes.stats.frames import READ_LINEAGE
from csc_outcomes.warehouse import read_tables

from conftest import PERIOD


def test_shared_result_built_once_then_read_from_the_run_folder(tmp_path: Path) -> None:
    calls = []

    def build():
        calls.append(1)
        return {"fit": [1, 2, 3]}, None

    first = shared_result("model", tmp_path / "shared", build)
    second = shared_result("model", tmp_path / "shared", build)
    assert first == second == ({"fit": [1, 2, 3]}, None)
    assert len(calls) == 1
    assert (tmp_path / "shared" / "model.pkl").stat().st_mode & 0o077 == 0, "owner only"


def test_shared_result_without_a_folder_just_builds() -> None:
    calls = []
    assert shared_result("model", "", lambda: calls.append(1) or "x") == "x"
    assert shared_result("model", None, lambda: calls.append(1) or "x") == "x"
    assert len(calls) == 2


@pytest.fixture
def warehouse(tiny_setup, tmp_path) -> Path:
    """A copy of the tiny run's small real warehouse, free to change."""
    return Path(shutil.copy(tiny_setup / "data" / "warehouse.duckdb", tmp_path / "w.duckdb"))


@pytest.fixture
def toy(monkeypatch):
    """A pooled model ``toy`` over two columns of cin_episodes, its builds counted."""
    calls = []

    def frame(tables, period_end):
        calls.append(period_end)
        return tables["cin_episodes"].head(40).reset_index(drop=True)

    model = PooledModel(frame, lambda f, scale: len(f) * scale,
                        {"cin_episodes": (*READ_LINEAGE, "LAchildID", "CINreferralDate")},
                        min_rows=30, what="the toy model", options={"scale": 2})
    monkeypatch.setattr(pooled, "MODELS", {**pooled.MODELS, "toy": model})
    monkeypatch.setattr(pooled, "NOTEBOOK_MODELS", {"toy_report": ("toy",)})
    return SimpleNamespace(calls=calls, model=model)


def changed(path: Path, sql: str) -> None:
    with duckdb.connect(str(path)) as con:
        con.execute(sql)


FIRST_EPISODE = "rowid = (SELECT min(rowid) FROM cin_episodes)"


def test_built_once_then_read_and_each_key_part_refits(warehouse, toy, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    first = pooled_model("toy", warehouse, PERIOD, cache)
    second = pooled_model("toy", warehouse, PERIOD, cache)
    assert len(toy.calls) == 1 and second[1] == first[1] == 80 and second[2] is None
    assert second[0].columns.tolist() == [*READ_LINEAGE, "LAchildID", "CINreferralDate"]
    keys = {pooled.model_key("toy", warehouse, PERIOD)}

    def refits(why: str) -> None:
        before = len(toy.calls)
        pooled_model("toy", warehouse, PERIOD, cache)
        key = pooled.model_key("toy", warehouse, PERIOD)
        assert len(toy.calls) == before + 1 and key not in keys, why
        keys.add(key)

    # a column the model does not read: same key, no refit
    changed(warehouse, f"UPDATE cin_episodes SET source_file = 'elsewhere.xml' WHERE {FIRST_EPISODE}")
    pooled_model("toy", warehouse, PERIOD, cache)
    assert len(toy.calls) == 1 and pooled.model_key("toy", warehouse, PERIOD) in keys
    changed(warehouse, "UPDATE cin_episodes SET CINreferralDate = CINreferralDate - 1 "
                       f"WHERE {FIRST_EPISODE}")
    refits("the inputs' content")
    assert pooled_model("toy", warehouse, "2025-03-31", cache) is not None and len(toy.calls) == 3
    keys.add(pooled.model_key("toy", warehouse, "2025-03-31"))  # the period end
    monkeypatch.setitem(pooled.MODELS, "toy", PooledModel(
        toy.model.frame, toy.model.fit, toy.model.reads, min_rows=30, what="the toy model",
        options={"scale": 3}))
    refits("the specification (options)")
    monkeypatch.setattr(model_cache, "__version__", "99.0")
    refits("the code version (package version; sources: test_model_cache)")
    monkeypatch.setattr(model_build, "library_versions", lambda: {"statsmodels": "0.99"})
    refits("the libraries it is fitted and pickled with")
    assert len(model_cache.entries(cache)) == 6


@pytest.mark.parametrize("step", [pooled.build_model, model_build.build, model_build.fit_or_reason,
                                  pooled.MODELS["rereferral"].frame, pooled.MODELS["rereferral"].fit])
def test_every_step_that_builds_a_model_is_in_the_code_its_key_holds(step):
    """Attacker (a stranger's review): the fit was run through the reports' helpers
    (``context.fit_or_reason``) and built in ``pooled.build_model``, neither in the
    modules whose sources the key hashed, so a change to either reused models fitted by
    the old code. Each step's module must be in the key's module closure."""
    for name, m in pooled.MODELS.items():
        closure = model_cache.module_closure(tuple(sorted(m.code())))
        assert step.__module__ in closure, (name, step.__qualname__)
    assert "csc_outcomes.reporting.context" not in closure  # the reports' helpers: no refit


def test_projected_read_gives_the_frames_of_the_full_read(tiny_setup):
    path = tiny_setup / "data" / "warehouse.duckdb"
    full, _ = read_tables(path)
    for name, m in pooled.MODELS.items():
        projected, _ = read_tables(path, columns=m.reads)
        assert set(projected) == set(m.reads)
        expected = m.frame(full, PERIOD)
        assert len(expected) > 10, name
        pd.testing.assert_frame_equal(m.frame(projected, PERIOD), expected)


def test_model_keys_name_the_models_a_notebook_shows(tiny_setup):
    path = tiny_setup / "data" / "warehouse.duckdb"
    keys = pooled.model_keys(path, PERIOD, "proportionality")
    assert list(keys) == ["proportionality"]
    assert keys["proportionality"] == pooled.model_key("proportionality", path, PERIOD)
    assert pooled.model_keys(path, PERIOD, "cohort_outcomes") == {}
    assert pooled.models_for(["cohort_outcomes", "proportionality", "rereferrals"]) == [
        "rereferral", "proportionality"]
    assert pooled.notebook_parameters("cohort_outcomes", "/r") == {}
    assert pooled.notebook_parameters("rereferrals", "/r") == {"model_cache": "/r/cache",
                                                                "model_keys": {}}
    # the run passes the keys its model stage fitted under: only the notebook's own
    stage_keys = {"rereferral": "k1", "proportionality": "k2"}
    assert pooled.notebook_parameters("rereferrals", "/r", stage_keys)["model_keys"] == {
        "rereferral": "k1"}


def test_a_notebook_given_the_runs_key_reads_that_entry_without_hashing(tiny_setup, tmp_path,
                                                                        monkeypatch):
    """With the key from the run, the notebook's ``pooled_model`` neither hashes the code
    and columns again (``model_key`` not called) nor builds: it reads the stage's entry."""
    path = tiny_setup / "data" / "warehouse.duckdb"
    cache = tmp_path / "cache"
    fitted = pooled.fit_model("proportionality", path, PERIOD, cache)
    def no_hashing(*args, **kwargs):
        raise AssertionError("model_key was computed again")
    monkeypatch.setattr(pooled, "model_key", no_hashing)
    monkeypatch.setattr(pooled, "build_model", no_hashing)
    frame, fit, why = pooled.pooled_model("proportionality", path, PERIOD, cache, key=fitted.key)
    assert fit is not None and why is None and len(frame) == fitted.rows


def test_the_run_stage_fits_before_the_notebooks_and_records_keys(warehouse, toy, tmp_path):
    lines: list[str] = []
    plan = SimpleNamespace(notebooks=(Path("toy_report.ipynb"), Path("cohort.ipynb")),
                           config=SimpleNamespace(cluster=None, jobs=2, force=False,
                                                  warehouse=warehouse),
                           warehouse=warehouse, la_codes=("SYN01",),
                           period_end=PERIOD, restricted_dir=tmp_path / "restricted",
                           log=lines.append)
    result = RunResult(PERIOD, ["SYN01"], ["toy_report"], ["html"], "builtin")
    for _ in range(2):
        stages.fit_pooled_models(plan, result)
    key = pooled.model_key("toy", warehouse, PERIOD)
    assert result.models == {"toy": key} and len(toy.calls) == 1
    assert "the toy model: fitted on 40 rows in" in lines[1] and key[:12] in lines[1]
    assert lines[3].startswith("the toy model: found in the cache")
    assert model_cache.entry_path(tmp_path / "restricted" / "cache", key).is_file()
    assert set(result.timings["pooled_each_s"]) == {"toy"}
    plan.config.force = True  # run --force: fitted again, the entry replaced
    stages.fit_pooled_models(plan, result)
    assert len(toy.calls) == 2 and lines[-1].startswith("the toy model: fitted on 40 rows")


def test_the_run_stage_removes_the_entries_it_superseded_and_only_those(warehouse, toy, tmp_path,
                                                                          capsys):
    """Attacker (a stranger's review): entries fitted on a warehouse since corrected were
    never removed, so child-level frames of superseded data piled up until 'cache clear',
    and 'cache list' did not say what an entry was. Now the stage describes each entry it
    uses and removes the others of the same model, period and warehouse file."""
    lines: list[str] = []
    plan = SimpleNamespace(notebooks=(Path("toy_report.ipynb"),),
                           config=SimpleNamespace(cluster=None, jobs=1, force=False,
                                                  warehouse=warehouse),
                           warehouse=warehouse, la_codes=("SYN01",), period_end=PERIOD,
                           restricted_dir=tmp_path / "restricted", log=lines.append)
    cache = model_cache.cache_root(plan.restricted_dir)
    result = RunResult(PERIOD, ["SYN01"], ["toy_report"], ["html"], "builtin")
    stages.fit_pooled_models(plan, result)
    old_key = result.models["toy"]
    other_period = dataclasses.replace(result)  # the same model for another period: kept
    stages.fit_pooled_models(SimpleNamespace(**{**vars(plan), "period_end": "2025-03-31"}),
                             other_period)
    by_notebook = "ab" * 32  # built in JupyterLab alone: not described, kept
    model_cache.fetch(cache, by_notebook, lambda: "a notebook's fit")
    changed(warehouse, "UPDATE cin_episodes SET CINreferralDate = CINreferralDate - 1 "
                       f"WHERE {FIRST_EPISODE}")
    stages.fit_pooled_models(plan, result)
    new_key = result.models["toy"]
    assert new_key != old_key
    assert {e.key for e in model_cache.entries(cache)} == {
        new_key, other_period.models["toy"], by_notebook}
    assert lines[-1] == f"the toy model: removed 1 superseded cache entry ({old_key[:12]})"
    assert main(["cache", "list", "--restricted-dir", str(plan.restricted_dir)]) == 0
    listed = capsys.readouterr().out
    assert f"{new_key}" in listed and f"the toy model, period ending {PERIOD}, {warehouse.resolve()}" in listed
    assert f"{by_notebook}" in listed and "not described (built by a notebook" in listed


def test_too_thin_or_without_warehouse_says_why(warehouse, tmp_path, monkeypatch):
    thin = PooledModel(lambda t, p: pd.DataFrame({"y": [1]}), lambda f: 1,
                       {"cin_episodes": READ_LINEAGE}, min_rows=30, what="the thin model")
    monkeypatch.setattr(pooled, "MODELS", {"thin": thin})
    frame, fit, why = pooled_model("thin", warehouse, PERIOD, tmp_path / "cache")
    assert fit is None and "Too few records (1)" in why
    monkeypatch.undo()
    frame, fit, why = pooled_model("rereferral", tmp_path / "none.duckdb", PERIOD, tmp_path / "c")
    assert frame is None and fit is None and "was not found" in why
    assert not (tmp_path / "c").exists()


def test_unknown_model_is_named():
    with pytest.raises(ValueError, match="no pooled model 'nope'; known: proportionality"):
        pooled_model("nope", "w.duckdb", PERIOD, None)


def test_a_run_of_many_las_fits_its_models_side_by_side_in_processes(tiny_setup, tmp_path):
    """From ``PARALLEL_FITS_FROM`` LAs and ``--jobs`` 2, the fits go to two worker
    processes: the same entries, keys and rows as fitted one after the other here."""
    path = tiny_setup / "data" / "warehouse.duckdb"
    names = ["rereferral", "proportionality"]
    plan = SimpleNamespace(config=SimpleNamespace(cluster=None, jobs=3),
                           la_codes=[f"E{i}" for i in range(stages.PARALLEL_FITS_FROM)])
    mapper = stages.models_mapper(plan, names)
    assert mapper is not None and mapper.__name__ == "in_processes"
    side_by_side = pooled.fit_models(names, path, PERIOD, tmp_path / "a", mapper=mapper)
    here = pooled.fit_models(names, path, PERIOD, tmp_path / "b")
    assert [(f.name, f.key, f.rows, f.built) for f in side_by_side] == [
        (f.name, f.key, f.rows, f.built) for f in here]
    assert all(model_cache.entry_path(tmp_path / "a", f.key).is_file() for f in side_by_side)
    plan.la_codes = plan.la_codes[1:]  # one LA fewer, or one job: here, one after the other
    assert stages.models_mapper(plan, names) is None
    plan.la_codes, plan.config.jobs = [*plan.la_codes, "E99"], 1
    assert stages.models_mapper(plan, names) is None


def test_fits_can_be_sent_to_a_cluster_as_module_level_jobs(warehouse, toy, tmp_path):
    sent = []

    def mapper(fn, names, **arguments):  # stands in for cluster.map_on_cluster
        sent.append((fn, names, sorted(arguments)))
        return [fn(name, **arguments) for name in names]

    fitted = pooled.fit_models(["toy"], warehouse, PERIOD, tmp_path / "cache", mapper=mapper)
    assert sent == [(pooled.fit_model, ["toy"],
                     ["model_cache_dir", "period_end", "refresh", "warehouse_path"])]
    assert fitted[0].built and fitted[0].rows == 40 and len(toy.calls) == 1
