"""Published figures parsed once per release: keyed by content, rebuilt when it changes."""

from __future__ import annotations

from pathlib import Path

import pytest

from csc_outcomes.reporting import published_cache


@pytest.fixture
def folder(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.setenv("CSC_OUTCOMES_CACHE", str(tmp_path / "cache"))
    pub = tmp_path / "published"
    pub.mkdir()
    (pub / "a.csv").write_text("x\n1\n")
    return pub


def test_built_once_then_read_from_the_cache(folder: Path) -> None:
    calls = []
    build = lambda: calls.append(1) or {"rows": len(calls)}
    assert published_cache.cached(folder, build) == {"rows": 1}
    assert published_cache.cached(folder, build) == {"rows": 1}
    assert calls == [1]
    (entry,) = published_cache.cache_folder().glob("published-*.pkl")
    assert entry.stat().st_mode & 0o077 == 0  # owner-only


def test_a_changed_file_is_parsed_afresh(folder: Path) -> None:
    before = published_cache.content_key(folder)
    (folder / "a.csv").write_text("x\n2\n")  # a newer release, same name
    assert published_cache.content_key(folder) != before
    assert published_cache.cached(folder, lambda: "new") == "new"


def test_an_unwritable_cache_costs_only_time(folder: Path, monkeypatch) -> None:
    blocker = folder.parent / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("CSC_OUTCOMES_CACHE", str(blocker / "cache"))
    assert published_cache.cached(folder, lambda: 42) == 42
