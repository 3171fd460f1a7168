"""A run's working folders in the restricted tree: owner-only, a snapshot of its inputs,
and no debris left by runs that were killed.

- ``make_private`` creates restricted folders ``0700`` (the umask is not trusted with
  child-level data): the restricted root, the period, each LA's folder, ``runs/`` and
  the run's own folder ``restricted/<period>/.run-<run_id>/`` (``RunPlan.workdir``),
  which holds the input snapshot, the run's measures rows and the staged reports (the
  pooled models are in the model cache, ``restricted/cache/models/``).
- ``snapshot_inputs`` copies the warehouse into ``.run-<id>/inputs/`` at the start,
  and every later stage (notebooks, pooled models, leak scan) reads only the copy
  (``plan.warehouse``; the original stays in ``plan.config``). An ingest that replaces
  the warehouse mid-run then changes nothing the run reads. The copy is checked to be
  of the very file seen before ``prepare`` (which records the warehouse's hashes and
  takes the run's own copy of the measures rows, ``plan.write_measures``): a warehouse
  replaced while the run was starting stops it (run it again), so what the manifest
  records is what the reports were computed from.
- ``clear_debris`` removes what killed runs left (their ``.run-*`` folders, or
  ``.staging-*`` and ``.shared-*`` as older kits named them, papermill's temporary
  folders, atomic writes' temporary files, unfinished publishing folders).
  Only a run holding the trees' locks calls it, so no run is using what it removes; a
  notebook building a model cache entry (JupyterLab, papermill by hand) holds that
  entry's lock instead, and its temporary file is left to it.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import signal
from collections.abc import Iterable, Iterator
from pathlib import Path

from csc_outcomes import atomic
from csc_outcomes.reporting import model_cache
from csc_outcomes.reporting.config import RunError
from csc_outcomes.reporting.papermill_runs import WORK_PREFIX
from csc_outcomes.reporting.plan import RunPlan

#: A run's own folder in ``restricted/<period>/`` (``RunPlan.workdir``): ``.run-<run_id>``.
RUN_FOLDER = ".run-"
#: The same folders as kits before this one named them (staging, pooled models).
OLD_RUN_FOLDERS = (".staging-", ".shared-")
#: A publishing run's folder in ``reports/`` (``publish.work_folder``).
PUBLISH_FOLDER = ".publish-"
#: The ending of ``atomic.atomic_path``'s temporary files.
TEMP_SUFFIX = ".tmp"

#: The environment variable that makes a run die at a named point (``kill_point``).
KILL_ENV = "CSC_OUTCOMES_KILL_AT"

#: A file's identity: device, inode, size, modification time (None: no such file).
Identity = tuple[int, int, int, int] | None


def kill_point(name: str) -> None:
    """Die here, at once and uncleanly (``SIGKILL``), when ``CSC_OUTCOMES_KILL_AT`` is ``name``.

    The tests kill runs at named points (``prepared``: after the report sections were
    worked out; ``render``: after the render; ``publish:built``,
    ``publish:aside``, ``publish:swapped``: during the publishing) to check what a power
    cut or an OOM kill leaves behind.
    """
    if os.environ.get(KILL_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)


def make_private(folder: Path, root: Path | None = None) -> Path:
    """Create ``folder`` (and its missing parents up to ``root``) owner-only; return it.

    Folders that exist are left as they are (a team may share a restricted tree
    through its group on purpose).
    """
    chain = [folder, *folder.parents]
    chain = chain[: chain.index(root) + 1] if root in chain else [folder]
    chain[-1].parent.mkdir(parents=True, exist_ok=True)
    for level in reversed(chain):
        if not level.exists():
            level.mkdir(mode=0o700)
    return folder


def prepare_workspace(plan: RunPlan) -> None:
    """The run's restricted folders, owner-only, before anything is written into them."""
    root = plan.restricted_dir
    for folder in (plan.workdir / "inputs", plan.shared_dir, plan.period_restricted / "runs",
                   *(plan.period_restricted / la for la in plan.la_codes)):
        make_private(folder, root)


