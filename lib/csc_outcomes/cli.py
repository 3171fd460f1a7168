"""The ``csc-outcomes`` command: one subcommand per step of the flow.

Each subcommand lives in ``csc_outcomes.commands.<name>`` and exposes
``add_parser(subparsers)``, which registers its arguments and sets ``func`` to a
callable taking the parsed arguments and returning an exit code (and, optionally,
``failure_note``: what to tell the user about the state left after an unexpected
failure). Unexpected errors are caught here, once for every command: a one-line
message and exit 1, or the traceback with ``CSC_OUTCOMES_DEBUG=1``. Exit codes: 0 done,
1 the data or a run failed (the message says what to fix), 2 a usage error, 130 stopped
by Ctrl-C, 143 stopped by SIGTERM (a scheduler's stop or timeout): both stop the work
under way and clean up after it as they unwind (``stopping``).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from csc_outcomes import __version__, stopping

#: Subcommands in the order of the flow (the order ``--help`` lists them).
COMMANDS = ["synth", "ingest", "measures", "published", "run", "demo", "export", "reproduce",
            "cache"]


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser, with every subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="csc-outcomes",
        description=(
            "Outcome measures and reports for English children's social care. "
            "Flow: synth (demo data) -> ingest -> measures -> run (notebooks, reports)."
        ),
        epilog="Run 'csc-outcomes COMMAND --help' for each command's options.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        module = importlib.import_module(f"csc_outcomes.commands.{name}")
        module.add_parser(subparsers)
    return parser


def stopped_exit(terminated: bool) -> int:
    """Say how the command was stopped; its exit code (143 SIGTERM, 130 Ctrl-C)."""
    by = "stopped by SIGTERM" if terminated else "interrupted"
    print(f"{by}; nothing half-written was left in place", file=sys.stderr)
    return 143 if terminated else 130


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    stop = stopping.Stop()
    try:
        with stopping.handled(ignored_after_a_stop=True) as stop:
            code = int(args.func(args) or 0)
            stopping.check()  # a stop whose raise Python dropped: not "done"
            return code
    except BrokenPipeError:  # the reader went away (`| head`): not a failure of ours
        sys.stderr.close()
        return 0
    except KeyboardInterrupt as stopped:
        return stopped_exit(isinstance(stopped, stopping.Terminated) or stop.kind is stopping.Terminated)
    except Exception as exc:  # the one place no traceback reaches the user
        if stop.kind is not None:  # the stop, as a library's own error (DuckDB's interrupt)
            return stopped_exit(stop.kind is stopping.Terminated)
        if os.environ.get("CSC_OUTCOMES_DEBUG"):
            raise
        note = getattr(args, "failure_note", None)
        print(f"{parser.prog} {args.command}: failed ({type(exc).__name__}: {exc})"
              + (f"; {note}" if note else "")
              + ". Set CSC_OUTCOMES_DEBUG=1 to see the traceback.", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
