"""A value computed from a large file is remembered while the file is the same version."""

from __future__ import annotations

import os
import stat

from csc_outcomes.reporting import file_memo


def test_computed_once_per_version_of_the_file(tmp_path):
    source, memos, calls = tmp_path / "warehouse.duckdb", tmp_path / "r" / "digests", []
    source.write_text("v1")

    def compute():
        calls.append(1)
        return {"digest": source.read_text()}

    assert file_memo.remembered(memos, source, {"kind": "content"}, compute) == {"digest": "v1"}
    assert file_memo.remembered(memos, source, {"kind": "content"}, compute) == {"digest": "v1"}
    assert len(calls) == 1
    assert file_memo.remembered(memos, source, {"kind": "other"}, compute) == {"digest": "v1"}
    assert len(calls) == 2, "another kind of value is another memo"
    new = tmp_path / "new.duckdb"
    new.write_text("v2")
    os.replace(new, source)  # as ingest replaces a warehouse
    assert file_memo.remembered(memos, source, {"kind": "content"}, compute) == {"digest": "v2"}
    assert len(calls) == 3
    assert stat.S_IMODE(memos.stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "r").stat().st_mode) == 0o700


def test_a_value_computed_while_the_file_changed_is_not_kept(tmp_path):
    source, memos = tmp_path / "w.duckdb", tmp_path / "memos"
    source.write_text("v1")

    def changing():
        source.write_text("v1 and more")
        return "seen mid-write"

    assert file_memo.remembered(memos, source, {}, changing) == "seen mid-write"
    assert not memos.exists() or not list(memos.glob("*.json"))


def test_prune_removes_memos_of_versions_gone_and_damaged_ones(tmp_path):
    memos = tmp_path / "memos"
    kept, gone = tmp_path / "kept.duckdb", tmp_path / "gone.duckdb"
    kept.write_text("k")
    gone.write_text("g")
    file_memo.remembered(memos, kept, {}, lambda: 1)
    file_memo.remembered(memos, gone, {}, lambda: 2)
    gone.unlink()
    (memos / ("0" * 64 + file_memo.SUFFIX)).write_text("not json")
    assert file_memo.prune(memos) == 2
    assert len(list(memos.glob("*.json"))) == 1
    assert file_memo.remembered(memos, kept, {}, lambda: 99) == 1, "the current memo stays"
