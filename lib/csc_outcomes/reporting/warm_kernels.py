"""Warm kernels: notebooks run in kernels forked from a process that has imported their
libraries (``kernel_forkserver``), not started from scratch.

Why. Through papermill a report notebook used to cost 4-7 times a trivial one, most of it
starting Python and ipykernel and importing pandas, matplotlib and the kit, again for
each of a national run's 612 notebooks. ``fork_server`` starts one server per run that
runs the notebooks' own import statements once; ``WarmKernelManager`` (jupyter_client's
manager with another command) starts each kernel through ``kernel_stub``, which asks the
server for a fork. The kernel is otherwise the one a fresh start gives: same
interpreter, arguments, folder, environment and streams, nothing run but imports, so the
executed notebooks are the same (the cluster runner's test compares a run's reports,
byte for byte, with fresh kernels').

When the server cannot start, the run says so and starts kernels from scratch;
``run --fresh-kernels`` asks for that. Only the kit's own kernel (``ipykernel_launcher``
on this interpreter) is forked; any other kernel is started as its spec says.
"""

from __future__ import annotations

import ast
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import weakref
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from queue import Empty
from typing import Any

from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.manager import AsyncKernelManager
from traitlets import DottedObjectName, Type, Unicode

from csc_outcomes.reporting import kernel_stub, model_cache

#: Seconds the server may take to import the notebooks' libraries and listen.
READY_TIMEOUT = 120.0
#: The server, run as ``python -m SERVER_MODULE``.
SERVER_MODULE = "csc_outcomes.reporting.kernel_forkserver"
#: The command jupyter_client starts the kit's kernel with, after the interpreter.
LAUNCHER = ["-m", "ipykernel_launcher"]


#: Seconds to wait for one IOPub message after the kernel's first ``kernel_info`` reply
#: (it proves the subscription is connected; none: ask again), and for a further one
#: when draining the channel before the first cell.
IOPUB_CHECK = 0.05
IOPUB_DRAIN = 0.01


class ReadyKernelClient(AsyncKernelClient):
    """jupyter_client's asynchronous client, ready as soon as its kernel answers.

    Its ``wait_for_ready`` waited 0.2 s for an IOPub message to prove the channel
    connected, and then drained the channel until 0.2 s passed without one: 0.2-0.4 s of
    nothing at every kernel start, 612 starts a national run, where a warm kernel is up
    in 0.1 s. The same steps with short waits: a late message is one nbclient would
    ignore anyway (it reads only the replies to its own requests).
    """

    async def wait_for_ready(self, timeout: float | None = None) -> None:
        """Ask for ``kernel_info`` until it is answered and IOPub carries a message."""
        deadline = time.monotonic() + (float("inf") if timeout is None else timeout)
        while True:
            self.kernel_info()
            try:
                reply = await self.shell_channel.get_msg(timeout=1)
            except Empty:
                reply = None
            if reply is not None and reply["msg_type"] == "kernel_info_reply":
                try:
                    await self.iopub_channel.get_msg(timeout=IOPUB_CHECK)
                except Empty:
                    pass  # IOPub not subscribed yet: ask again
                else:
                    self._handle_kernel_info_reply(reply)
                    break
            if not await self.is_alive():
                raise RuntimeError("Kernel died before replying to kernel_info")
            if time.monotonic() > deadline:
                raise RuntimeError(f"Kernel didn't respond in {timeout:.0f} seconds")
        while True:
            try:
                await self.iopub_channel.get_msg(timeout=IOPUB_DRAIN)
            except Empty:
                return


class WarmKernelManager(AsyncKernelManager):
    """A kernel manager whose kernels are forks of the run's server (``fork_server``),
    with a client that is ready as soon as its kernel is (:class:`ReadyKernelClient`)."""

    fork_server = Unicode("", config=True,
                          help="The fork server's socket; empty: start kernels from scratch.")
    run_token = Unicode("", config=True,
                        help="The run's own token: its kernels are killed together (stop_kernels).")
    client_class = DottedObjectName(f"{__name__}.ReadyKernelClient", config=True)
    client_factory = Type(klass=f"{__name__}.ReadyKernelClient", config=True)

    def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
        """The stub in place of ``python -m ipykernel_launcher``, the same arguments after."""
        with _LOCK:
            if self.run_token in _STOPPED:  # a notebook between its start and its kernel's
                raise RuntimeError("the run was interrupted: no kernel is started")
            _MANAGERS.setdefault(self.run_token, weakref.WeakSet()).add(self)
        cmd = super().format_kernel_cmd(extra_arguments)
        if not self.fork_server or cmd[1:3] != LAUNCHER or cmd[0] != sys.executable:
            return cmd
        if not serving(self.fork_server):
            return cmd
        return [sys.executable, "-I", "-S", kernel_stub.__file__, self.fork_server, "--", *cmd[3:]]

    async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: Any) -> None:
        """Launch as jupyter_client does, then kill the kernel at once if its run was
        stopped meanwhile: ``stop_kernels`` found no process to kill before the launch."""
        await super()._async_launch_kernel(kernel_cmd, **kw)
        with _LOCK:
            stopped = self.run_token in _STOPPED
        if stopped:
            kill_kernel(self)
            raise RuntimeError("the run was interrupted: its kernel was stopped")


def kill_kernel(manager: WarmKernelManager) -> None:
    """SIGKILL the manager's kernel process, if it has one running (for a warm kernel,
    its stub: the server kills the fork when the stub's connection closes)."""
    process = getattr(manager.provisioner, "process", None)
    if process is not None and process.poll() is None:
        process.kill()


