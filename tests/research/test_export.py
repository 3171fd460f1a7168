"""Research extracts: keyed pseudonyms, no raw identifiers or dates of birth, refusal
without a strong key kept away from the data, owner-only files."""

from __future__ import annotations

import stat

import pandas as pd
import pytest

from csc_outcomes.cli import main
from csc_outcomes.research.export import ExportError, export, key_bits, load_key
from csc_outcomes.warehouse import ingest_into

from .conftest import TODAY

KEY_A = b"Zq8vW3nR1xLp6TbY0cJ4uHs9eKa2Gm5D"  # 32 bytes, 32 distinct
KEY_B = b"f3a91c0b7e2d5846a9b1c3d5e7f90a2b4c6d8e0f1a3b5c7d9e1f2a4b6c8d0e2f"  # like `openssl rand -hex 32`


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


def test_weak_keys_are_refused(monkeypatch, tmp_path, wh, capsys):
    # today a 16-character key of one repeated letter is accepted
    for weak, why in ((b"a" * 16, "shorter than 32"), (b"a" * 64, "too regular"),
                      (b"ab" * 32, "too regular"), (b"passwordpasswordpasswordpassword", "too regular")):
        monkeypatch.setenv("CSC_OUTCOMES_PSEUDONYM_KEY", weak.decode())
        with pytest.raises(ExportError, match=why):
            load_key()
        assert main(["export", "--research", str(tmp_path / "out"), "--warehouse", str(wh)]) == 1
        assert why in capsys.readouterr().err
        assert not (tmp_path / "out").exists()
    # hand-worked: one repeated byte carries no information; 32 distinct bytes 32 x 5 bits
    assert key_bits(b"a" * 64) == 0
    assert key_bits(KEY_A) == pytest.approx(160)
    for strong in (KEY_A, KEY_B):
        monkeypatch.setenv("CSC_OUTCOMES_PSEUDONYM_KEY", strong.decode())
        assert load_key() == strong


def test_the_help_says_what_a_key_must_be(capsys):
    with pytest.raises(SystemExit):
        main(["export", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "32 bytes" in text and "openssl rand" in text and "links followed" in text


def test_a_key_file_linked_into_the_output_folder_is_refused(wh, tmp_path, monkeypatch):
    monkeypatch.delenv("CSC_OUTCOMES_PSEUDONYM_KEY", raising=False)
    out = tmp_path / "out"
    out.mkdir()
    (out / "key.bin").write_bytes(KEY_A)
    outside = tmp_path / "elsewhere" / "key"
    outside.parent.mkdir()
    outside.symlink_to(out / "key.bin")  # looks outside, is inside
    with pytest.raises(ExportError, match="inside the output folder"):
        load_key(outside, out_dir=out)
    assert main(["export", "--research", str(out), "--warehouse", str(wh), "--key-file", str(outside)]) == 1
    # the output folder itself reached through a link
    (tmp_path / "out-link").symlink_to(out)
    with pytest.raises(ExportError, match="inside the output folder"):
        load_key(out / "key.bin", out_dir=tmp_path / "out-link")
    # a link inside the output folder to a key kept elsewhere still travels with the data
    real = tmp_path / "safe" / "key"
    real.parent.mkdir()
    real.write_bytes(KEY_A)
    (out / "key-link").symlink_to(real)
    with pytest.raises(ExportError, match="inside the output folder"):
        load_key(out / "key-link", out_dir=out)
    assert load_key(real, out_dir=out) == KEY_A
    dangling = tmp_path / "dangling"
    dangling.symlink_to(tmp_path / "nothing")
    with pytest.raises(ExportError, match="not found"):
        load_key(dangling, out_dir=out)


def test_the_extract_is_owner_only(wh, tmp_path):
    out = tmp_path / "new" / "extract"
    written = export(wh, out, key=KEY_A)
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    assert written and all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in written)
    assert {p.name for p in out.iterdir()} == {p.name for p in written}
    loose = tmp_path / "loose"
    loose.mkdir(mode=0o755)
    loose.chmod(0o755)
    export(wh, loose, key=KEY_A)
    assert stat.S_IMODE(loose.stat().st_mode) == 0o700
