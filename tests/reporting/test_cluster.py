"""``run --cluster``: jobs on a Dask cluster give what the default runner gives.

The unit tests use one in-process cluster (threads, no worker processes: ~1 s); the
one slow test runs the tiny notebook for two LAs on a real ``LocalCluster`` of two
worker processes and compares the published HTML with the default runner's, byte for
byte. (Two default runs differ only in the manifests and the Excel workbooks, which
carry the run's id and time; the reports themselves are byte-identical.)
"""

from __future__ import annotations

import contextlib
import logging
import re
import socket
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

import nbformat
import psutil
import pytest
from distributed import Client, LocalCluster

from csc_outcomes import cli
from csc_outcomes.ingest import UsageError
from csc_outcomes.reporting import cluster, cluster_stop
from csc_outcomes.reporting.papermill_runs import NotebookJob, NotebookResult
from csc_outcomes.reporting.run import run

from conftest import PERIOD, ctrl_c_once_started, tiny_config


@pytest.fixture(scope="module")
def client():
    """A client of an in-process cluster of two threads (no worker processes); not the
    process's default client, as ``cluster.connect``'s is not."""
    with LocalCluster(processes=False, n_workers=1, threads_per_worker=2,
                      dashboard_address=None, silence_logs=logging.ERROR) as c, \
            Client(c, set_as_default=False) as cl:
        yield cl


def slow_double(x: int) -> int:
    """The first items finish last, so completion order is not submission order."""
    time.sleep(0.05 * (4 - x))
    if x == 2:
        raise ValueError("two is bad")
    return 2 * x


def test_results_come_back_in_the_items_order_with_progress(client) -> None:
    seen = []
    got = cluster.submit_all(client, slow_double, [0, 1, 3],
                             progress=lambda done, total, r: seen.append((done, total, r)))
    assert got == [0, 2, 6]
    assert [(d, t) for d, t, _ in seen] == [(1, 3), (2, 3), (3, 3)]
    assert sorted(r for _, _, r in seen) == [0, 2, 6]


def test_a_job_that_raises_is_a_result_or_the_error(client) -> None:
    got = cluster.submit_all(client, slow_double, [1, 2, 3],
                             on_error=lambda item, exc: f"{item}: {exc}")
    assert got == [2, "2: two is bad", 6]
    with pytest.raises(ValueError, match="two is bad"):
        cluster.submit_all(client, slow_double, [1, 2, 3])


def fake_execute(job: NotebookJob, **_: object) -> NotebookResult:
    """A notebook's error is a failed result; a broken share raises (e.g. OSError)."""
    if job.la_code == "BAD":
        raise OSError("the shared folder went away")
    return NotebookResult(job=job, ok=job.la_code != "ERR", seconds=0.1,
                          error=None if job.la_code != "ERR" else "ValueError: boom")


def test_notebook_runs_on_the_cluster_never_raise(client, monkeypatch, tmp_path) -> None:
    monkeypatch.setattr(cluster_stop, "execute_job", fake_execute)
    monkeypatch.setattr(cluster, "ensure_kernel", lambda name: {"name": name})

    @contextmanager
    def connect(address, workers):
        yield client
    monkeypatch.setattr(cluster, "connect", connect)
    jobs = [NotebookJob(notebook=tmp_path / "n.ipynb", la_code=la, period_end=PERIOD,
                        output_path=tmp_path / la / "n.ipynb") for la in ("OK1", "ERR", "BAD")]
    got = cluster.run_notebooks(jobs, address="local", progress=None)
    assert [r.job.la_code for r in got] == ["OK1", "ERR", "BAD"]
    assert [r.ok for r in got] == [True, False, False]
    assert got[1].error == "ValueError: boom"
    assert got[2].error == "OSError on the Dask cluster: the shared folder went away"


