"""The model cache: owner-only entries, one build per entry under a lock, nothing left
looking done by a killed build, and a clear that leaves a build in progress alone."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from pathlib import Path

import pytest

from csc_outcomes import atomic
from csc_outcomes.reporting import model_cache

KEY = "ab" * 32
OTHER = "cd" * 32


def counted_build(counter: Path, value: object, pause: float = 0.0):
    """A build that appends a line to ``counter`` for each call, then waits ``pause``."""
    def build():
        with open(counter, "a") as fh:
            fh.write("built\n")
        time.sleep(pause)
        return value
    return build


def test_built_once_then_read_owner_only(tmp_path):
    counter = tmp_path / "count"
    first = model_cache.fetch(tmp_path / "cache", KEY, counted_build(counter, {"fit": [1, 2]}))
    second = model_cache.fetch(tmp_path / "cache", KEY, counted_build(counter, "other"))
    assert first == ({"fit": [1, 2]}, True) and second == ({"fit": [1, 2]}, False)
    assert counter.read_text() == "built\n"
    entry = model_cache.entry_path(tmp_path / "cache", KEY)
    assert entry.stat().st_mode & 0o777 == 0o600, "child-level frames: owner only"
    for folder in (tmp_path / "cache", entry.parent):
        assert folder.stat().st_mode & 0o777 == 0o700


def test_a_key_is_never_a_path(tmp_path):
    with pytest.raises(ValueError, match="not a model cache key"):
        model_cache.entry_path(tmp_path, "../../etc/passwd")


def fetch_in_child(cache: str, counter: str) -> None:
    value, _ = model_cache.fetch(cache, KEY, counted_build(Path(counter), "fit", pause=1.0))
    with open(counter + ".read", "a") as fh:
        fh.write(f"{value}\n")


def test_two_processes_asking_at_once_build_once(tmp_path):
    ctx = multiprocessing.get_context("fork")
    counter = tmp_path / "count"
    procs = [ctx.Process(target=fetch_in_child, args=(str(tmp_path / "cache"), str(counter)))
             for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(30)
        assert p.exitcode == 0
    assert counter.read_text() == "built\n", "the second process waited, then read"
    assert Path(f"{counter}.read").read_text() == "fit\nfit\n"


def build_until_killed(cache: str, started: str) -> None:
    def build():
        Path(started).write_text("building")
        time.sleep(60)
        return "never"
    model_cache.fetch(cache, KEY, build)


def test_a_build_killed_midway_leaves_no_entry_and_no_lock(tmp_path):
    ctx = multiprocessing.get_context("fork")
    started = tmp_path / "started"
    child = ctx.Process(target=build_until_killed, args=(str(tmp_path / "cache"), str(started)))
    child.start()
    deadline = time.monotonic() + 30
    while not started.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(child.pid, signal.SIGKILL)
    child.join(10)
    assert not model_cache.entry_path(tmp_path / "cache", KEY).exists()
    assert model_cache.entries(tmp_path / "cache") == []
    t0 = time.monotonic()
    value, built = model_cache.fetch(tmp_path / "cache", KEY, lambda: "rebuilt")
    assert (value, built) == ("rebuilt", True) and time.monotonic() - t0 < 5, "the lock was freed"


def test_clear_removes_entries_and_debris_but_not_a_build_in_progress(tmp_path):
    cache = tmp_path / "cache"
    model_cache.fetch(cache, KEY, lambda: "x" * 1000)
    folder = model_cache.models_dir(cache)
    # what a killed build leaves: a temporary file from atomic, never named like an entry
    with pytest.raises(KeyboardInterrupt), atomic.atomic_path(folder / f"{KEY}.pkl") as tmp:
        tmp.write_bytes(b"half")
        leftover = folder / f".{KEY}.pkl.keep.tmp"
        os.link(tmp, leftover)
        raise KeyboardInterrupt
    busy_tmp = folder / f".{OTHER}.pkl.x.tmp"
    busy_tmp.write_bytes(b"being written")
    entry_size = model_cache.entry_path(cache, KEY).stat().st_size
    with model_cache.locked(folder / f"{OTHER}.lock"):
        assert model_cache.clear(cache) == (1, entry_size + 4, 1)
    # the empty lock files stay: removing one a builder is taking lets a second builder
    # lock a new file of the same name and build the same entry at once
    locks = sorted([f"{KEY}.lock", f"{OTHER}.lock"])
    assert sorted(p.name for p in folder.iterdir()) == [f".{OTHER}.pkl.x.tmp", *locks]
    assert model_cache.clear(cache) == (0, len(b"being written"), 0)
    assert sorted(p.name for p in folder.iterdir()) == locks
    assert model_cache.clear(tmp_path / "none") == (0, 0, 0)


def test_code_version_follows_the_sources_and_the_package_version(tmp_path, monkeypatch):
    fake = tmp_path / "fake.py"
    fake.write_text("from csc_outcomes import calendar\nX = 1\n")
    real = model_cache.source_file
    monkeypatch.setattr(model_cache, "source_file",
                        lambda name: fake if name == "csc_outcomes.fake" else real(name))
    model_cache.module_closure.cache_clear()
    assert list(model_cache.module_closure(("csc_outcomes.fake",))) == [
        "csc_outcomes", "csc_outcomes.calendar", "csc_outcomes.fake"]
    before = model_cache.code_version(["csc_outcomes.fake"])
    assert model_cache.code_version(["csc_outcomes.fake"]) == before
    fake.write_text("from csc_outcomes import calendar\nX = 22\n")
    changed = model_cache.code_version(["csc_outcomes.fake"])
    assert changed != before
    monkeypatch.setattr(model_cache, "__version__", "99.0")
    assert model_cache.code_version(["csc_outcomes.fake"]) not in (before, changed)
    model_cache.module_closure.cache_clear()


def test_remembered_until_its_source_is_gone(tmp_path):
    source = tmp_path / "w.duckdb"
    source.write_text("x")
    calls = []
    compute = lambda: calls.append(1) or {"t": "d"}
    assert model_cache.remembered(tmp_path / "cache", source, {"id": 1}, compute) == {"t": "d"}
    assert model_cache.remembered(tmp_path / "cache", source, {"id": 1}, compute) == {"t": "d"}
    assert len(calls) == 1
    assert model_cache.prune(tmp_path / "cache") == 0
    source.write_text("a new version")
    assert model_cache.prune(tmp_path / "cache") == 1
    assert model_cache.remembered(tmp_path / "cache", source, {"id": 1}, compute) == {"t": "d"}
    assert len(calls) == 2
    source.unlink()
    assert model_cache.prune(tmp_path / "cache") == 1
    assert list(model_cache.models_dir(tmp_path / "cache").iterdir()) == []


class Planted:
    """What an attacker's pickle does when loaded: leaves a mark."""

    def __init__(self, mark: Path):
        self.mark = mark

    def __reduce__(self):
        return (Path.touch, (self.mark,))