#: The servers this process started, by socket (``fork_server``), and those said dead.
_SERVERS: dict[str, subprocess.Popen] = {}
_SAID_DEAD: set[str] = set()
#: Each run's kernel managers, by its token, and the tokens of runs interrupted
#: (``stop_kernels``).
_MANAGERS: dict[str, weakref.WeakSet[WarmKernelManager]] = {}
_STOPPED: set[str] = set()
_LOCK = threading.Lock()


def serving(path: str) -> bool:
    """Whether the server at ``path`` is running; the first time it is found dead, say so
    (the run's remaining kernels then start from scratch)."""
    proc = _SERVERS.get(path)
    if proc is not None and proc.poll() is None:
        return True
    with _LOCK:
        if path not in _SAID_DEAD:
            _SAID_DEAD.add(path)
            code = "unknown" if proc is None else proc.returncode
            print(f"warm kernels: the server stopped (status {code}); the run's remaining "
                  "notebooks start their kernels from scratch (slower).",
                  file=sys.stderr, flush=True)
    return False


def notebook_imports(notebooks: Iterable[str | Path]) -> list[str]:
    """Every import statement in the notebooks' code cells, as written, once each (magics
    and shell lines left out; a cell that does not parse is skipped: its kernel says why)."""
    found: dict[str, None] = {}
    for nb in notebooks:
        for cell in json.loads(Path(nb).read_text(encoding="utf-8"))["cells"]:
            if cell["cell_type"] != "code":
                continue
            source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
            code = "\n".join(ln for ln in source.splitlines() if not ln.lstrip().startswith(("%", "!")))
            try:
                tree = ast.parse(code)
            except SyntaxError:
                continue
            found |= {ast.unparse(node): None for node in ast.walk(tree)
                      if isinstance(node, ast.Import | ast.ImportFrom) and not getattr(node, "level", 0)}
    return list(found)


def held_models(parameters: Iterable[Mapping[str, Any]]) -> list[tuple[str, str]]:
    """``(cache, entry)`` of every model cache entry the notebooks' ``parameters`` name
    (``model_cache`` and ``model_keys``, as ``pooled.notebook_parameters`` gives them)
    that is there: what the fork server loads once for all of them (``--hold``)."""
    found: dict[tuple[str, str], None] = {}
    for params in parameters:
        cache, keys = params.get("model_cache"), params.get("model_keys") or {}
        for key in keys.values() if cache else ():
            entry = model_cache.entry_path(str(cache), key)
            if entry.is_file():
                found[(str(cache), str(entry))] = None
    return list(found)


@contextmanager
def fork_server(notebooks: Iterable[str | Path],
                held: Iterable[tuple[str, str]] = ()) -> Iterator[str | None]:
    """A fork server that has run ``notebooks``' imports and loaded the ``held`` model
    cache entries (:func:`held_models`); yields its socket's path, or ``None`` (said on
    stderr) when it could not start. Stopped, with its kernels, on exit."""
    # 0700: only this user may connect; under /tmp when TMPDIR is too long for a socket path
    base = tempfile.gettempdir()
    folder = tempfile.mkdtemp(prefix="csc-kernels-", dir=base if len(base) < 70 else "/tmp")
    path = os.path.join(folder, "fork.sock")
    preload = [arg for statement in notebook_imports(notebooks) for arg in ("--preload", statement)]
    hold = [arg for cache, entry in held for arg in ("--hold", cache, entry)]
    proc = subprocess.Popen(
        [sys.executable, "-m", SERVER_MODULE, path,
         "--parent", str(os.getpid()), *preload, *hold],
        stdout=subprocess.PIPE, cwd=folder, start_new_session=True)
    _SERVERS[path] = proc
    try:
        problem = wait_ready(proc)
        if problem:
            print(f"warm kernels unavailable ({problem}): starting each notebook's kernel from "
                  "scratch (slower).", file=sys.stderr, flush=True)
        yield None if problem else path
    finally:
        stop(proc)
        _SERVERS.pop(path, None)
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def run_kernels() -> Iterator[str]:
    """A token for one run's kernels (``WarmKernelManager.run_token``), forgotten after."""
    token = uuid.uuid4().hex
    try:
        yield token
    finally:
        with _LOCK:
            _MANAGERS.pop(token, None)
            _STOPPED.discard(token)


def stop_kernels(run_token: str) -> None:
    """Kill the kernels of the run ``run_token`` and start no more for it: the run was
    interrupted, and its notebooks are not waited for. A kernel being launched now is
    killed by its manager once launched (``_async_launch_kernel``)."""
    with _LOCK:
        _STOPPED.add(run_token)
        managers = list(_MANAGERS.pop(run_token, ()))
    for manager in managers:
        kill_kernel(manager)


def wait_ready(proc: subprocess.Popen) -> str:
    """Wait for the server's ``ready``; what went wrong, or ``""``."""
    pipe = proc.stdout
    if pipe is None:
        return "no pipe to the fork server"
    ready, _, _ = select.select([pipe], [], [], READY_TIMEOUT)
    if not ready:
        return f"the fork server was not ready after {READY_TIMEOUT:.0f} s"
    line = pipe.readline().decode(errors="replace").strip()
    if line == "ready":
        return ""
    if line:
        return f"the fork server answered {line[:80]!r}, not 'ready'"
    try:  # the end of the pipe: the server has exited, or is exiting
        return f"the fork server exited with status {proc.wait(timeout=10)}"
    except subprocess.TimeoutExpired:
        return "the fork server closed its pipe without saying 'ready'"


def stop(proc: subprocess.Popen) -> None:
    """SIGTERM the server (it kills its kernels), then SIGKILL after 10 s."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    if proc.stdout is not None:
        proc.stdout.close()
