"""`published update`: a newer release replaces the old one only when it is whole and newer."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from csc_outcomes.published.contract import PublishedFileError
from csc_outcomes.published.release import add_release
from csc_outcomes.published.tidy import published_measures

from .conftest import ENGLAND_2025, LA_A_2025, LA_B_2025, c1_rows

OLD = "c1_children_in_need_referrals_and_rereferrals_2013_to_2025.csv"
NEW = "c1_children_in_need_referrals_and_rereferrals_2013_to_2026.csv"


def test_next_years_file_replaces_this_years(tiny_published: Path, tmp_path: Path) -> None:
    new = tmp_path / NEW
    new.write_text(c1_rows(ENGLAND_2025, ENGLAND_2025.replace("2025,", "2026,", 1)
                           .replace("632830", "640000"), LA_A_2025, LA_B_2025), encoding="utf-8")
    added = add_release([new], tiny_published)
    assert added[0].replaced == OLD and added[0].last_year == 2026
    assert not (tiny_published / OLD).exists()
    sums = (tiny_published / "SHA256SUMS").read_text()
    assert f"{hashlib.sha256(new.read_bytes()).hexdigest()}  {NEW}" in sums
    table = published_measures(tiny_published, measure_ids=["referrals"])
    assert 640000 in set(table["numerator"])


def test_a_malformed_release_changes_nothing(tiny_published: Path, tmp_path: Path) -> None:
    before = {p.name: p.read_bytes() for p in tiny_published.iterdir()}
    new = tmp_path / NEW
    new.write_text(c1_rows(ENGLAND_2025, LA_B_2025.replace(",1000,", ",lots,")), encoding="utf-8")
    with pytest.raises(PublishedFileError, match=r"line 3.*referral_count.*lots"):
        add_release([new], tiny_published)
    assert {p.name: p.read_bytes() for p in tiny_published.iterdir()} == before


def test_an_older_release_and_an_unknown_file_are_refused(tiny_published: Path, tmp_path: Path) -> None:
    older = tmp_path / "c1_children_in_need_referrals_and_rereferrals_2013_to_2024.csv"
    older.write_text(c1_rows(ENGLAND_2025.replace("2025,", "2024,", 1)), encoding="utf-8")
    with pytest.raises(PublishedFileError, match="not a newer release"):
        add_release([older], tiny_published)
    stray = tmp_path / "my_own_figures.csv"
    stray.write_text(c1_rows(ENGLAND_2025), encoding="utf-8")
    with pytest.raises(ValueError, match="not a file of any publication"):
        add_release([stray], tiny_published)
