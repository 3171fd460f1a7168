"""Argument types the subcommands share: ``--jobs N`` and ``--la CODE``, checked on parsing;
and the ``--cluster`` option of ``run`` and ``demo``.

As ``argparse`` types, a wrong value stops the command at once with exit code 2 and
the option's name (``--jobs 0`` no longer becomes 2 silently; ``--la ../../escape`` is
never used as a folder name).
"""

from __future__ import annotations

import argparse
import os


def jobs(text: str) -> int:
    """``--jobs N``: a whole number of at least 1."""
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {text!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {n}")
    return n


def default_jobs() -> int:
    """Notebooks a run runs at once unless told: one more than the machine's cores. A
    notebook's kernel waits on its messages a fifth of its time (starting, replying,
    stopping), so a third kernel fills two cores (12% faster a notebook on the project's
    2-core machine, national data)."""
    return (os.cpu_count() or 1) + 1


def la_code(text: str) -> str:
    """``--la CODE``: an LA code (upper-cased), never a path."""
    # the ingest step loads pandas: imported only when --la is given, so that
    # `csc-outcomes --help` stays fast
    from csc_outcomes.ingest import UsageError
    from csc_outcomes.ingest import la_code as checked

    try:
        return checked(text)
    except UsageError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


CLUSTER_HELP = (
    "run the notebooks on a Dask distributed cluster: the scheduler's address "
    "(tcp://host:8786), or 'local' for a cluster of --jobs worker processes on this "
    "machine. Workers must see the warehouse, notebooks, parameters and restricted tree "
    "at the same paths as this machine (a shared file system); an address that does not "
    "answer stops the run before anything runs (exit 2). See docs/cluster.md")


FRESH_KERNELS_HELP = (
    "start each notebook's kernel from scratch. By default each is forked from one "
    "process that has already imported the notebooks' libraries (pandas, matplotlib, the "
    "kit), which saves seconds a notebook; the reports are the same either way")

NO_PREPARE_HELP = (
    "let each notebook work out its report's tables, charts and sentences itself. By "
    "default the run works them out first, in --jobs worker processes (on the cluster with "
    "--cluster), and each notebook shows what was worked out for it, which costs little "
    "more than a trivial notebook; the reports are the same either way")


def add_cluster(parser: argparse.ArgumentParser) -> None:
    """``--cluster ADDRESS|local`` (``reporting.cluster``), ``--fresh-kernels``
    (``reporting.warm_kernels``) and ``--no-prepare`` (``reporting.sections``): how the
    notebooks run, the same on every command."""
    parser.add_argument("--cluster", metavar="ADDRESS", default=None, help=CLUSTER_HELP)
    parser.add_argument("--fresh-kernels", action="store_true", help=FRESH_KERNELS_HELP)
    parser.add_argument("--no-prepare", action="store_true", help=NO_PREPARE_HELP)
