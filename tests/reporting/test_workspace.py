"""A run's restricted folders: owner-only, a snapshot of the warehouse, no debris."""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace

import pytest

from csc_outcomes.reporting import model_cache, workspace
from csc_outcomes.reporting.config import RunError


def fake_plan(tmp_path: Path, warehouse: Path) -> SimpleNamespace:
    """What ``snapshot_inputs`` reads of a plan (``dataclasses.replace`` needs a dataclass)."""
    from dataclasses import dataclass

    @dataclass(frozen=True)
    class Plan:
        warehouse: Path
        workdir: Path

    return Plan(warehouse=warehouse, workdir=tmp_path / "restricted" / "2026-03-31" / ".run-x")


def test_the_run_reads_its_own_copy_of_the_warehouse(tmp_path: Path) -> None:
    source = tmp_path / "data" / "warehouse.duckdb"
    source.parent.mkdir()
    source.write_bytes(b"old warehouse")
    seen = workspace.identity(source)
    plan = workspace.snapshot_inputs(fake_plan(tmp_path, source), seen)
    assert plan.warehouse == plan.workdir / "inputs" / "warehouse.duckdb"
    # an ingest replaces the warehouse mid-run (atomically, as the writer does)
    (tmp_path / "data" / "new.duckdb").write_bytes(b"new warehouse")
    os.replace(tmp_path / "data" / "new.duckdb", source)
    assert plan.warehouse.read_bytes() == b"old warehouse"
    assert plan.warehouse.stat().st_mode & 0o777 == 0o600


def test_a_warehouse_replaced_while_the_run_starts_stops_it(tmp_path: Path) -> None:
    source = tmp_path / "warehouse.duckdb"
    source.write_bytes(b"old")
    seen = workspace.identity(source)
    (tmp_path / "new").write_bytes(b"new")
    os.replace(tmp_path / "new", source)  # during prepare, after its hashes were taken
    with pytest.raises(RunError, match="replaced while the run was starting"):
        workspace.snapshot_inputs(fake_plan(tmp_path, source), seen)


def test_no_warehouse_no_copy(tmp_path: Path) -> None:
    plan = fake_plan(tmp_path, tmp_path / "none.duckdb")
    assert workspace.snapshot_inputs(plan, None) is plan


def test_restricted_folders_are_created_owner_only(tmp_path: Path) -> None:
    root = tmp_path / "restricted"
    folder = workspace.make_private(root / "2026-03-31" / "SYN01", root)
    for level in (root, root / "2026-03-31", folder):
        assert level.stat().st_mode & 0o777 == 0o700, level


def test_debris_of_killed_runs_is_cleared_and_nothing_else(tmp_path: Path) -> None:
    reports, restricted = tmp_path / "reports", tmp_path / "restricted"
    keep = [restricted / "2026-03-31" / "SYN01" / "tiny.ipynb",
            restricted / "2026-03-31" / "runs" / "x-failed.json",
            restricted / "2026-03-31" / "quarantine-x" / "SYN01" / "tiny.html",
            reports / "2025-03-31" / "SYN01" / "tiny.html", reports / "index.html"]
    debris = [restricted / "2026-03-31" / ".run-a" / "shared" / "model.pkl",
              restricted / "2026-03-31" / ".run-a" / "staging" / "SYN01" / "tiny.html",
              restricted / "2026-03-31" / "SYN01" / ".papermill-tiny.abc" / "tiny.ipynb",
              restricted / "2026-03-31" / ".shared-b" / "model.pkl",  # as older kits named
              restricted / "2026-03-31" / ".staging-b" / "SYN01" / "tiny.html",  # their folders
              restricted / "2026-03-31" / "SYN01" / ".tiny.x8k2" / "tiny.ipynb",
              restricted / "2026-03-31" / "SYN01" / ".tiny.ipynb.k2j3.tmp",
              reports / ".index.html.k2j3.tmp",
              reports / ".publish-a" / "2026-03-31" / "SYN01" / "tiny.html"]
    for p in keep + debris:
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text("x")
    # a run killed between moving the old period aside and the new one in
    aside = reports / ".publish-b" / "replaced" / "2026-03-31" / "SYN01" / "tiny.html"
    aside.parent.mkdir(parents=True)
    aside.write_text("old")
    workspace.clear_debris(reports, restricted)
    assert all(p.is_file() for p in keep)
    assert not any(p.exists() for p in debris)
    assert (reports / "2026-03-31" / "SYN01" / "tiny.html").read_text() == "old", "put back"
    assert not list(reports.glob(".publish-*")) and not list(restricted.rglob(".run-*"))


def test_a_cache_entry_being_built_keeps_its_temporary_file(tmp_path: Path) -> None:
    """Attacker (a stranger's review): a run starting while a JupyterLab notebook wrote a
    model cache entry removed the notebook's temporary file as a killed run's, and the
    notebook failed (``FileNotFoundError``). A killed build's is still removed."""
    reports, restricted = tmp_path / "reports", tmp_path / "restricted"
    folder = model_cache.models_dir(model_cache.cache_root(restricted))
    folder.mkdir(parents=True)
    building, killed = "a" * 64, "b" * 64
    (folder / f"{killed}.lock").touch()  # its builder died: the lock is free
    for key in (building, killed):
        (folder / f".{key}.pkl.k2j3.tmp").write_bytes(b"half a pickle")
    with model_cache.locked(folder / f"{building}.lock"):
        workspace.clear_debris(reports, restricted)
        assert (folder / f".{building}.pkl.k2j3.tmp").is_file()
    assert not (folder / f".{killed}.pkl.k2j3.tmp").exists()