def test_a_scheduler_gone_before_the_run_fails_every_notebook(monkeypatch, tmp_path) -> None:
    @contextmanager
    def connect(address, workers):
        raise OSError(f"Timed out trying to connect to {address}")
        yield
    monkeypatch.setattr(cluster, "connect", connect)
    jobs = [NotebookJob(notebook=tmp_path / "n.ipynb", la_code=la, period_end=PERIOD,
                        output_path=tmp_path / la / "n.ipynb") for la in ("A1", "B2")]
    got = cluster.run_notebooks(jobs, address="tcp://10.0.0.5:8786")
    assert [(r.job.la_code, r.ok) for r in got] == [("A1", False), ("B2", False)]
    assert got[0].error == ("OSError on the Dask cluster: Timed out trying to connect to "
                            "tcp://10.0.0.5:8786")


class KilledWorkers:
    """``submit_all`` on a cluster whose worker was killed mid-notebook, leaving papermill's
    folder with a half-run notebook; then the jobs come back, or the run is stopped."""

    def __init__(self, left: Path, *, stop: bool):
        self.left, self.stop = left, stop

    def __call__(self, client, fn, jobs, **_: object) -> list[NotebookResult]:
        self.left.mkdir(parents=True)
        (self.left / "n.ipynb").write_text("{}")  # child-level outputs, half written
        if self.stop:
            raise KeyboardInterrupt
        return [NotebookResult(job=job, ok=True, seconds=0.1) for job in jobs]


@pytest.mark.parametrize("stop", [True, False], ids=["stopped", "completed"])
@pytest.mark.parametrize("address", ["local", "tcp://10.0.0.5:8786"])
def test_a_local_clusters_killed_workers_leave_no_papermill_folder(monkeypatch, tmp_path,
                                                                     address, stop) -> None:
    @contextmanager
    def connect(address, workers):
        yield SimpleNamespace(run=lambda *args: None)
    jobs = [NotebookJob(notebook=tmp_path / "n.ipynb", la_code=la, period_end=PERIOD,
                        output_path=tmp_path / la / "n.ipynb") for la in ("A1", "B2")]
    left = tmp_path / "B2" / ".papermill-n.k2j3x"
    not_ours = tmp_path / "B2" / ".papermill-other.abc12"  # a notebook not in these jobs
    not_ours.mkdir(parents=True)
    monkeypatch.setattr(cluster, "connect", connect)
    monkeypatch.setattr(cluster, "submit_all", KilledWorkers(left, stop=stop))
    if stop:
        with pytest.raises(KeyboardInterrupt):
            cluster.run_notebooks(jobs, address=address)
    else:
        assert all(r.ok for r in cluster.run_notebooks(jobs, address=address))
    # a local cluster's workers are gone with it; a remote one's may still be running
    assert left.exists() == (address != "local")
    assert not_ours.is_dir()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_an_address_nobody_answers_is_refused_fast_naming_it(monkeypatch) -> None:
    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT", 1)
    address = f"tcp://127.0.0.1:{free_port()}"
    t0 = time.perf_counter()
    with pytest.raises(UsageError, match=re.escape(f"--cluster {address}: no Dask scheduler answered")):
        cluster.check_address(address)
    assert time.perf_counter() - t0 < 10
    with pytest.raises(UsageError, match=r"not a scheduler address.*tcp://host:8786"):
        cluster.check_address("127.0.0.1 8786")
    cluster.check_address("local")  # started by the run itself: nothing to check


def test_workers_that_cannot_see_the_inputs_are_named(client, tmp_path) -> None:
    here, gone = tmp_path / "warehouse.duckdb", tmp_path / "gone"
    here.write_text("x")
    cluster.check_address(client.scheduler.address, [here])
    with pytest.raises(UsageError, match=re.escape(f"cannot see {gone}") + ".*same paths"):
        cluster.check_address(client.scheduler.address, [here, gone])


def test_run_refuses_an_unreachable_cluster_with_exit_2(monkeypatch, capsys, tmp_path) -> None:
    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT", 1)
    address = f"tcp://127.0.0.1:{free_port()}"
    code = cli.main(["run", "--period-end", PERIOD, "--warehouse", str(tmp_path / "w.duckdb"),
                     "--measures", str(tmp_path / "m.csv"), "--reports-dir",
                     str(tmp_path / "reports"), "--cluster", address])
    assert code == 2
    assert f"--cluster {address}: no Dask scheduler answered" in capsys.readouterr().err
    assert not (tmp_path / "reports").exists()


