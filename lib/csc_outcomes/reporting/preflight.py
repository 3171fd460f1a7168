"""A run's options checked before anything runs: parameters (practitioners' context
files included), LA codes, jobs, warehouse, the Dask cluster (``--cluster``).

A wrong option found by a notebook costs every notebook before it (an unknown LA
code ran all of them for ~45 s before an ``AssertionError``) and may do harm on the
way (an LA code is a folder name: ``../../escape`` wrote outside the restricted tree).
:func:`check` finds them first: usage errors raise ``ValueError`` (exit code 2: every
parameters file against its schema, LA codes in form and known to the data, ``jobs``),
and a warehouse this kit cannot read raises
:class:`~csc_outcomes.warehouse.WarehouseSchemaError` (exit code 1, naming the table and
column and saying to ingest again).
"""

from __future__ import annotations

from pathlib import Path

from csc_outcomes import warehouse
from csc_outcomes.ingest import UsageError, la_code
from csc_outcomes.measures import table
from csc_outcomes.reporting import practice_context
from csc_outcomes.reporting.config import RunConfig
from csc_outcomes.reporting.parameters import check_folder


def check_jobs(jobs: object) -> int:
    """``jobs`` when it is a whole number of at least 1; :class:`UsageError` otherwise."""
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise UsageError(f"jobs: expected a whole number of at least 1, got {jobs!r}")
    return jobs


def known_las(warehouse_path: Path, measures_path: Path) -> tuple[list[str], str] | None:
    """The LAs the run's data hold, and where they were found: the warehouse's, else (with
    no warehouse) the measures table's; None when there is neither (the plan says so)."""
    if Path(warehouse_path).is_file():
        return warehouse.la_codes(Path(warehouse_path)), f"the warehouse {warehouse_path}"
    if Path(measures_path).is_file():
        codes = table.read(measures_path)["la_code"].dropna().astype(str).str.upper()
        return sorted(set(codes)), f"the measures table {measures_path}"
    return None


def check_la_codes(codes: tuple[str, ...], warehouse_path: Path, measures_path: Path) -> None:
    """Each code an LA code in form and one the data hold; :class:`UsageError` naming the
    codes that are not, and the LAs there are."""
    for code in codes:
        la_code(code)
    known = known_las(warehouse_path, measures_path)
    if known is None:
        return
    las, where = known
    unknown = [c for c in codes if c.strip().upper() not in las]
    if unknown:
        raise UsageError(f"--la {' '.join(unknown)}: no such LA in {where} (it holds "
                         f"{', '.join(las) or 'no LA'}); check the code, or ingest the LA's returns")


def check_cluster(config: RunConfig) -> None:
    """``--cluster``: the scheduler answers, has workers, and they see the run's inputs
    (``cluster.check_address``); :class:`UsageError` naming the address and the fix."""
    if not config.cluster:
        return
    from csc_outcomes.reporting import cluster  # noqa: PLC0415 - Dask: ~2 s, --cluster only

    inputs = [config.warehouse, config.measures_path, config.notebooks_dir,
              config.parameters_dir]
    cluster.check_address(config.cluster, [Path(p) for p in inputs if p and Path(p).exists()])


def check(config: RunConfig) -> None:
    """Check ``config`` before anything runs (see the module docstring)."""
    check_folder(config.parameters_dir)
    practice_context.check_folder(config.parameters_dir)
    check_jobs(config.jobs)
    if Path(config.warehouse).is_file():
        warehouse.check_schema(Path(config.warehouse))
    check_la_codes(tuple(config.la_codes), Path(config.warehouse), Path(config.measures_path))
    check_cluster(config)
