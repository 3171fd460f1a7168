"""A fork server for notebook kernels: each kernel starts with the notebooks' imports done.

Why. A kernel started from scratch spends about a second starting Python and ipykernel,
then each report notebook spends seconds importing pandas, matplotlib and the kit before
it reads a figure; a national run does that 612 times. This process imports all of it
once (``--preload``: the notebooks' own import statements); each kernel is a fork of it,
so the imports are already done and their memory is shared, copy-on-write. The fork then
starts exactly as ``python -m ipykernel_launcher ARGS`` would, in the folder, with the
environment and on the standard streams its stub (``kernel_stub``) was given by
jupyter_client. Nothing is run in this process but imports, reading DfE's published
figures (``published_data.warm``) and, with ``--hold``, loading the run's pooled models
from the model cache (``model_cache.hold``: a kernel's ``model_cache.load`` then returns
the loaded entry instead of unpickling the same file): no kernel, no figure, no report's
own data, so every kernel starts from the state a fresh one would, with the same objects
a fresh one would load.

Protocol, one AF_UNIX connection per kernel (the socket is in a folder only this user
can open): the stub sends one JSON line ``{"argv", "cwd", "env"}`` with its stdin,
stdout and stderr attached; the server forks, answers ``{"pid": N}`` and, when that
kernel exits, ``{"exit": STATUS}``. A connection that closes while its kernel lives
(the stub was killed) gets the kernel killed. The server stops, killing every kernel it
started, on SIGTERM or when its parent (the run) is gone.

    python -m csc_outcomes.reporting.kernel_forkserver SOCKET --parent PID [--preload STMT]...
        [--hold CACHE ENTRY]...

prints ``ready`` on stdout once it listens.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import json
import os
import random
import selectors
import signal
import socket
import sys
import traceback
from pathlib import Path
from typing import NoReturn

#: Imported whatever the notebooks import: what every kernel and figure needs, and what
#: libraries import on first use (pandas' table styler and its templates, Pillow's image
#: plugins when a figure is saved as PNG): a tenth of a second in every notebook.
BASE_PRELOAD = ("import ipykernel.kernelapp", "import ipykernel.ipkernel",
                "import ipykernel.debugger", "import matplotlib.backends.backend_agg",
                "import IPython.core.pylabtools", "import pandas.io.formats.style",
                "import jinja2", "from PIL import Image", "import PIL.BmpImagePlugin",
                "import PIL.GifImagePlugin", "import PIL.JpegImagePlugin",
                "import PIL.PpmImagePlugin")
#: Never imported here: importing them hooks into the running IPython shell (pyplot's
#: inline backend registers how figures are shown at the end of a cell), and there is no
#: shell before the fork; imported in the kernel, as in a fresh one.
NOT_PRELOADED = ("matplotlib.pyplot", "matplotlib_inline", "seaborn", "pylab")
#: The server's own folder on ``sys.path`` (``python -m`` put it first): not a kernel's.
SERVER_PATH0 = sys.path[0] if sys.path else ""
#: The largest request (argv, cwd and environment as JSON) a stub may send.
MAX_REQUEST = 1 << 20


class Stop(Exception):
    """SIGTERM: stop serving."""


def preload(statements: list[str]) -> tuple[list[str], dict[str, str]]:
    """Run each import statement here: the ones that failed (their kernel will say why),
    and the environment variables the imports set (a kernel's imports would set them)."""
    before = dict(os.environ)
    # as a kernel has them when they are imported: from ipykernel's spec, and its start
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    failed = []
    for statement in [*BASE_PRELOAD, *(s for s in statements if not hooks_into_shell(s))]:
        try:
            exec(statement, {})  # noqa: S102 - import statements read from the kit's notebooks
        except Exception:  # noqa: BLE001 - the notebook's own import reports it in its cell
            failed.append(statement)
    added = {k: v for k, v in os.environ.items() if k not in before}
    return failed, added


def hooks_into_shell(statement: str) -> bool:
    """Whether an import statement may import a module of ``NOT_PRELOADED`` (or one under
    it): ``from matplotlib import pyplot`` as much as ``import matplotlib.pyplot``."""
    try:
        nodes = ast.parse(statement).body
    except SyntaxError:
        return True  # not ours to run
    names = []
    for node in nodes:
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            names += [f"{node.module or ''}.{a.name}" for a in node.names]
    return any(n == m or n.startswith(f"{m}.") for n in names for m in NOT_PRELOADED)


def become_kernel(request: dict, fds: list[int], imports_set: dict[str, str]) -> NoReturn:
    """In the fork: take the stub's streams, folder, environment and arguments, and run
    the kernel as ``ipykernel_launcher`` would; never return."""
    code = 1
    try:
        for signum in (signal.SIGTERM, signal.SIGCHLD):
            signal.signal(signum, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        for target, fd in zip((0, 1, 2), fds, strict=True):
            os.dup2(fd, target)
            os.close(fd)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update({**imports_set, **request["env"]})
        if sys.path and sys.path[0] == SERVER_PATH0:
            del sys.path[0]  # the server's folder; ipykernel_launcher drops its own the same way
        sys.argv = launcher_arguments(request["argv"], request["env"])
        random.seed()  # a fresh kernel's generators are seeded afresh, not copied
        if "numpy" in sys.modules:
            sys.modules["numpy"].random.seed()
        from ipykernel import kernelapp  # noqa: PLC0415 - imported already by preload

        kernelapp.launch_new_instance()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:  # noqa: BLE001 - a kernel that failed to start says why, and exits
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def launcher_arguments(argv: list[str], env: dict[str, str]) -> list[str]:
    """``sys.argv`` for the kernel: ``argv`` after what ``IPKernelApp`` reads from the
    environment when it is imported (here, in the server, not in the kernel's launcher):
    the launcher's pid, the process it watches (the launcher's own arguments still win)."""
    parent = env.get("JPY_PARENT_PID", "")
    watched = [f"--IPKernelApp.parent_handle={parent}"] if parent.isdigit() else []
    return ["ipykernel_launcher", *watched, *argv]


class Server:
    """The listening socket, the stubs' connections and the kernels forked for them."""

    def __init__(self, path: str, parent: int, imports_set: dict[str, str]):
        self.path, self.parent = path, parent
        self.imports_set = imports_set
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(path)
        self.listener.listen(64)
        self.selector = selectors.DefaultSelector()
        self.selector.register(self.listener, selectors.EVENT_READ)
        # a kernel's exit wakes the loop at once (its stub, then jupyter_client, wait on it)
        self.wake, wake_in = socket.socketpair()
        wake_in.setblocking(False)
        self.wake_in = wake_in
        signal.set_wakeup_fd(wake_in.fileno())
        signal.signal(signal.SIGCHLD, lambda _signum, _frame: None)
        self.selector.register(self.wake, selectors.EVENT_READ)
        self.pending: dict[socket.socket, tuple[bytes, list[int]]] = {}
        self.kernels: dict[int, socket.socket] = {}

    def serve(self) -> None:
        """Accept stubs and fork kernels until told to stop or orphaned."""
        while os.getppid() == self.parent:
            for key, _ in self.selector.select(timeout=0.2):
                if key.fileobj is self.wake:
                    self.wake.recv(4096)
                elif key.fileobj is self.listener:
                    conn, _ = self.listener.accept()
                    self.pending[conn] = (b"", [])
                    self.selector.register(conn, selectors.EVENT_READ)
                else:
                    self.answer(key.fileobj)  # type: ignore[arg-type]
            self.reap()

    def answer(self, conn: socket.socket) -> None:
        """``read``, dropping a connection that breaks or sends what is not a request."""
        try:
            self.read(conn)
        except (OSError, ValueError, KeyError) as exc:
            print(f"kernel fork server: dropped a connection ({exc})", file=sys.stderr)
            pid = next((p for p, c in self.kernels.items() if c is conn), None)
            if pid is not None:
                kill(pid)
            if conn in self.pending:
                self.drop(conn, self.pending.pop(conn)[1])
            else:
                self.drop(conn, [])

    def read(self, conn: socket.socket) -> None:
        """More of a stub's request (fork when it is whole), or its end."""
        if conn in self.pending:
            data, more_fds, _, _ = socket.recv_fds(conn, MAX_REQUEST, 3)
            buffered, fds = self.pending[conn]
            buffered, fds = buffered + data, fds + list(more_fds)
            if data and not buffered.endswith(b"\n"):
                self.pending[conn] = (buffered, fds)
                return
            del self.pending[conn]
            request = parse_request(buffered) if data and len(fds) == 3 else None
            if request is None:
                self.drop(conn, fds)
                return
            self.fork(conn, request, fds)
        elif not conn.recv(4096):  # the stub is gone: its kernel must go too
            pid = next((p for p, c in self.kernels.items() if c is conn), None)
            if pid is not None:
                kill(pid)
            self.drop(conn, [])

    def fork(self, conn: socket.socket, request: dict, fds: list[int]) -> None:
        """Fork a kernel for ``conn``'s request and tell the stub its pid."""
        pid = os.fork()
        if pid == 0:
            self.close_all()
            conn.close()  # the kernel's own stub's connection: only the server holds it
            become_kernel(request, fds, self.imports_set)
        for fd in fds:
            os.close(fd)
        self.kernels[pid] = conn
        conn.sendall(json.dumps({"pid": pid}).encode() + b"\n")

    def reap(self) -> None:
        """Tell each stub whose kernel has exited its status, and close its connection."""
        while self.kernels:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            conn = self.kernels.pop(pid, None)
            if conn is not None:
                exit_line = json.dumps({"exit": os.waitstatus_to_exitcode(status)}).encode()
                with contextlib.suppress(OSError):  # the stub went first: nobody to tell
                    conn.sendall(exit_line + b"\n")
                self.drop(conn, [])

    def drop(self, conn: socket.socket, fds: list[int]) -> None:
        """Forget a connection (and any streams it sent)."""
        for fd in fds:
            os.close(fd)
        if conn.fileno() >= 0:  # not dropped already (its stub went before its kernel)
            self.selector.unregister(conn)
            conn.close()

    def close_all(self) -> None:
        """In a fork: let go of the server's sockets."""
        signal.set_wakeup_fd(-1)
        self.selector.close()
        for own in (self.listener, self.wake, self.wake_in):
            own.close()
        for conn, (_, fds) in self.pending.items():
            for fd in fds:  # another stub's streams, half received: not this kernel's
                os.close(fd)
            conn.close()
        for conn in self.kernels.values():
            conn.close()

    def stop(self) -> None:
        """Kill every kernel still running and wait for them; remove the socket."""
        for pid in list(self.kernels):
            kill(pid)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
        self.listener.close()
        with contextlib.suppress(OSError):
            os.unlink(self.path)


def parse_request(line: bytes) -> dict | None:
    """A stub's request, or ``None`` when it is not one."""
    try:
        request = json.loads(line)
    except ValueError:
        return None
    keys = {"argv": list, "cwd": str, "env": dict}
    ok = isinstance(request, dict) and all(isinstance(request.get(k), t) for k, t in keys.items())
    return request if ok else None


def kill(pid: int) -> None:
    """SIGKILL ``pid`` if it is still there."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def parser() -> argparse.ArgumentParser:
    """The command line (started by ``warm_kernels.fork_server``, not by users)."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("socket", help="the AF_UNIX socket to listen on (in a private folder)")
    p.add_argument("--parent", type=int, required=True,
                   help="the run's pid: the server stops when that process is gone")
    p.add_argument("--preload", action="append", default=[],
                   help="an import statement to run before forking (repeatable)")
    p.add_argument("--hold", action="append", default=[], nargs=2, metavar=("CACHE", "ENTRY"),
                   help="a model cache entry to load before forking, and its cache (repeatable)")
    return p


def warm_published() -> None:
    """Read DfE's published figures (public) here, once (``published_data.warm``): every
    report reads them and works out the same things from them."""
    # imported here: the kit's modules are the notebooks' to preload, after ipykernel's
    from csc_outcomes.reporting import published_data, published_funnel  # noqa: PLC0415

    try:
        published_funnel.warm(published_data.warm())
    except Exception as exc:  # noqa: BLE001 - each notebook reading them reports it fully
        print(f"kernel fork server: could not read the published figures: {exc}", file=sys.stderr)


def hold_models(entries: list[list[str]]) -> None:
    """Load the run's pooled models (``model_cache.hold``), so that every kernel finds
    them loaded; one that cannot be is said here and left for its notebook to load."""
    # imported here: the kit's modules are the notebooks' to preload, after ipykernel's
    from csc_outcomes.reporting import model_cache  # noqa: PLC0415

    for cache, entry in entries:
        try:
            model_cache.hold(Path(entry), cache)
        except Exception as exc:  # noqa: BLE001 - the notebook loading it reports it fully
            print(f"kernel fork server: could not hold {entry}: {exc}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    """Preload, listen, say ``ready``, serve; kill every kernel on the way out."""
    args = parser().parse_args(argv)
    def on_term(_signum: int, _frame: object) -> None:
        raise Stop
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the run stops us; Ctrl-C is the run's
    # stdout is the pipe the run reads "ready" from: anything an import prints (a banner)
    # goes to stderr instead, so the run never reads it as the answer or waits on it
    ready = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    failed, imports_set = preload(args.preload)
    for statement in failed:
        print(f"kernel fork server: could not preload {statement!r}", file=sys.stderr)
    warm_published()
    hold_models(args.hold)
    server = Server(args.socket, args.parent, imports_set)
    ready.write("ready\n")
    ready.close()
    try:
        server.serve()
    except Stop:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