@pytest.mark.parametrize("loosen", ["models folder 0777", "cache folder 0777", "entry 0644"])
def test_an_entry_others_could_have_written_is_never_unpickled(tmp_path, loosen):
    """Unpickling runs code: a tampered entry in a loosened tree must not be loaded."""
    import pickle

    cache = tmp_path / "cache"
    model_cache.fetch(cache, KEY, lambda: "the real model")
    entry, mark = model_cache.entry_path(cache, KEY), tmp_path / "pwned"
    entry.write_bytes(pickle.dumps(Planted(mark)))
    target = {"models folder 0777": (entry.parent, 0o777), "cache folder 0777": (cache, 0o777),
              "entry 0644": (entry, 0o644)}[loosen]
    os.chmod(*target)
    why = "others can read it" if loosen == "entry 0644" else "others could have written it"
    with pytest.raises(model_cache.UntrustedEntry, match=f"{why}.*cache clear --restricted-dir"):
        model_cache.fetch(cache, KEY, lambda: "never built")
    assert not mark.exists()
    os.chmod(target[0], 0o700 if target[0].is_dir() else 0o600)
    model_cache.fetch(cache, KEY, lambda: "unused")  # the same tree, owner-only again: read
    assert mark.exists(), "the check, not the pickle, was what stopped it"


