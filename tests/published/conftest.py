"""Small EES-shaped files, written by hand, for the published-statistics tests."""

from __future__ import annotations

from pathlib import Path

import pytest

STD = ("time_period,time_identifier,geographic_level,country_code,country_name,region_code,"
       "region_name,old_la_code,new_la_code,la_name")
C1_HEADER = (STD + ",category,referral_count,rereferral_count,rereferral_percent,"
             "no_further_action_count,no_further_action_percent")


def c1_rows(*rows: str) -> str:
    """A c1 referrals file with ``rows`` after the header."""
    return "\n".join([C1_HEADER, *rows]) + "\n"


ENGLAND_2025 = ("2025,Reporting year,National,E92000001,England,,,,,,Referrals and Re-referrals,"
                "632830,142900,22.6,41340,6.5")
LA_A_2025 = ('2025,Reporting year,Local authority,E92000001,England,E12000001,North East,841,'
             'E06000047,"Durham, County",Referrals and Re-referrals,6000,c,c,300,5.0')
LA_B_2025 = ("2025,Reporting year,Local authority,E92000001,England,E12000001,North East,840,"
             "E06000001,Hartlepool,Referrals and Re-referrals,1000,250,25.0,x,x")
SN_HEADER = "old_la_code,la_name,region_ind,region_name," + ",".join(
    f"SN_{i},SN_{i}P" for i in range(1, 11))


def sn_row(old: str, name: str, neighbours: list[str]) -> str:
    return f"{old},{name},1,North East," + ",".join(f"{n},Close" for n in neighbours)


@pytest.fixture
def tiny_published(tmp_path: Path) -> Path:
    """A published folder with one c1 file (England and two LAs) and a neighbour model."""
    folder = tmp_path / "published"
    folder.mkdir()
    (folder / "c1_children_in_need_referrals_and_rereferrals_2013_to_2025.csv").write_text(
        c1_rows(ENGLAND_2025, LA_A_2025, LA_B_2025), encoding="utf-8")
    (folder / "sn_model_2025_wide.csv").write_text(
        SN_HEADER + "\n" + sn_row("841", "Durham", ["840"] * 10) + "\n"
        + sn_row("840", "Hartlepool", ["841"] * 10) + "\n", encoding="utf-8")
    return folder
