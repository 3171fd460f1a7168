"""`csc-outcomes cache list|clear`: what the pooled models' cache holds, and emptying it."""

from __future__ import annotations

import pytest

from csc_outcomes.cli import main
from csc_outcomes.commands.cache import size_text
from csc_outcomes.reporting import model_cache

KEY = "0f" * 32


def test_list_then_clear_says_what_it_removed(tmp_path, capsys):
    restricted = tmp_path / "restricted"
    model_cache.fetch(model_cache.cache_root(restricted), KEY, lambda: "x" * 3000)
    size = model_cache.entry_path(model_cache.cache_root(restricted), KEY).stat().st_size
    assert main(["cache", "list", "--restricted-dir", str(restricted)]) == 0
    out = capsys.readouterr().out
    assert KEY in out and f"cache: 1 model(s), {size_text(size)}" in out
    assert main(["cache", "clear", "--restricted", str(restricted)]) == 0
    assert f"removed 1 model(s) and {size_text(size)}" in capsys.readouterr().out
    assert model_cache.entries(model_cache.cache_root(restricted)) == []
    assert main(["cache", "list", "--restricted-dir", str(restricted)]) == 0
    assert "cache: 0 model(s), 0 bytes" in capsys.readouterr().out


def test_an_absent_cache_is_empty_and_a_bad_action_is_a_usage_error(tmp_path, capsys):
    (tmp_path / "restricted").mkdir()
    assert main(["cache", "clear", "--restricted-dir", str(tmp_path / "restricted")]) == 0
    assert "removed 0 model(s) and 0 bytes" in capsys.readouterr().out
    assert main(["cache", "list", "--restricted-dir", str(tmp_path / "typo")]) == 0
    seen = capsys.readouterr()
    assert seen.out == "" and f"no restricted folder at {tmp_path / 'typo'}" in seen.err, \
        "a mistyped folder must not look like an empty cache"
    with pytest.raises(SystemExit) as exc:
        main(["cache", "drop"])
    assert exc.value.code == 2


def test_sizes_in_words():
    assert size_text(512) == "512 bytes"
    assert size_text(1536) == "1.5 KB"
    assert size_text(3 * 1024**3) == "3.0 GB"
