"""The ingest, step by step: input folder -> combined canonical tables and QA report.

:func:`ingest_folder` finds the LA folders (:mod:`~csc_outcomes.ingest.discover`),
reads their files a batch of LAs at a time (:mod:`~csc_outcomes.ingest.pool`,
:mod:`~csc_outcomes.ingest.read`), validates each file against its contract for its
collection year (:mod:`~csc_outcomes.ingest.validate`), quarantines rows with problems
in ``rejects``, runs the cross-table checks (:mod:`~csc_outcomes.ingest.crosschecks`),
combines years (:mod:`~csc_outcomes.ingest.combine`) and returns an
:class:`IngestResult` with the QA report (:mod:`~csc_outcomes.ingest.qa`). Storing it is
the warehouse's job (``warehouse.write_ingest``).

Exit codes: 0 completed (rejected rows are reported, not fatal); 1 a file was rejected
(or, with ``strict``, any row was rejected): an entry under an LA folder that is not a
regular file, and a table missing from an LA's latest return
(:mod:`~csc_outcomes.ingest.completeness`, unless allowed with ``allow_missing``), count
as rejected files; 2 a usage error (raised as :class:`UsageError`). When the exit code
is 1 the warehouse is not replaced (unless ``keep_going``), so a half-supplied LA never
reaches the measures.

Problem severities: ``error`` quarantines the row (it is in ``rejects`` and counted in
``rows_rejected``); ``warning`` is reported and the row kept (extra columns, duplicate
keys where the later row wins, episodes of children missing from the header,
overlapping episodes, badly formed UPNs or postcodes, unmatched UPNs/CHILDs).
"""

from __future__ import annotations

import datetime as dt
import sys
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from csc_outcomes.ingest import completeness, qa
from csc_outcomes.ingest.combine import combine_tables
from csc_outcomes.ingest.crosschecks import cross_check
from csc_outcomes.ingest.discover import (
    LaFolder,
    UsageError,
    check_input_dir,
    input_files,
    input_hash,
    la_batches,
    la_folders,
    odd_entry_message,
    relative,
)
from csc_outcomes.ingest.pool import Readers, default_jobs
from csc_outcomes.ingest.qa import format_summary
from csc_outcomes.ingest.sources import FileRejected
from csc_outcomes.ingest.units import Unit
from csc_outcomes.ingest.validate import UNIT_COLUMN, validate_batch

#: Input bytes read and validated together (a batch of whole LAs): large enough that the
#: fixed cost of a validation run is spread over many rows, small enough that the raw
#: strings of one batch are not all held at once.
BATCH_BYTES = 512 * 2**20

#: The stages timed in ``IngestResult.timings`` (``write`` is added by the warehouse).
STAGES = ("read", "validate", "cross_checks", "combine", "report")

#: The columns of ``IngestResult.input_files`` (the warehouse's ``input_files`` table).
INPUT_FILE_COLUMNS = ["la_code", "path", "size", "sha256"]


@dataclass
class IngestResult:
    """What an ingest produced: canonical tables, lineage of supply, problems, QA report."""

    tables: dict[str, pd.DataFrame]
    supplied: pd.DataFrame
    rejects: pd.DataFrame
    repairs: pd.DataFrame
    qa: dict
    exit_code: int
    input_hash: str = ""
    #: every raw file read: la_code, path (relative to the input folder), size, sha256
    input_files: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=INPUT_FILE_COLUMNS))
    started: dt.datetime | None = None
    finished: dt.datetime | None = None
    #: seconds per stage: read, validate, cross_checks, combine, report (and write, by the warehouse)
    timings: dict = field(default_factory=dict)

    def summary(self) -> str:
        """A readable summary of the QA report."""
        return format_summary(self.qa)