@pytest.mark.slow
def test_a_local_cluster_publishes_the_same_reports_as_the_default_runner(
        tiny_setup: Path, tiny_run, tmp_path: Path) -> None:
    _, default_out = tiny_run  # two LAs, html and pdf, the default runner
    res = run(tiny_config(tiny_setup, tmp_path, ["SYN01", "SYN02"], formats=("html", "pdf"),
                          cluster="local", jobs=2))
    assert res.ok
    mine = sorted((tmp_path / "reports" / PERIOD).glob("*/*.html"))
    assert [p.relative_to(tmp_path / "reports").as_posix() for p in mine] == \
        [f"{PERIOD}/SYN01/tiny.html", f"{PERIOD}/SYN02/tiny.html"]
    for page in mine:
        theirs = default_out / "reports" / page.relative_to(tmp_path / "reports")
        assert page.read_bytes() == theirs.read_bytes(), page.name
    manifest = (tmp_path / "reports" / PERIOD / "manifest.json").read_text()
    assert '"runner": "dask local"' in manifest


def kernels_under(proc: psutil.Process) -> list[psutil.Process]:
    """Notebook kernels among ``proc``'s descendants (a cluster's workers' kernels)."""
    found = []
    for p in proc.children(recursive=True):
        with contextlib.suppress(psutil.Error):
            if any("ipykernel" in part for part in p.cmdline()):
                found.append(p)
    return found


@pytest.mark.slow
def test_a_stopped_run_ends_the_notebooks_remote_workers_have_in_hand(
        tmp_path: Path, ctrl_c_raises: None) -> None:
    """Attacker: Ctrl-C while two workers of a cluster the run did not start (so not shut
    down with it) are in a two-minute cell, two more notebooks waiting. Before, each
    worker ran its notebook to the end and wrote it into the restricted tree after the
    command had stopped. Now the workers kill their kernels within seconds: nothing
    left processing or running, nothing written, the waiting notebooks never start."""
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "language": "python",
                                                           "display_name": "Python 3"}})
    nb.cells = [nbformat.v4.new_code_cell("tag = ''", metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell("import pathlib, time\npathlib.Path(tag).touch()\n"
                                          "time.sleep(120)")]
    nbformat.write(nb, sleeper := tmp_path / "sleep.ipynb")
    jobs = [NotebookJob(sleeper, f"L{i}", PERIOD, tmp_path / f"L{i}" / "sleep.ipynb",
                        parameters={"tag": str(tmp_path / f"started-{i}")}) for i in range(4)]
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None, silence_logs=logging.ERROR) as remote, \
            Client(remote, set_as_default=False) as watcher:
        pressed = ctrl_c_once_started(tmp_path, 2)
        with pytest.raises(KeyboardInterrupt):
            cluster.run_notebooks(jobs, address=remote.scheduler_address, timeout=300)
        assert time.monotonic() - pressed[0] < cluster.STOP_WAIT
        deadline = time.monotonic() + 15
        while (any(watcher.processing().values()) or kernels_under(psutil.Process())) \
                and time.monotonic() < deadline:
            time.sleep(0.2)
        assert all(not keys for keys in watcher.processing().values())
        assert not kernels_under(psutil.Process())
    assert sorted(p.name for p in tmp_path.glob("started-*")) == ["started-0", "started-1"]
    assert not list(tmp_path.glob("L*/sleep.ipynb"))


def test_a_stop_is_not_held_by_a_scheduler_that_does_not_answer(monkeypatch) -> None:
    """Attacker (a second review): Ctrl-C with the scheduler frozen (SIGSTOP) hung the run
    for good: telling the workers waits on the scheduler, and the signals after the first
    are only recorded. Now the stop gives the scheduler ``STOP_WAIT`` seconds, then goes."""
    monkeypatch.setattr(cluster, "STOP_WAIT", 1)
    frozen = threading.Event()

    def never_answers(*args: object, **kwargs: object) -> None:
        frozen.wait(60)
    client = SimpleNamespace(processing=never_answers, cancel=never_answers)
    t0 = time.perf_counter()
    cluster.stopped(client, [], never_answers)
    assert time.perf_counter() - t0 < 5
    frozen.set()
