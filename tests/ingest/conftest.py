"""Shared fixtures for the ingest tests: a clean hand-written input folder and helpers."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
TODAY = dt.date(2026, 1, 1)

HEADER_COLS = "CHILD,SEX,DOB,ETHNIC,UPN,MOTHER,MC_DOB"
EPISODE_COLS = "CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC,REASON_PLACE_CHANGE,HOME_POST,PL_POST,URN"


@pytest.fixture
def clean_dir(tmp_path: Path) -> Path:
    """A copy of the clean fixture folder (one LA, E1, two years of every source)."""
    dst = tmp_path / "input"
    shutil.copytree(FIXTURES / "clean", dst)
    return dst


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, str):
        path.write_text(text, encoding="utf-8", newline="")
    else:
        path.write_bytes(text)
    return path


def one_la(tmp_path: Path, files: dict[str, str | bytes], la: str = "E9") -> Path:
    """An input folder with one LA holding ``files`` (relative path -> content)."""
    root = tmp_path / "in"
    for rel, text in files.items():
        write(root / la / rel, text)
    return root


def problems_of(result, path_suffix: str, table: str | None = None) -> list[tuple]:
    """(line, column, value, rule) of every problem reported for one file."""
    out = []
    for f in result.qa["files"]:
        if f["path"].endswith(path_suffix) and (table is None or f["table"] == table):
            out += [(p["line"], p["column"], p["value"], p["rule"]) for p in f["problems"]]
    return sorted(out, key=lambda t: (t[0] or 0, str(t[1]), str(t[3])))


def file_entry(result, path_suffix: str, table: str | None = None) -> dict:
    hits = [f for f in result.qa["files"] if f["path"].endswith(path_suffix) and (table is None or f["table"] == table)]
    assert len(hits) == 1, hits
    return hits[0]