@pytest.mark.parametrize("damage", ["truncated", "not a pickle", "pandas' own error"])
def test_a_damaged_entry_is_built_again_not_a_failed_fit(tmp_path, damage, monkeypatch):
    """Attacker (a stranger's review): a truncated entry failed the run as "the pooled
    models could not be fitted (UnpicklingError)". It is the user's own file, so it is
    built again under its lock and replaced; the run goes on."""
    cache, counter = tmp_path / "cache", tmp_path / "count"
    model_cache.fetch(cache, KEY, counted_build(counter, {"fit": "x" * 5000}))
    entry = model_cache.entry_path(cache, KEY)
    if damage == "pandas' own error":  # a second review's: bytes that unpickle into a bad frame
        def assertion(fh):
            raise AssertionError("Number of manager items must equal union of block items")
        monkeypatch.setattr(model_cache.pickle, "load", assertion)
    else:
        entry.write_bytes(entry.read_bytes()[:1000] if damage == "truncated" else b"not a pickle")
    with pytest.raises(model_cache.DamagedEntry, match=f"{entry.name} could not be read"):
        model_cache.load(entry, cache)
    value, built = model_cache.fetch(cache, KEY, counted_build(counter, {"fit": "again"}))
    assert (value, built) == ({"fit": "again"}, True) and counter.read_text().count("built") == 2
    monkeypatch.undo()
    assert model_cache.load(entry, cache) == {"fit": "again"}


def test_refresh_builds_again_and_replaces_the_entry(tmp_path):
    counter = tmp_path / "count"
    model_cache.fetch(tmp_path / "cache", KEY, counted_build(counter, "old"))
    model_cache.entry_path(tmp_path / "cache", KEY).write_bytes(b"not a pickle")
    assert model_cache.fetch(tmp_path / "cache", KEY, counted_build(counter, "new"),
                             refresh=True) == ("new", True)
    assert model_cache.fetch(tmp_path / "cache", KEY, counted_build(counter, "x")) == ("new", False)
    assert counter.read_text() == "built\nbuilt\n"


def test_a_held_entry_is_the_loaded_object_until_its_file_is_replaced(tmp_path, monkeypatch):
    """The run's fork server holds its models (``hold``) so that kernels forked from it
    need not unpickle them: a held entry is that object; a replaced file is read again;
    a loosened tree is refused even for a held entry."""
    monkeypatch.setattr(model_cache, "_HELD", {})
    cache = tmp_path / "cache"
    model_cache.fetch(cache, KEY, lambda: {"fit": "first"})
    entry = model_cache.entry_path(cache, KEY)
    assert model_cache.load(entry, cache) is not model_cache.load(entry, cache)  # unpickled
    model_cache.hold(entry, cache)
    held = model_cache.load(entry, cache)
    assert held == {"fit": "first"} and model_cache.load(entry, cache) is held
    model_cache.fetch(cache, KEY, lambda: {"fit": "second"}, refresh=True)
    assert model_cache.load(entry, cache) == {"fit": "second"}
    model_cache.hold(entry, cache)
    os.chmod(entry, 0o644)
    with pytest.raises(model_cache.UntrustedEntry):
        model_cache.load(entry, cache)


def test_holding_only_some_entries_lets_go_of_the_others(tmp_path, monkeypatch):
    """A worker preparing report after report holds the models of the report in hand:
    one it held before and still needs is the same object, one it no longer needs is
    let go of (read from disk again)."""
    monkeypatch.setattr(model_cache, "_HELD", {})
    cache = tmp_path / "cache"
    other = "b" * 64
    model_cache.fetch(cache, KEY, lambda: {"fit": "kept"})
    model_cache.fetch(cache, other, lambda: {"fit": "let go"})
    kept, gone = model_cache.entry_path(cache, KEY), model_cache.entry_path(cache, other)
    model_cache.hold_only([kept, gone], cache)
    first = model_cache.load(kept, cache)
    assert model_cache.load(gone, cache) is model_cache.load(gone, cache)
    model_cache.hold_only([kept], cache)
    assert model_cache.load(kept, cache) is first
    assert model_cache.load(gone, cache) is not model_cache.load(gone, cache)
    assert len(model_cache._HELD) == 1
