"""The `ingest` command: exit codes, QA report and messages, and no traceback for bad data."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from csc_outcomes.cli import main

from .conftest import TODAY, write


def test_cli_exit_codes(clean_dir, tmp_path, capsys):
    wh = tmp_path / "w.duckdb"
    args = ["ingest", str(clean_dir), "--warehouse", str(wh), "--today", TODAY.isoformat()]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "41 rows read" in out and "QA report" in out
    qa = json.loads((tmp_path / "w.qa.json").read_text())
    for f in qa["files"]:
        assert f["rows_read"] == f["rows_accepted"] + f["rows_rejected"]
        assert set(f) >= {"path", "table", "rows_read", "rows_accepted", "rows_rejected", "problems"}
        for p in f["problems"]:
            assert set(p) >= {"line", "column", "value", "rule", "message"}
    # a rejected row: still 0, but 1 with --strict
    write(clean_dir / "E1/ssda903/2025/sw_episodes.csv",
          "CHILD,DOB,SW_ID,SW_DECOM,SW_DEC,SW_REASON\nC4,05/05/2015,SW1,not a date,,\n")
    assert main([*args, "--quiet"]) == 0
    assert main([*args, "--strict", "--qa-report", str(tmp_path / "qa2.json")]) == 1
    assert (tmp_path / "qa2.json").exists()
    # a rejected file: 1
    write(clean_dir / "E1/ssda903/2025/header.csv", b"\x00\x01garbage")
    assert main(args) == 1
    cap = capsys.readouterr()
    assert "REJECTED FILE E1/ssda903/2025/header.csv" in cap.out
    assert "warehouse NOT written" in cap.err
    # usage errors: 2
    assert main(["ingest", str(tmp_path / "missing"), "--warehouse", str(wh)]) == 2
    assert main([*args, "--la", "ZZ9"]) == 2
    assert main([*args, "--today", "yesterday"]) == 2
    with pytest.raises(SystemExit) as exc:
        main(["ingest"])
    assert exc.value.code == 2


def test_no_traceback_for_data_problems(tmp_path):
    root = tmp_path / "in"
    write(root / "E2/ssda903/2024/episodes.csv", b"\xff\xfe\x00\x00not,a\ncsv")
    write(root / "E2/cin/2024/x.xml", "<Message><Children><Child><ChildIdentifiers>")
    write(root / "E2/ssda903/2024/header.xml", "<EXPSSDA903><CHILD><CHILDID>1</CHILDID></CHILD>")
    env = {**os.environ}
    env.pop("CSC_OUTCOMES_DEBUG", None)
    p = subprocess.run([sys.executable, "-m", "csc_outcomes", "ingest", str(root), "--warehouse",
                        str(tmp_path / "w.duckdb")], capture_output=True, text=True, env=env, check=False)
    assert p.returncode == 1, p.stderr
    assert "Traceback" not in p.stderr + p.stdout
    assert "E2/cin/2024/x.xml" in p.stdout