@dataclass
class _Ingest:
    """What one ingest gathers as it goes through the batches."""

    input_dir: Path
    today: dt.date
    progress: bool
    n_las: int
    allow_missing: set[str] = field(default_factory=set)
    units: list[Unit] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    files_read: list[tuple[str, Path]] = field(default_factory=list)
    frames: dict[str, list[pd.DataFrame]] = field(default_factory=lambda: defaultdict(list))
    timings: dict[str, float] = field(default_factory=lambda: dict.fromkeys(STAGES, 0.0))
    las_done: int = 0

    def say(self, text: str) -> None:
        """A progress line on stderr (when ``progress``)."""
        if self.progress:
            print(text, file=sys.stderr, flush=True)

    def add_unit(self, unit: Unit) -> Unit:
        """Number ``unit`` and keep it."""
        unit.index = len(self.units)
        self.units.append(unit)
        return unit

    def _la_started(self, la: LaFolder) -> None:
        """Count an LA as started, say so, and refuse its entries that are not regular files."""
        self.las_done += 1
        self.say(f"[{self.las_done}/{self.n_las}] {la.la_code}: {len(la.files)} file(s)")
        for p in la.odd:
            label = relative(p, self.input_dir)
            source = p.relative_to(la.path).parts[0].lower()
            self.add_unit(Unit(la.la_code, source, None, label, None)).reject(
                FileRejected(odd_entry_message(p, label), rule="not_a_file"))

    def read_batch(self, readers: Readers, i: int) -> list[Unit]:
        """The units of every file of batch ``i`` (files no reader takes are ignored)."""
        batch: list[Unit] = []
        for f, got in readers.read(i, self._la_started):
            if not got:
                self.ignored.append(relative(f, self.input_dir))
                continue
            for u in got:
                batch.append(self.add_unit(u))
            self.files_read.append((got[0].la_code, f))
        return batch

    def keep_accepted(self, tables: dict[str, pd.DataFrame]) -> None:
        """Count each unit's accepted rows (and a feed's years) and keep the rows, in the
        files' order, for the combine step."""
        for t, df in tables.items():
            unit_col = df[UNIT_COLUMN].to_numpy()
            for g, n in zip(*np.unique(unit_col, return_counts=True), strict=True):
                self.units[g].accepted = int(n)
            if "collection_year" in df.columns and any(self.units[g].year is None for g in np.unique(unit_col)):
                yrs = df[[UNIT_COLUMN, "collection_year"]].dropna().drop_duplicates()
                for g, y in zip(yrs[UNIT_COLUMN].to_numpy(), yrs["collection_year"].to_numpy(), strict=True):
                    self.units[g].years.append(int(y))
            if len(df):
                if len(unit_col) > 1 and (unit_col[1:] < unit_col[:-1]).any():
                    ordered = df.take(np.argsort(unit_col, kind="stable"))  # the files' order, as read
                else:
                    ordered = df
                self.frames[t].append(ordered.drop(columns=UNIT_COLUMN).reset_index(drop=True))

    def ingest_batch(self, readers: Readers, i: int) -> None:
        """Read, validate and cross-check batch ``i``, timing each stage."""
        t0 = time.perf_counter()
        batch = self.read_batch(readers, i)
        t1 = time.perf_counter()
        tables = validate_batch(batch, self.today)
        t2 = time.perf_counter()
        cross_check(tables, batch, self.units)
        self.keep_accepted(tables)
        del tables
        t3 = time.perf_counter()
        self.timings["read"] += t1 - t0
        self.timings["validate"] += t2 - t1
        self.timings["cross_checks"] += t3 - t2
        if len(readers.batches) > 1:
            self.say(f"  batch of {len(readers.batches[i])} LA(s): read {t1 - t0:.1f}s, validated {t2 - t1:.1f}s, "
                     f"cross-checked {t3 - t2:.1f}s")

    def result(self, tables: dict[str, pd.DataFrame], repairs: pd.DataFrame, strict: bool,
               started: dt.datetime) -> IngestResult:
        """The result: ``supplied``, ``rejects``, the exit code and the QA report."""
        t0 = time.perf_counter()
        missing = completeness.missing_tables(self.units)
        for unit in completeness.refused_units([m for m in missing if m.table not in self.allow_missing]):
            self.add_unit(unit)
        file_rejected = any(u.file_rejected for u in self.units)
        rows_rejected = sum(u.rejected_rows for u in self.units)
        exit_code = 1 if file_rejected or (strict and rows_rejected) else 0
        files = input_files(self.input_dir, self.files_read)
        ihash = input_hash(files)
        supplied, rejects = qa.supplied(self.units), qa.rejects(self.units)
        report = qa.qa_report(self.units, self.ignored, self.input_dir, self.today, strict, exit_code,
                              ihash, repairs)
        report["missing_tables"] = [m.record(m.table in self.allow_missing) for m in missing]
        self.timings["report"] = time.perf_counter() - t0
        return IngestResult(tables=tables, supplied=supplied, rejects=rejects, repairs=repairs, qa=report,
                            exit_code=exit_code, input_hash=ihash,
                            input_files=pd.DataFrame(files, columns=INPUT_FILE_COLUMNS), started=started,
                            finished=dt.datetime.now(dt.UTC), timings=self.timings)


def _jobs(jobs: int | None) -> int:
    """The number of reader processes (:class:`UsageError` below 1)."""
    n = default_jobs() if jobs is None else int(jobs)
    if n < 1:
        raise UsageError(f"jobs must be at least 1 (got {jobs})")
    return n


def ingest_folder(input_dir: Path, *, strict: bool = False, progress: bool = False,
                  today: dt.date | None = None, la_codes: list[str] | None = None,
                  batch_bytes: int | None = None, jobs: int | None = None,
                  allow_missing: Iterable[str] = ()) -> IngestResult:
    """Read, validate and combine every LA folder under ``input_dir``.

    ``today`` is the date that "dates in the future" are judged against (default the
    real today); ``la_codes`` limits the ingest to those LA folders.

    LAs are handled in batches of about ``batch_bytes`` of input (default
    :data:`BATCH_BYTES`): every file of a batch is read, then the tables of the same
    table and collection year are validated together and the cross checks run on the
    batch at once; problems are reported per file exactly as if each file had been
    validated alone. ``IngestResult.timings`` holds the seconds spent in each stage.

    ``jobs`` worker processes read, decode and parse the files (default
    :func:`~csc_outcomes.ingest.pool.default_jobs`); the result is the same for any
    ``jobs``, and ``jobs=1`` reads in this process. With workers, ``timings["read"]``
    is the time spent waiting for them.

    ``allow_missing`` names tables whose absence from an LA's latest return is accepted
    (recorded in the QA report's ``missing_tables``); any other table missing there, and
    any entry that is not a regular file, rejects the ingest (exit code 1).
    """
    started = dt.datetime.now(dt.UTC)
    input_dir = Path(input_dir)
    check_input_dir(input_dir)
    folders = la_folders(input_dir, la_codes)
    batches = la_batches(folders, batch_bytes or BATCH_BYTES)
    run = _Ingest(input_dir, today or dt.date.today(), progress, n_las=len(folders),
                  allow_missing=completeness.check_allowed(allow_missing))
    with Readers(input_dir, batches, _jobs(jobs)) as readers:
        for i in range(len(batches)):
            run.ingest_batch(readers, i)
    t0 = time.perf_counter()
    tables, repairs = combine_tables(run.frames)
    run.timings["combine"] = time.perf_counter() - t0
    return run.result(tables, repairs, strict, started)
