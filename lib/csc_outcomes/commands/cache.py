"""The `cache` subcommand: list or clear the pooled models' cache in the restricted tree."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

DESCRIPTION = """\
List or clear the pooled models' cache: <restricted>/cache/models/<key>.pkl.

A run fits the pooled models (re-referral, attendance, proportionality) once, before
its notebooks start, and keeps each under a key made of the model's specification,
the period end, the content of the warehouse columns it reads and the code's version;
later runs reuse an entry until one of those changes (docs/architecture.md, "The
pooled models' cache").
The entries hold child-level frames: the folder is owner-only (0700, files 0600),
inside the restricted tree, never published.

  list    each entry: its key, size, when it was written, and what it is (the model,
          period end and warehouse) when a run fitted or used it
  clear   remove every entry, with any temporary file a killed build left; an entry
          being built at that moment is left to its builder

A run removes the entries it has superseded itself: those of the same model, period
end and warehouse file fitted on an earlier version of the warehouse (a correction, a
re-ingest). An entry built by a notebook alone stays until 'cache clear'.

Exit codes: 0 done (also when the cache is empty or absent); 2 usage error.
"""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register `cache`."""
    p = subparsers.add_parser("cache", help="list or clear the pooled models' cache",
                              description=DESCRIPTION,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("action", choices=["list", "clear"], help="what to do")
    p.add_argument("--restricted-dir", "--restricted", dest="restricted_dir", type=Path,
                   default=Path("restricted"), metavar="DIR",
                   help="the restricted tree whose cache it is (default: %(default)s)")
    p.set_defaults(func=run)


def size_text(size: int) -> str:
    """Bytes in words: ``512 bytes``, ``1.5 MB``."""
    if size < 1024:
        return f"{size} bytes"
    value = float(size)
    for unit in ("KB", "MB", "GB", "TB"):
        value /= 1024
        if value < 1024 or unit == "TB":
            break
    return f"{value:.1f} {unit}"


def run(args: argparse.Namespace) -> int:
    """List or clear the cache; return the exit code."""
    from csc_outcomes.reporting import model_cache  # here, not above: --help stays fast

    cache = model_cache.cache_root(args.restricted_dir)
    if not Path(args.restricted_dir).is_dir():
        # a mistyped folder must not look like an empty cache
        print(f"cache: no restricted folder at {args.restricted_dir} (give the run's "
              "--restricted-dir); nothing to list or clear", file=sys.stderr)
        return 0
    if args.action == "list":
        found = model_cache.entries(cache)
        for e in found:
            when = dt.datetime.fromtimestamp(e.modified).isoformat(timespec="seconds")
            what = (f"{e.about.get('what') or e.about.get('model')}, period ending "
                    f"{e.about.get('period_end')}, {e.about.get('warehouse')}" if e.about else
                    "not described (built by a notebook, or by a run stopped before its "
                    "models were all fitted)")
            print(f"{e.key}  {size_text(e.size):>10}  {when}  {what}")
        print(f"cache: {len(found)} model(s), {size_text(sum(e.size for e in found))} "
              f"in {model_cache.models_dir(cache)}")
        return 0
    removed, size, busy = model_cache.clear(cache)
    print(f"cache: removed {removed} model(s) and {size_text(size)} from "
          f"{model_cache.models_dir(cache)}")
    if busy:
        print(f"cache: {busy} model(s) being built were left to their builder", file=sys.stderr)
    return 0
