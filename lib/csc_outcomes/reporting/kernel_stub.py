"""Stand in for ``ipykernel_launcher``: ask the fork server for a kernel, live as long as it.

Why. jupyter_client starts a kernel as a process and watches that process: it signals it
to interrupt, waits for it at shutdown and kills it when it hangs. A kernel forked by
``kernel_forkserver`` is not jupyter_client's child, so this small process is: started
with the command jupyter_client would have used (``python kernel_stub.py SOCKET --
-f CONNECTION_FILE ...``), it sends the server its arguments, folder, environment and
standard streams, forwards every signal it gets to the kernel and exits when the kernel
does, with its status. Killed outright, it leaves the kernel to the server, which kills a
kernel whose stub has gone.

Standard library only, run with ``python -I -S``: it starts in a few milliseconds.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import sys
from typing import BinaryIO, NoReturn

#: Signals passed on to the kernel (interrupt, the polite stops, and the user's).
FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT,
             signal.SIGUSR1, signal.SIGUSR2)


def standard_streams() -> list[int]:
    """This process's stdin, stdout and stderr, with ``/dev/null`` for any that is closed."""
    fds = []
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
            fds.append(fd)
        except OSError:
            fds.append(os.open(os.devnull, os.O_RDWR))
    return fds


def ask_for_kernel(server: socket.socket, reader: BinaryIO, argv: list[str]) -> int:
    """Send the request (one JSON line, the three streams attached); the kernel's pid."""
    request = {"argv": argv, "cwd": os.getcwd(), "env": dict(os.environ)}
    socket.send_fds(server, [json.dumps(request).encode() + b"\n"], standard_streams())
    answer = reader.readline()
    if not answer:
        raise ConnectionError("the kernel fork server closed the connection before forking")
    return int(json.loads(answer)["pid"])


def forward_signals(pid: int) -> None:
    """Pass each of ``FORWARDED`` on to the kernel."""
    def forward(signum: int, _frame: object) -> None:
        # ProcessLookupError: the kernel has just exited; the server's answer is on its way
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signum)
    for signum in FORWARDED:
        signal.signal(signum, forward)


def start_fresh(kernel_args: list[str], why: OSError) -> NoReturn:
    """Become the kernel ``ipykernel_launcher`` would have started (this process's
    folder, environment and streams are the kernel's): what a run without its server
    does, said on stderr."""
    print(f"kernel_stub: no warm-kernel server ({why.strerror or why}); starting this "
          "kernel from scratch", file=sys.stderr, flush=True)
    os.execv(sys.executable, [sys.executable, "-m", "ipykernel_launcher", *kernel_args])


def main(argv: list[str]) -> int:
    """``kernel_stub.py SOCKET -- KERNEL_ARGS...``: the kernel's exit status."""
    if len(argv) < 3 or argv[2] != "--":
        print("usage: kernel_stub.py SOCKET -- KERNEL_ARGS...", file=sys.stderr)
        return 2
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        try:
            server.connect(argv[1])
            reader = server.makefile("rb")
            pid = ask_for_kernel(server, reader, argv[3:])
        except OSError as exc:  # the server has gone: this kernel starts from scratch
            start_fresh(argv[3:], exc)
        forward_signals(pid)
        line = reader.readline()
    if not line:  # the server died: do not leave its kernel behind
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        print(f"kernel_stub: the fork server went away; kernel {pid} killed", file=sys.stderr)
        return 1
    status = int(json.loads(line)["exit"])
    return status if status >= 0 else 128 - status


if __name__ == "__main__":
    sys.exit(main(sys.argv))
