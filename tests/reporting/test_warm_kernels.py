"""Warm kernels (issue 9): each notebook's kernel is a fork of one process that has
imported the notebooks' libraries, and behaves as a fresh kernel would.

The fast tests read the command and the import list; the slow ones run notebooks
through the real runner, and attack the fork server: a killed stub, a killed run, a
hung cell, a server that cannot start.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import nbformat
import psutil
import pytest

from csc_outcomes.reporting import kernel_stub, model_cache, warm_kernels
from csc_outcomes.reporting.papermill_runs import NotebookJob, run_notebooks
from csc_outcomes.reporting.warm_kernels import WarmKernelManager, notebook_imports

from conftest import ctrl_c_once_started

KERNELSPEC = {"kernelspec": {"name": "python3", "language": "python", "display_name": "Python 3"},
              "language_info": {"name": "python"}}


def notebook(path: Path, *cells: str) -> Path:
    """A notebook: a parameters cell (``tag``), then ``cells``."""
    nb = nbformat.v4.new_notebook(metadata=KERNELSPEC)
    nb.cells = [nbformat.v4.new_code_cell("tag = ''", metadata={"tags": ["parameters"]}),
                *(nbformat.v4.new_code_cell(c) for c in cells)]
    nbformat.write(nb, path)
    return path


#: Says whether pandas was in the kernel before the notebook imported anything, where the
#: kernel runs and what it was given; then imports pandas (so a warm server preloads it).
PROBE = ("import json, os, sys\n"
         "from ipykernel.kernelapp import IPKernelApp\n"
         "watched = IPKernelApp.instance().parent_handle\n"
         "print(json.dumps({'pandas': 'pandas' in sys.modules, 'cwd': os.getcwd(),"
         " 'env': os.environ.get('CSC_WARM_TEST'), 'tag': tag,"
         " 'watches_launcher': watched == int(os.environ['JPY_PARENT_PID'])}))")


def probe(result) -> dict:
    """What ``PROBE`` printed in the executed notebook."""
    nb = nbformat.read(result.output_path, as_version=4)
    cell = next(c for c in nb.cells if "CSC_WARM_TEST" in c.source)
    return json.loads(cell.outputs[0]["text"])


def test_notebook_imports_are_the_import_statements_as_written(tmp_path: Path) -> None:
    nb = nbformat.v4.new_notebook(metadata=KERNELSPEC)
    nb.cells = [nbformat.v4.new_markdown_cell("import not_code"),
                nbformat.v4.new_code_cell("%matplotlib inline\nimport pandas as pd\nx = 1"),
                nbformat.v4.new_code_cell("from csc_outcomes.reporting import plots\n"
                                          "def f():\n    import json\n"),
                nbformat.v4.new_code_cell("from . import sibling\nimport pandas as pd"),
                nbformat.v4.new_code_cell("this is not python (")]
    nbformat.write(nb, tmp_path / "a.ipynb")
    assert notebook_imports([tmp_path / "a.ipynb"]) == [
        "import pandas as pd", "from csc_outcomes.reporting import plots", "import json"]


def test_what_hooks_into_the_shell_is_left_to_the_kernel() -> None:
    """pyplot (and what imports it) set up the inline backend against the running IPython
    shell; imported in the server, before there is one, figures shown with plt.show()
    vanished from the report (the built-in renderer's test caught it)."""
    from csc_outcomes.reporting.kernel_forkserver import hooks_into_shell

    assert hooks_into_shell("import matplotlib.pyplot as plt")
    assert hooks_into_shell("from matplotlib import pyplot, colors")
    assert hooks_into_shell("import seaborn as sns") and hooks_into_shell("import os, pylab")
    assert hooks_into_shell("from matplotlib_inline.backend_inline import flush_figures")
    assert not hooks_into_shell("import matplotlib.figure")
    assert not hooks_into_shell("from csc_outcomes.reporting import plots")


def test_the_kernel_command_is_the_stub_with_the_launchers_arguments(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The kit's kernel becomes ``python -I -S kernel_stub.py SOCKET -- <its arguments>``;
    with no server, or a server that has stopped, the spec's own command."""
    sock = tmp_path / "fork.sock"
    monkeypatch.setattr(warm_kernels, "serving", lambda path: path == str(sock))
    km = WarmKernelManager(kernel_name="python3", fork_server=str(sock))
    km.connection_file = str(tmp_path / "kernel.json")
    km._launch_args = {}
    plain = WarmKernelManager(kernel_name="python3")
    plain.connection_file, plain._launch_args = km.connection_file, {}
    fresh = plain.format_kernel_cmd(["--IPKernelApp.log_level=CRITICAL"])
    assert fresh[:3] == [sys.executable, "-m", "ipykernel_launcher"]
    warm = km.format_kernel_cmd(["--IPKernelApp.log_level=CRITICAL"])
    assert warm == [sys.executable, "-I", "-S", kernel_stub.__file__, str(sock), "--", *fresh[3:]]
    monkeypatch.setattr(warm_kernels, "serving", lambda path: False)
    assert km.format_kernel_cmd([]) == plain.format_kernel_cmd([])


@pytest.mark.slow
def test_warm_kernels_have_the_imports_done_and_the_callers_folder_and_environment(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Warm: pandas is there before the notebook imports it (a fresh kernel: not), and each
    kernel runs in its job's folder with the run's environment and its own parameters."""
    monkeypatch.setenv("CSC_WARM_TEST", "from-the-run")
    source = notebook(tmp_path / "probe.ipynb", PROBE, "import pandas as pd\nprint(pd.__name__)")
    jobs = [NotebookJob(source, la, "2026-03-31", tmp_path / la / "probe.ipynb",
                        parameters={"tag": la}, cwd=tmp_path / la) for la in ("A1", "B2", "C3")]
    warm = run_notebooks(jobs, max_workers=2, progress=None)
    assert all(r.ok for r in warm), [r.error for r in warm]
    for la, result in zip(("A1", "B2", "C3"), warm, strict=True):
        assert probe(result) == {"pandas": True, "cwd": str((tmp_path / la).resolve()),
                                 "env": "from-the-run", "tag": la, "watches_launcher": True}
    fresh = run_notebooks(jobs[:1], progress=None, warm=False)
    assert probe(fresh[0])["pandas"] is False  # the probe can tell the two apart


def test_held_models_are_the_existing_entries_the_jobs_name_once_each(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    model_cache.fetch(cache, "ab" * 32, lambda: "a model")
    entry = str(model_cache.entry_path(cache, "ab" * 32))
    params = [{"model_cache": str(cache), "model_keys": {"stability": "ab" * 32}},
              {"model_cache": str(cache), "model_keys": {"stability": "ab" * 32,
                                                         "rereferral": "cd" * 32}},  # not built
              {"la_code": "A1"}]
    assert warm_kernels.held_models(params) == [(str(cache), entry)]


@pytest.mark.slow
def test_kernels_find_the_runs_models_held_by_the_server(tmp_path: Path) -> None:
    """The fork server loads the jobs' model cache entries once; each kernel's
    ``model_cache.load`` then returns that object (unpickling gives a new one each time)."""
    cache = tmp_path / "cache"
    model_cache.fetch(cache, "ab" * 32, lambda: {"fit": list(range(5))})
    entry = model_cache.entry_path(cache, "ab" * 32)
    source = notebook(tmp_path / "held.ipynb",
                      "from csc_outcomes.reporting import model_cache\n"
                      f"path = model_cache.entry_path({str(cache)!r}, {'ab' * 32!r})\n"
                      f"a, b = (model_cache.load(path, {str(cache)!r}) for _ in range(2))\n"
                      "print(a is b, a)")
    params = {"model_cache": str(cache), "model_keys": {"stability": "ab" * 32}}
    [result] = run_notebooks([NotebookJob(source, "A1", "2026-03-31", tmp_path / "out.ipynb",
                                          parameters=params)], progress=None)
    assert result.ok, result.error
    out = nbformat.read(result.output_path, as_version=4).cells[-1].outputs[0]["text"]
    assert out.strip() == "True {'fit': [0, 1, 2, 3, 4]}", out
    assert entry.is_file()


@pytest.mark.slow
def test_the_executed_notebook_is_written_once_when_it_has_run(tmp_path: Path) -> None:
    """papermill wrote the whole notebook, figures and all, at every cell's start and end
    (a third of a second of the run's time a report, on the path of the next cell): now
    once, at the end. A cell looks for a copy of its own notebook while it runs."""
    out = tmp_path / "LA" / "probe.ipynb"
    source = notebook(tmp_path / "probe.ipynb", "x = 1",
                      "import pathlib\n"
                      f"print(sorted(str(p) for p in pathlib.Path({str(out.parent)!r}).rglob('*.ipynb')))")
    [result] = run_notebooks([NotebookJob(source, "A1", "2026-03-31", out, cwd=tmp_path)],
                             progress=None)
    assert result.ok, result.error
    seen = nbformat.read(out, as_version=4).cells[-1].outputs[0]["text"].strip()
    assert seen == "[]", seen


@pytest.mark.slow
def test_a_run_whose_server_cannot_start_says_so_and_starts_kernels_from_scratch(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture) -> None:
    monkeypatch.setattr(warm_kernels, "SERVER_MODULE", "csc_outcomes.reporting.no_such_server")
    monkeypatch.setenv("CSC_WARM_TEST", "x")
    source = notebook(tmp_path / "probe.ipynb", PROBE)
    [result] = run_notebooks([NotebookJob(source, "A1", "2026-03-31", tmp_path / "out.ipynb")],
                             progress=None)
    assert result.ok, result.error
    assert probe(result)["pandas"] is False
    err = capfd.readouterr().err
    assert "warm kernels unavailable (the fork server exited with status 1)" in err


def kernels_of(server: psutil.Process) -> list[psutil.Process]:
    """The kernels the server has forked (its children)."""
    return server.children()


def start_server(tmp_path: Path, script: str) -> subprocess.Popen:
    """A child Python that starts a fork server (``warm_kernels.fork_server``), runs
    ``script`` with ``path`` (its socket) and ``stub`` (a started kernel's stub), then
    sleeps; it prints ``up`` once the kernel answers."""
    code = textwrap.dedent(f"""
        import subprocess, sys, time
        from jupyter_client import BlockingKernelClient, KernelManager
        from csc_outcomes.reporting import kernel_stub, model_cache, warm_kernels
        with warm_kernels.fork_server([]) as path:
            km = KernelManager(transport="ipc", ip={str(tmp_path / "k")!r})
            km.write_connection_file()
            stub = subprocess.Popen([sys.executable, "-I", "-S", kernel_stub.__file__, path,
                                     "--", "-f", km.connection_file,
                                     "--IPKernelApp.log_level=CRITICAL"])
            client = BlockingKernelClient(connection_file=km.connection_file)
            client.load_connection_file()
            client.start_channels()
            client.wait_for_ready(timeout=60)
            print("up", stub.pid, flush=True)
            {script}
            time.sleep(120)
    """)
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline() if proc.stdout else ""
    assert line.startswith("up"), f"the kernel did not start: {line!r}"
    return proc


def gone(proc: psutil.Process, within: float = 10.0) -> bool:
    """Whether ``proc`` has exited (or is a zombie) within ``within`` seconds."""
    end = time.monotonic() + within
    while time.monotonic() < end:
        try:
            if proc.status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.1)
    return False


@pytest.mark.slow
def test_a_killed_stub_takes_its_kernel_and_a_killed_run_its_server(tmp_path: Path) -> None:
    """Attacker: SIGKILL the stub (jupyter_client's last resort): its kernel goes. SIGKILL
    the run: its server and every kernel go, nothing is left running."""
    run = start_server(tmp_path, "")
    try:
        me = psutil.Process(run.pid)
        server = next(p for p in me.children() if "kernel_forkserver" in " ".join(p.cmdline()))
        stub = next(p for p in me.children() if "kernel_stub" in " ".join(p.cmdline()))
        [kernel] = kernels_of(server)
        os.kill(stub.pid, signal.SIGKILL)
        assert gone(kernel), "the kernel outlived its stub"
        assert not gone(server, within=0.5)  # the server itself goes on
    finally:
        run.kill()
        run.wait()
    assert gone(server), "the fork server outlived the run"


@pytest.mark.slow
def test_a_hung_cell_times_out_and_leaves_no_process_behind(tmp_path: Path) -> None:
    source = notebook(tmp_path / "hang.ipynb", "import time\ntime.sleep(600)")
    t0 = time.monotonic()
    [result] = run_notebooks([NotebookJob(source, "A1", "2026-03-31", tmp_path / "out.ipynb")],
                             progress=None, timeout=3)
    assert not result.ok and "Timeout" in (result.error or ""), result.error
    assert time.monotonic() - t0 < 60
    assert [p for p in psutil.Process().children(recursive=True) if kernel_like(p)] == []


def kernel_like(proc: psutil.Process) -> bool:
    """A kernel, stub or fork server still running."""
    try:
        command = " ".join(proc.cmdline())
    except psutil.Error:
        return False  # gone, or a zombie: not running
    return any(name in command for name in ("kernel_forkserver", "kernel_stub", "ipykernel"))


@pytest.mark.slow
def test_a_server_killed_mid_run_leaves_the_rest_to_fresh_kernels(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture) -> None:
    """Attacker: the first notebook kills the fork server (its kernel's parent). That
    notebook fails; the others run, in kernels started from scratch, and the run says so
    once (before: every later notebook failed, "Kernel died before replying")."""
    monkeypatch.setenv("CSC_WARM_TEST", "x")
    killer = notebook(tmp_path / "killer.ipynb", "import os, signal, time\n"
                      "os.kill(os.getppid(), signal.SIGKILL)\ntime.sleep(30)")
    probe_nb = notebook(tmp_path / "probe.ipynb", PROBE, "import pandas")
    jobs = [NotebookJob(killer, "A1", "2026-03-31", tmp_path / "A1" / "killer.ipynb"),
            *(NotebookJob(probe_nb, la, "2026-03-31", tmp_path / la / "probe.ipynb")
              for la in ("B2", "C3"))]
    first, *rest = run_notebooks(jobs, max_workers=1, progress=None, timeout=60)
    assert not first.ok
    assert all(r.ok for r in rest), [r.error for r in rest]
    assert [probe(r)["pandas"] for r in rest] == [False, False]
    assert capfd.readouterr().err.count("warm kernels: the server stopped") == 1


@pytest.mark.slow
def test_an_import_that_prints_neither_hangs_the_run_nor_reaches_the_report(tmp_path: Path) -> None:
    """``import this`` prints the Zen of Python when imported: in the server, before the
    fork, that went into the pipe the run reads "ready" from, and the run hung for ever."""
    source = notebook(tmp_path / "zen.ipynb", "import this\nimport sys\nprint('this' in sys.modules)")
    t0 = time.monotonic()
    [result] = run_notebooks([NotebookJob(source, "A1", "2026-03-31", tmp_path / "out.ipynb")],
                             progress=None, timeout=60)
    assert result.ok, result.error
    assert time.monotonic() - t0 < 60
    cell = nbformat.read(result.output_path, as_version=4).cells[-1]
    assert [o["text"] for o in cell.outputs] == ["True\n"]  # warm: imported by the server


def test_the_run_talks_to_kernels_through_the_client_that_is_ready_when_they_are() -> None:
    """jupyter_client's own client idled 0.2-0.4 s at every kernel start (612 a national run)."""
    client = WarmKernelManager().client()
    assert isinstance(client, warm_kernels.ReadyKernelClient)
    assert warm_kernels.IOPUB_CHECK < 0.2 and warm_kernels.IOPUB_DRAIN < 0.2


@pytest.mark.slow
@pytest.mark.parametrize("warm", [True, False], ids=["warm", "from-scratch"])
def test_ctrl_c_kills_the_running_notebooks_and_starts_no_more(
        tmp_path: Path, warm: bool, caplog: pytest.LogCaptureFixture, ctrl_c_raises: None,
) -> None:
    """Attacker: Ctrl-C while two notebooks are in a two-minute cell, four more waiting.
    Before, the run waited for both cells and then ran the other four, silently. Now it
    stops in seconds: the running kernels are killed, no other notebook starts, and no
    kernel, stub or server is left; papermill's "Kernel died" about the kernels killed
    on purpose is not shown, and its log is as it was afterwards."""
    level = logging.getLogger("papermill").level
    sleeper = notebook(tmp_path / "sleep.ipynb",
                       "import pathlib, time\npathlib.Path(tag).touch()\ntime.sleep(120)")
    jobs = [NotebookJob(sleeper, f"L{i}", "2026-03-31", tmp_path / f"L{i}" / "sleep.ipynb",
                        parameters={"tag": str(tmp_path / f"started-{i}")}) for i in range(6)]
    pressed = ctrl_c_once_started(tmp_path, 2)
    with pytest.raises(KeyboardInterrupt):
        run_notebooks(jobs, max_workers=2, progress=None, warm=warm, timeout=300)
    assert time.monotonic() - pressed[0] < 30
    assert sorted(p.name for p in tmp_path.glob("started-*")) == ["started-0", "started-1"]
    assert not [p for p in psutil.Process().children(recursive=True) if kernel_like(p)]
    assert not [r for r in caplog.records if "Kernel died" in r.getMessage()]
    assert logging.getLogger("papermill").level == level


@pytest.mark.slow
def test_a_kernel_launched_just_after_ctrl_c_is_killed_not_waited_for(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ctrl_c_raises: None) -> None:
    """Attacker (a reviewer's race): Ctrl-C between a kernel's command being made and its
    launch, when there is no process yet to kill. Before, that kernel ran its whole
    notebook (a two-minute cell here) while the run waited. Now its manager kills it as
    soon as it is launched: the cell never starts and the run stops in seconds."""
    original = WarmKernelManager.format_kernel_cmd
    in_the_window = threading.Event()

    def slow_to_launch(self: WarmKernelManager, extra_arguments: list[str] | None = None) -> list[str]:
        cmd = original(self, extra_arguments)
        in_the_window.set()
        time.sleep(2)  # the stop comes now
        return cmd

    monkeypatch.setattr(WarmKernelManager, "format_kernel_cmd", slow_to_launch)
    sleeper = notebook(tmp_path / "sleep.ipynb",
                       "import pathlib, time\npathlib.Path(tag).touch()\ntime.sleep(120)")
    job = NotebookJob(sleeper, "L0", "2026-03-31", tmp_path / "L0" / "sleep.ipynb",
                      parameters={"tag": str(tmp_path / "started")})

    def press_ctrl_c() -> None:
        in_the_window.wait(timeout=60)
        signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGINT)

    threading.Thread(target=press_ctrl_c, daemon=True).start()
    t0 = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        run_notebooks([job], max_workers=1, progress=None, warm=False, timeout=300)
    assert time.monotonic() - t0 < 30
    assert not (tmp_path / "started").exists()
    assert not [p for p in psutil.Process().children(recursive=True) if kernel_like(p)]
