"""No reader process outlives the ingest that started it, however the ingest ends."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from csc_outcomes import synth


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_killing_ingest_leaves_no_reader_behind(tmp_path: Path, procs) -> None:
    inp = tmp_path / "in"
    synth.generate(inp, n_las=3, seed=3, scale=0.3, progress=False)
    cmd = [sys.executable, "-m", "csc_outcomes", "ingest", str(inp), "--warehouse",
           str(tmp_path / "w.duckdb"), "--jobs", "2", "--quiet"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    workers: set[int] = set()
    try:
        deadline = time.monotonic() + 120
        while len(workers) < 2 and proc.poll() is None and time.monotonic() < deadline:
            workers = procs.children(proc.pid)
            time.sleep(0.02)
        assert len(workers) >= 2, "the ingest ended before its two readers were seen"
        os.kill(proc.pid, signal.SIGKILL)  # mid-read, as an OOM kill or a power cut would
        proc.wait()
        deadline = time.monotonic() + 10
        while any(procs.alive(w) for w in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        survivors = [w for w in workers if procs.alive(w)]
        assert not survivors, f"reader processes outlived the ingest: {survivors}"
    finally:
        for w in (w for w in workers if procs.alive(w)):
            os.kill(w, signal.SIGKILL)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