def identity(path: Path) -> Identity:
    """What tells one file from its replacement: device, inode, size, mtime."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def copy_private(source: Path, target: Path, expected: Identity = None) -> bool:
    """Copy ``source`` to ``target`` (``0600``); False when there is no ``source``.

    The copy is read through one open file, so a file replaced meanwhile (an ingest
    moves its new warehouse into place) is copied whole, old or new. With ``expected``,
    the file opened must be the one seen then, else ``RunError``.
    """
    try:
        fin = open(source, "rb")  # noqa: SIM115 - closed below; fstat needs it open
    except FileNotFoundError:
        return False
    with fin:
        st = os.fstat(fin.fileno())
        if expected is not None and (st.st_dev, st.st_ino, st.st_size,
                                     st.st_mtime_ns) != expected:
            raise RunError(f"{source} was replaced while the run was starting (an ingest "
                           "finishing?); nothing was run: run again")
        with atomic.atomic_path(target, mode=0o600) as tmp, open(tmp, "wb") as fout:
            shutil.copyfileobj(fin, fout, 1 << 20)
    return True


def snapshot_inputs(plan: RunPlan, warehouse_seen: Identity) -> RunPlan:
    """The plan reading its own copy of the warehouse (see the module docstring).

    ``warehouse_seen`` is ``identity(warehouse)`` taken before ``prepare``. Without a
    warehouse the plan is left as it is: the stage that needs one says so.
    """
    copy = plan.workdir / "inputs" / plan.warehouse.name
    if not copy_private(plan.warehouse, copy, warehouse_seen):
        return plan
    return dataclasses.replace(plan, warehouse=copy)


def remove_workdir(plan: RunPlan) -> None:
    """Remove the run's own folder (input copies, what staging is left)."""
    shutil.rmtree(plan.workdir, ignore_errors=True)


def debris(reports_dir: Path, restricted_dir: Path) -> Iterator[Path]:
    """What runs that were killed left in the two trees (see the module docstring)."""
    periods = [p for p in (restricted_dir.iterdir() if restricted_dir.is_dir() else [])
               if p.is_dir()]
    for period in periods:
        for prefix in (RUN_FOLDER, *OLD_RUN_FOLDERS):
            yield from period.glob(f"{prefix}*")
        yield from period.glob(f"*/{WORK_PREFIX}*")
        for executed in period.glob("*/*.ipynb"):  # papermill's folders, as older kits named them
            yield from (p for p in executed.parent.glob(f".{executed.stem}.*") if p.is_dir())
    for tree in (restricted_dir, reports_dir):
        if tree.is_dir():
            yield from (p for p in tree.rglob(f".*{TEMP_SUFFIX}")
                        if p.is_file() and not model_cache.being_built(p))
    if reports_dir.is_dir():
        yield from reports_dir.glob(f"{PUBLISH_FOLDER}*")


def restore_replaced(publish_folders: Iterable[Path], reports_dir: Path) -> list[Path]:
    """Put back a period a killed run had moved aside but not yet replaced."""
    restored = []
    for folder in publish_folders:
        for old in (folder / "replaced").glob("*"):
            if not (reports_dir / old.name).exists():
                old.rename(reports_dir / old.name)
                restored.append(reports_dir / old.name)
    return restored


def clear_debris(reports_dir: Path, restricted_dir: Path) -> list[Path]:
    """Remove what killed runs left; return what was removed (or put back).

    Call only while holding both trees' locks (``lock.hold``).
    """
    reports_dir, restricted_dir = reports_dir.resolve(), restricted_dir.resolve()
    found = sorted(set(debris(reports_dir, restricted_dir)))
    restored = restore_replaced([p for p in found if p.parent == reports_dir and p.is_dir()],
                                reports_dir)
    for path in found:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
    return restored + found
