"""Discovery: an entry that is not a regular file where a data file belongs is refused by
name (finding 6: today a folder, FIFO or dangling link in place of episodes.csv is
skipped silently and the ingest exits 0), LA codes are never paths, raw files are hashed."""

from __future__ import annotations

import hashlib
import os

import pytest

from csc_outcomes.cli import main
from csc_outcomes.ingest import UsageError, ingest_folder, la_code
from csc_outcomes.ingest.discover import files_in

from .conftest import TODAY, file_entry

EPISODES = "E1/ssda903/2025/episodes.csv"


def _replace_episodes(clean_dir, kind: str):
    """``EPISODES`` replaced by a folder, a FIFO or a dangling link."""
    path = clean_dir / EPISODES
    path.unlink()
    if kind == "folder":
        path.mkdir()
    elif kind == "fifo":
        os.mkfifo(path)
    else:
        path.symlink_to(clean_dir / "nowhere.csv")
    return path


@pytest.mark.parametrize(("kind", "said"), [("folder", "a folder where a data file belongs"),
                                            ("fifo", "not a regular file"),
                                            ("dangling", "which does not exist")])
def test_a_non_regular_entry_in_place_of_a_data_file_is_refused_by_name(clean_dir, tmp_path, capsys,
                                                                       kind, said):
    _replace_episodes(clean_dir, kind)
    result = ingest_folder(clean_dir, today=TODAY, jobs=1)
    assert result.exit_code == 1
    entry = file_entry(result, EPISODES)
    assert entry["status"] == "rejected" and entry["problems"][0]["rule"] == "not_a_file"
    assert said in entry["problems"][0]["message"]
    assert EPISODES not in set(result.input_files["path"])
    wh = tmp_path / "w.duckdb"
    rc = main(["ingest", str(clean_dir), "--warehouse", str(wh), "--today", TODAY.isoformat(), "--jobs", "2"])
    assert rc == 1  # with reader processes too: a FIFO is never opened (it would block)
    assert f"REJECTED FILE {EPISODES}" in capsys.readouterr().out
    assert not wh.exists()


def test_links_to_regular_files_are_read_and_links_to_folders_refused(clean_dir, tmp_path):
    real = tmp_path / "kept" / "episodes.csv"
    real.parent.mkdir()
    (clean_dir / EPISODES).rename(real)
    (clean_dir / EPISODES).symlink_to(real)
    result = ingest_folder(clean_dir, today=TODAY, jobs=1)
    assert result.exit_code == 0 and file_entry(result, EPISODES)["status"] == "read"
    (clean_dir / "E1/ssda903/2026").symlink_to(clean_dir / "E1/ssda903/2025", target_is_directory=True)
    assert files_in(clean_dir / "E1")[1] == [clean_dir / "E1/ssda903/2026"]
    assert ingest_folder(clean_dir, today=TODAY, jobs=1).exit_code == 1


def test_hidden_entries_are_still_ignored(clean_dir):
    os.mkfifo(clean_dir / "E1/ssda903/2025/.lock")
    (clean_dir / "E1/.cache").mkdir()
    files, odd = files_in(clean_dir / "E1")
    assert odd == [] and all(not p.name.startswith(".") for p in files)


def test_input_files_record_every_raw_file_read(clean_dir):
    (clean_dir / "E1/notes.txt").write_text("not a return")  # ignored: not behind the warehouse
    result = ingest_folder(clean_dir, today=TODAY, jobs=1)
    files = result.input_files
    on_disk = sorted(p.relative_to(clean_dir).as_posix() for p in clean_dir.rglob("*")
                     if p.is_file() and p.name != "notes.txt")
    assert list(files["path"]) == on_disk and set(files["la_code"]) == {"E1"}
    row = files[files["path"] == EPISODES].iloc[0]
    data = (clean_dir / EPISODES).read_bytes()
    assert row["size"] == len(data) and row["sha256"] == hashlib.sha256(data).hexdigest()
    assert result.qa["input_hash"] == result.input_hash


@pytest.mark.parametrize("text", ["../../escape", "SYN01/..", "a b", "", ".", "E1;rm", "é1"])
def test_an_la_code_is_never_a_path(text):
    with pytest.raises(UsageError, match="not an LA code"):
        la_code(text)


def test_la_codes_are_upper_cased():
    assert la_code(" syn01 ") == "SYN01" and la_code("E09000001") == "E09000001"
