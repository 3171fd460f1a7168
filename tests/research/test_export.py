"""Research extracts: keyed pseudonyms, no raw identifiers or dates of birth, refusal without a key."""

from __future__ import annotations

import pandas as pd
import pytest

from csc_outcomes.cli import main
from csc_outcomes.research.export import ExportError, export, load_key
from csc_outcomes.warehouse import ingest_into

from .conftest import TODAY

KEY_A = b"a-very-long-secret-key-1"
KEY_B = b"another-long-secret-key2"


@pytest.fixture
def wh(clean_dir, tmp_path):
    path = tmp_path / "w.duckdb"
    ingest_into(clean_dir, path, today=TODAY, progress=False)
    return path


def test_pseudonyms_keyed_and_no_raw_identifiers(wh, tmp_path):
    export(wh, tmp_path / "a", key=KEY_A)
    export(wh, tmp_path / "b", key=KEY_B)
    ha = pd.read_parquet(tmp_path / "a/header.parquet")
    hb = pd.read_parquet(tmp_path / "b/header.parquet")
    raw_ids = {"C1", "C2", "C3", "C4", "K1", "K2", "A123456789012", "B123456789012"}
    assert not set(ha["CHILD"]) & raw_ids
    assert set(ha["CHILD"]).isdisjoint(set(hb["CHILD"]))                   # different key, different pseudonym
    assert ha["CHILD"].tolist() == pd.read_parquet(tmp_path / "a/header.parquet")["CHILD"].tolist()
    assert (ha["DOB"].dt.day == 1).all()
    assert pd.Timestamp("2010-02-01") in set(ha["DOB"])                       # 01/02/2010 -> Feb 2010
    ep = pd.read_parquet(tmp_path / "a/episodes.parquet")
    assert set(ep["HOME_POST"].dropna()) == {"AB1"}
    assert "source_file" not in ep.columns
    # CHILD (903) and contacts' CHILD share the LA scope; UPN links to the attendance feed
    att = pd.read_parquet(tmp_path / "a/attendance.parquet")
    assert len(set(ha["UPN"].dropna()) & set(att["UPN"])) == 2  # A1234..., B1234... link
    for p in (tmp_path / "a").glob("*.parquet"):
        df = pd.read_parquet(p)
        for c in df.columns:
            vals = set(df[c].dropna().astype(str))
            assert not vals & {"A123456789012", "B123456789012", "C123456789012", "SW1", "CT1", "NOBODY"}, (p.name, c)
            if c in ("CHILD", "LAchildID", "UPN", "FormerUPN", "SW_ID", "contact_id"):
                assert not vals & raw_ids and all(len(v) == 32 for v in vals), (p.name, c)
            if c in ("DOB", "PersonBirthDate", "MC_DOB"):
                assert (df[c].dropna().dt.day == 1).all()
    assert (tmp_path / "a/data_dictionary.md").read_text().count("keyed pseudonym") > 5
    assert (tmp_path / "a/data_dictionary.csv").exists()


def test_refuses_without_key(wh, tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("CSC_OUTCOMES_PSEUDONYM_KEY", raising=False)
    with pytest.raises(ExportError):
        load_key()
    assert main(["export", "--research", str(tmp_path / "out"), "--warehouse", str(wh)]) == 1
    assert "no pseudonym key" in capsys.readouterr().err
    inside = tmp_path / "out" / "key.txt"
    inside.parent.mkdir()
    inside.write_bytes(KEY_A)
    assert main(["export", "--research", str(tmp_path / "out"), "--warehouse", str(wh), "--key-file", str(inside)]) == 1
    monkeypatch.setenv("CSC_OUTCOMES_PSEUDONYM_KEY", KEY_A.decode())
    assert main(["export", "--research", str(tmp_path / "out2"), "--warehouse", str(wh)]) == 0
    assert not list((tmp_path / "out2").glob("*key*"))
