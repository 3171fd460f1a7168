"""A period's new tree: what is carried forward from the old one, and the swap."""

from __future__ import annotations

import hashlib
import json
import os
import signal
from pathlib import Path
from typing import Any

import pytest

from csc_outcomes import stopping
from csc_outcomes.reporting import publish, stages
from csc_outcomes.reporting.run import run

from conftest import PERIOD, published_agrees_with_manifest, tiny_config


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def test_only_vouched_unchanged_files_not_replaced_are_carried(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    files = {"2026-03-31/SYN01/a.html": "a1", "2026-03-31/SYN01/a.pdf": "a1 pdf",
             "2026-03-31/SYN01/b.html": "b1", "2026-03-31/SYN02/a.html": "a2",
             "2026-03-31/SYN02/b.html": "b2", "2026-03-31/SYN02/stray.html": "no record"}
    for rel, text in files.items():
        (reports / rel).parent.mkdir(parents=True, exist_ok=True)
        (reports / rel).write_text(text)
    records = [{"path": rel, "sha256": sha(text)} for rel, text in files.items()
               if "stray" not in rel]
    (reports / "2026-03-31/SYN02/b.html").write_text("tampered")  # changed since published
    notes: list[str] = []
    new_root = tmp_path / "new"
    # this run renders report 'a' for SYN01 (html only): both formats of it are replaced
    publish.carry_forward(reports, new_root, records, {("SYN01", "a")}, notes.append)
    carried = sorted(p.relative_to(new_root).as_posix() for p in new_root.rglob("*")
                     if p.is_file())
    assert carried == ["2026-03-31/SYN01/b.html", "2026-03-31/SYN02/a.html"]
    assert (reports / "2026-03-31/SYN01/b.html").stat().st_ino == \
        (new_root / "2026-03-31/SYN01/b.html").stat().st_ino, "linked, not copied"
    assert notes == ["not carried forward (changed since published): 2026-03-31/SYN02/b.html"]


def test_swap_puts_the_new_tree_in_place_and_the_old_in_its_place(tmp_path: Path) -> None:
    old, new = tmp_path / "2026-03-31", tmp_path / ".publish-x" / "2026-03-31"
    old.mkdir()
    (old / "manifest.json").write_text("old")
    new.mkdir(parents=True)
    (new / "manifest.json").write_text("new")
    publish.swap_in(new, old, tmp_path / ".publish-x" / "replaced" / "2026-03-31")
    assert (old / "manifest.json").read_text() == "new"
    assert (new / "manifest.json").read_text() == "old"


def test_without_the_exchange_the_old_tree_is_moved_aside_first(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(publish, "exchange", lambda a, b: False)
    old, new = tmp_path / "2026-03-31", tmp_path / ".publish-x" / "2026-03-31"
    aside = tmp_path / ".publish-x" / "replaced" / "2026-03-31"
    old.mkdir()
    (old / "manifest.json").write_text("old")
    new.mkdir(parents=True)
    (new / "manifest.json").write_text("new")
    publish.swap_in(new, old, aside)
    assert (old / "manifest.json").read_text() == "new"
    assert (aside / "manifest.json").read_text() == "old"


def test_a_first_publication_is_one_rename(tmp_path: Path) -> None:
    new = tmp_path / ".publish-x" / "2026-03-31"
    new.mkdir(parents=True)
    publish.swap_in(new, tmp_path / "2026-03-31", tmp_path / "aside")
    assert (tmp_path / "2026-03-31").is_dir() and not new.exists()


@pytest.mark.slow
def test_a_run_stopped_while_it_builds_the_new_tree_leaves_no_work_folder(
        tiny_setup: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Attacker (a reviewer's find): Ctrl-C once the new tree is built, before the swap.
    Before, its work folder (``reports/.publish-<run>/``, every report of the period)
    stayed in the published folder until the next run. Now it goes; the period is the
    one published before."""
    run(tiny_config(tiny_setup, tmp_path, ["SYN01"]))
    manifest = tmp_path / "reports" / PERIOD / "manifest.json"
    before = manifest.read_bytes()
    real = stages.build_period

    def built_then_stopped(*args: Any) -> Any:
        real(*args)
        raise KeyboardInterrupt

    monkeypatch.setattr(stages, "build_period", built_then_stopped)
    with pytest.raises(KeyboardInterrupt):
        run(tiny_config(tiny_setup, tmp_path, ["SYN01"], force=True))
    assert not list((tmp_path / "reports").glob(".publish-*"))
    assert manifest.read_bytes() == before
    assert published_agrees_with_manifest(tmp_path / "reports" / PERIOD)


@pytest.mark.slow
def test_a_stop_during_the_swap_waits_for_the_swap_and_the_index(
        tiny_setup: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Attacker (a reviewer's find): SIGTERM as the new tree is swapped in. Before, it
    could leave the old tree in ``reports/.publish-<run>/`` or, where there is no
    exchange, the period missing until the next run. Now the swap, the clean-up and the
    index are finished first; then the run stops (exit 143 from the command)."""
    run(tiny_config(tiny_setup, tmp_path, ["SYN01"]))
    manifest = tmp_path / "reports" / PERIOD / "manifest.json"
    first = json.loads(manifest.read_text())["run_id"]
    real = publish.swap_in

    def swap_under_sigterm(*args: Any) -> None:
        os.kill(os.getpid(), signal.SIGTERM)
        sum(range(100_000))  # Python code: the handler runs here, and holds the stop
        real(*args)

    monkeypatch.setattr(publish, "swap_in", swap_under_sigterm)
    with stopping.handled(), pytest.raises(stopping.Terminated):
        run(tiny_config(tiny_setup, tmp_path, ["SYN01"], force=True))
    assert json.loads(manifest.read_text())["run_id"] != first  # this run's, whole
    assert published_agrees_with_manifest(tmp_path / "reports" / PERIOD)
    assert not list((tmp_path / "reports").glob(".publish-*"))
    assert (tmp_path / "reports" / "index.html").is_file()
