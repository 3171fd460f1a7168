"""A period's new tree: what is carried forward from the old one, and the swap."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from csc_outcomes.reporting import publish
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
def test_a_run_stopped_while_it_publishes_leaves_the_period_and_no_work_folder(
        tiny_setup: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Attacker (a reviewer's find): Ctrl-C as the new tree is swapped in. Before, its
    work folder (``reports/.publish-<run>/``, every report of the period) stayed in the
    published folder until the next run. Now it goes; the period is the one published."""
    run(tiny_config(tiny_setup, tmp_path, ["SYN01"]))
    manifest = tmp_path / "reports" / PERIOD / "manifest.json"
    before = manifest.read_bytes()

    def stopped(*_args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(publish, "swap_in", stopped)
    with pytest.raises(KeyboardInterrupt):
        run(tiny_config(tiny_setup, tmp_path, ["SYN01"], force=True))
    assert not list((tmp_path / "reports").glob(".publish-*"))
    assert manifest.read_bytes() == before
    assert published_agrees_with_manifest(tmp_path / "reports" / PERIOD)
