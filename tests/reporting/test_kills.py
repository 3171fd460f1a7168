"""Runs at once and runs killed: what is published always agrees with its manifest.

One period, the tiny notebook: a run publishes; a second run started meanwhile stops
at once naming it; then runs are killed (SIGKILL, as an OOM kill or a power cut would)
during the notebooks, after the render, and twice during publishing. After each kill
every file under ``reports/<period>/`` is in the manifest with its hash and vice
versa, and no notebook kernel outlives its run; the next run clears the debris and
completes.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from csc_outcomes.reporting.config import RunError
from csc_outcomes.reporting.run import run
from csc_outcomes.reporting.workspace import KILL_ENV

from conftest import BODY, PERIOD, make_notebook, published_agrees_with_manifest, tiny_config

DRIVER = """
import json, sys
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from conftest import tiny_config
from csc_outcomes.reporting.config import RunError
from csc_outcomes.reporting.run import run
setup, out, las, extra = Path(sys.argv[2]), Path(sys.argv[3]), sys.argv[4].split(","), json.loads(sys.argv[5])
try:
    run(tiny_config(setup, out, las, extra_parameters=extra, force=True))  # no reuse: kill each stage
except RunError as exc:
    sys.exit(f"run failed: {exc}")
"""


def start(setup: Path, out: Path, las: str, *, kill_at: str = "", **extra: str) -> subprocess.Popen:
    """A run in its own process (optionally told to die at a named point)."""
    env = {**os.environ, KILL_ENV: kill_at}
    return subprocess.Popen([sys.executable, "-c", DRIVER, str(Path(__file__).parent), str(setup),
                             str(out), las, json.dumps(extra)], env=env)


def wait_until(condition, what: str, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def run_id(out: Path) -> str:
    return json.loads((out / "reports" / PERIOD / "manifest.json").read_text())["run_id"]


def debris(out: Path) -> list[Path]:
    return sorted([*out.rglob(".run-*"), *out.rglob(".papermill-*"), *out.rglob(".publish-*"),
                   *out.rglob(".*.tmp")])


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_runs_at_once_and_killed_runs(tiny_setup, tmp_path, procs) -> None:
    out, period = tmp_path, tmp_path / "reports" / PERIOD
    first = start(tiny_setup, out, "SYN01,SYN02")
    lock_file = out / ".reports.lock"
    wait_until(lambda: lock_file.is_file() and lock_file.read_text(), "the first run's lock")
    holder = json.loads(lock_file.read_text())
    t0 = time.perf_counter()
    with pytest.raises(RunError) as info:
        run(tiny_config(tiny_setup, out, ["SYN01"]))
    assert time.perf_counter() - t0 < 10, "the second run must stop at once"
    assert f"run {holder['run_id']} (pid {first.pid} " in str(info.value)
    assert first.wait(timeout=600) == 0
    assert published_agrees_with_manifest(period)
    baseline = run_id(out)

    # killed during the notebooks: SYN01's is done, SYN02's kernel is still running
    started = time.time()
    proc = start(tiny_setup, out, "SYN01,SYN02", hang="SYN02")
    syn01 = out / "restricted" / PERIOD / "SYN01" / "tiny.ipynb"
    wait_until(lambda: syn01.stat().st_mtime > started and procs.children(proc.pid), "SYN01's notebook")
    kernels = procs.children(proc.pid)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    wait_until(lambda: not any(procs.alive(k) for k in kernels), "the kernels to end", timeout=15)
    assert published_agrees_with_manifest(period) and run_id(out) == baseline
    assert list((out / "restricted" / PERIOD).glob(".run-*")), "the killed run's folder"

    for point in ("render", "publish:built", "publish:swapped"):
        proc = start(tiny_setup, out, "SYN01", kill_at=point)
        assert proc.wait(timeout=600) == -signal.SIGKILL, point
        assert published_agrees_with_manifest(period), point
        assert (run_id(out) == baseline) == (point != "publish:swapped"), point
    published = json.loads((period / "manifest.json").read_text())["published"]
    assert {r["run_id"] for r in published if "/SYN02/" in r["path"]} == {baseline}

    assert debris(out), "the killed runs left their folders"
    result = run(tiny_config(tiny_setup, out, ["SYN01"]))
    assert result.ok and run_id(out) != baseline
    assert published_agrees_with_manifest(period)
    assert debris(out) == []
    assert lock_file.read_text() == "" and (out / ".restricted.lock").read_text() == ""


#: ``python -m csc_outcomes ARGS`` in this process, with Ctrl-C's default: a command
#: started in the background by a shell (CI's, say) inherits SIGINT ignored.
DEFAULT_SIGINT = ("import os, signal, sys\nsignal.signal(signal.SIGINT, signal.SIG_DFL)\n"
                  "os.execv(sys.executable, [sys.executable, '-m', 'csc_outcomes', *sys.argv[1:]])")
HANG_BY_ENV = ("code", "import os, time\nif os.environ.get('TINY_HANG') == la_code:\n    time.sleep(300)")


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "Ctrl-C"])
def test_a_run_stopped_by_a_signal_cleans_up_and_exits_at_once(
        tiny_setup, tmp_path, procs, how: signal.Signals) -> None:
    """Attacker: the command stopped (a scheduler's SIGTERM, or Ctrl-C) while SYN02's
    notebook hangs. Before, SIGTERM killed it where it stood: its private folder (with
    the warehouse copy) stayed until the next run; Ctrl-C waited for every notebook.
    Now it exits within seconds (143 / 130), its kernels killed, nothing left of it,
    nothing published; the next run completes."""
    notebooks = tmp_path / "notebooks"
    make_notebook(notebooks, body=[*BODY, HANG_BY_ENV])
    out = tmp_path / "out"
    command = [sys.executable, "-c", DEFAULT_SIGINT, "run", "--period-end", PERIOD,
               "--la", "SYN01", "--la", "SYN02", "--jobs", "2", "--renderer", "builtin",
               "--warehouse", str(tiny_setup / "data" / "warehouse.duckdb"),
               "--measures", str(tiny_setup / "data" / "measures.csv"),
               "--reports-dir", str(out / "reports"), "--restricted-dir", str(out / "restricted"),
               "--notebooks-dir", str(notebooks), "--parameters-dir", str(tiny_setup / "parameters")]
    proc = subprocess.Popen(command, env={**os.environ, "TINY_HANG": "SYN02"}, text=True,
                            stderr=subprocess.PIPE)
    syn01 = out / "restricted" / PERIOD / "SYN01" / "tiny.ipynb"
    wait_until(lambda: syn01.is_file() and len(procs.children(proc.pid)) >= 2, "SYN01's notebook")
    kernels = procs.children(proc.pid)
    os.kill(proc.pid, how)
    t0 = time.monotonic()
    _, err = proc.communicate(timeout=60)
    assert time.monotonic() - t0 < 20
    assert proc.returncode == (143 if how == signal.SIGTERM else 130), err
    assert ("stopped by SIGTERM" if how == signal.SIGTERM else "interrupted") in err
    wait_until(lambda: not any(procs.alive(k) for k in kernels), "the kernels to end", timeout=5)
    assert debris(out) == []
    assert not (out / "reports" / PERIOD).exists()
    result = run(tiny_config(tiny_setup, out, ["SYN01", "SYN02"]))
    assert result.ok and published_agrees_with_manifest(out / "reports" / PERIOD)
