"""Ingest: input folder -> readers -> contracts -> combined canonical tables (+ warehouse).

``ingest_folder`` reads every LA folder (layout in ``../shared/reference/statutory-data.md``),
validates each file against its contract for its collection year, quarantines rows
with problems in ``rejects``, runs the cross-table checks, combines years
(``combine``) and returns an :class:`IngestResult` with the QA report. ``ingest``
also writes the warehouse (atomically, ``warehouse.write``) and the QA report file.

Files are read a batch of LAs at a time (about :data:`BATCH_BYTES` of input); the tables
of a batch are validated together, one run per table and collection year, and the
cross-table checks run on the whole batch; every problem is still reported against its
own file and line. ``IngestResult.timings`` gives the seconds spent in each stage.

Exit codes: 0 completed (rejected rows are reported, not fatal); 1 a file was rejected
(or, with ``strict``, any row was rejected); 2 a usage error (raised as
:class:`UsageError`). When the exit code is 1 the warehouse is not replaced (unless
``keep_going``), so a half-supplied LA never reaches the measures.

Problem severities: ``error`` quarantines the row (it is in ``rejects`` and counted in
``rows_rejected``); ``warning`` is reported and the row kept (extra columns, duplicate
keys where the later row wins, episodes of children missing from the header,
overlapping episodes, badly formed UPNs or postcodes, unmatched UPNs/CHILDs).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from csc_outcomes.ingest import contracts
from csc_outcomes.ingest.combine import REPAIR_COLUMNS, combine_table, empty_repairs
from csc_outcomes.keys import TABLE_SOURCE
from csc_outcomes.ingest.sources import FileRejected, RawTable, cin_census, contacts, school_census, ssda903

REJECT_COLUMNS = ["la_code", "source_file", "table_name", "source_line", "column", "value", "rule", "message"]
SUPPLIED_COLUMNS = ["la_code", "source", "table_name", "collection_year", "source_file"]


class UsageError(ValueError):
    """The command was called wrongly (missing input folder, unknown LA); exit code 2."""


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
    started: dt.datetime | None = None
    finished: dt.datetime | None = None
    #: seconds per stage: read, validate, cross_checks, combine, report (and write, by ``ingest``)
    timings: dict = field(default_factory=dict)

    def summary(self) -> str:
        """A readable summary of the QA report."""
        return format_summary(self.qa)


@dataclass
class _Unit:
    """One table read from one file (a CSV, or one table of an XML file)."""

    la_code: str
    source: str
    table: str | None
    label: str
    year: int | None
    rows_read: int = 0
    raw: RawTable | None = None  # what the reader returned, until validated
    index: int = -1  # position in the ingest's list of units
    accepted: int = 0  # rows accepted (after the cross checks)
    years: list[int] = field(default_factory=list)  # feeds: the collection years their rows fall in
    problems: list[pd.DataFrame] = field(default_factory=list)
    rejected_rows: int = 0
    file_rejected: bool = False
    unmatched: int | None = None


# --------------------------------------------------------------------------- discovery


def _la_folders(input_dir: Path, la_codes: list[str] | None) -> list[Path]:
    folders = sorted(p for p in input_dir.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))
    if la_codes:
        wanted = {c.strip().upper() for c in la_codes}
        found = {p.name.upper() for p in folders}
        missing = sorted(wanted - found)
        if missing:
            raise UsageError(f"no folder for LA code(s) {', '.join(missing)} in {input_dir} "
                             f"(found: {', '.join(sorted(found)) or 'none'})")
        folders = [p for p in folders if p.name.upper() in wanted]
    return folders


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))


def _rel(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()


def input_hash(input_dir: Path, files: list[Path]) -> str:
    """SHA-256 over the relative paths and contents of the files read."""
    h = hashlib.sha256()
    for f in sorted(files):
        h.update(_rel(f, input_dir).encode())
        h.update(b"\0")
        h.update(hashlib.sha256(f.read_bytes()).digest())
    return h.hexdigest()


# --------------------------------------------------------------------------- per file


def _year_of(folder_name: str, label: str) -> int:
    try:
        year = int(folder_name)
    except ValueError:
        raise FileRejected(f"{label}: the folder '{folder_name}' is not a collection year; put the file in a "
                           f"folder named by the year the return ends ({contracts.FIRST_YEAR}-{contracts.LAST_YEAR})",
                           rule="collection_year") from None
    if not contracts.FIRST_YEAR <= year <= contracts.LAST_YEAR:
        raise FileRejected(f"{label}: collection year {year} is outside the years the contracts cover "
                           f"({contracts.FIRST_YEAR}-{contracts.LAST_YEAR}); check the folder name",
                           rule="collection_year")
    return year


def _reject_file(unit: _Unit, exc: FileRejected) -> None:
    unit.file_rejected = True
    unit.raw = None
    unit.problems.append(pd.DataFrame([{
        "row": -1, "line": exc.line, "column": None, "value": None, "rule": exc.rule,
        "message": str(exc), "severity": "error",
    }]))


def _read_file(path: Path, input_dir: Path, la_code: str, la_dir: Path) -> list[_Unit]:
    """Read one file into units (one per table) holding their RawTables; [] when the file
    is not one ingest reads. A file-level problem gives one rejected unit."""
    label = _rel(path, input_dir)
    parts = path.relative_to(la_dir).parts
    source = parts[0].lower() if len(parts) > 1 else ""
    suffix = path.suffix.lower()
    try:
        if source == "ssda903":
            if len(parts) != 3:
                raise FileRejected(f"{label}: SSDA903 files belong in ssda903/<year>/; move the file",
                                   rule="unexpected_location")
            year = _year_of(parts[1], label)
            if suffix == ".xml":
                raws = ssda903.read_xml(path, label)
            elif suffix == ".csv":
                raws = [ssda903.read_csv(path, label)]
            else:
                return []
            units = []
            for raw in raws:
                u = _Unit(la_code, "ssda903", raw.table, label, year)
                first = contracts.load_contract(raw.table).first_year
                if year < first:
                    raw.notes.append(dict(line=None, column=None, value=str(year), rule="table_not_collected",
                                          message=f"{label}: {raw.table} is collected from {first}; "
                                                  f"check the year folder ({year})", severity="warning"))
                u.raw = raw
                units.append(u)
            return units
        if source == "cin":
            if suffix != ".xml":
                return []
            if len(parts) != 3:
                raise FileRejected(f"{label}: CIN census files belong in cin/<year>/; move the file",
                                   rule="unexpected_location")
            year = _year_of(parts[1], label)
            raws, stated = cin_census.read(path, label)
            units = []
            for raw in raws:
                u = _Unit(la_code, "cin", raw.table, label, year)
                if stated and raw.table == "cin_children":
                    ref = contracts.parse_dates(pd.Series([stated.strip()]))[0]
                    if pd.notna(ref):
                        ref_year = ref.year + (1 if ref.month >= 4 else 0)
                        if ref_year != year:
                            raw.notes.append(dict(line=None, column="ReferenceDate", value=stated, rule="collection_year",
                                                  message=f"{label}: the census ReferenceDate {stated} is in collection "
                                                          f"year {ref_year}, but the file is in folder {year}; check the folder",
                                                  severity="warning"))
                u.raw = raw
                units.append(u)
            return units
        feed_reader = {"school_census": school_census.read, "contacts": contacts.read}.get(source)
        if feed_reader is None or suffix != ".csv":
            return []
        raw = feed_reader(path, label)
        u = _Unit(la_code, source, raw.table, label, None)
        u.raw = raw
        return [u]
    except FileRejected as exc:
        u = _Unit(la_code, source or "unknown", None, label, None)
        _reject_file(u, exc)
        return [u]
    except Exception as exc:  # noqa: BLE001 - a data problem must not reach the user as a traceback
        if os.environ.get("CSC_OUTCOMES_DEBUG"):
            raise
        u = _Unit(la_code, source or "unknown", None, label, None)
        _reject_file(u, FileRejected(f"{label}: could not be read ({type(exc).__name__}: {exc}); check the file "
                                     "is a valid export, and report this message if it is", rule="file_unreadable"))
        return [u]


# --------------------------------------------------------------------------- cross checks


def _la_batches(folders: list[Path], batch_bytes: int) -> list[list[Path]]:
    """LA folders in groups of about ``batch_bytes`` of input (at least one LA each)."""
    batches: list[list[Path]] = []
    size = 0
    for folder in folders:
        n = sum(f.stat().st_size for f in _files(folder))
        if not batches or (size + n > batch_bytes and batches[-1]):
            batches.append([])
            size = 0
        batches[-1].append(folder)
        size += n
    return batches


def _validate_group(units: list[_Unit], table: str, year: int | None, today: dt.date) -> pd.DataFrame:
    """Type and validate the RawTables of several units of one table and collection year
    at once (one pandera run, whole columns); record each unit's problems and return the
    accepted rows, typed, with lineage and ``_unit`` (the unit's index)."""
    frames, lines, sizes = [], [], []
    for unit in units:
        raw = unit.raw
        df = raw.frame.reset_index(drop=True)
        unit.rows_read = len(df) + len(raw.bad_lines)
        if raw.notes:
            unit.problems.append(pd.DataFrame([{**n, "row": -1} for n in raw.notes]))
        if raw.bad_lines:
            unit.problems.append(pd.DataFrame({
                "row": -1, "line": [b[0] for b in raw.bad_lines], "column": None, "value": None,
                "rule": "field_count",
                "message": [f"{unit.label} line {b[0]}: {b[1]}; remove the extra field(s) or quote values "
                            "holding commas" for b in raw.bad_lines],
                "severity": "error",
            }))
            unit.rejected_rows += len(raw.bad_lines)
        frames.append(df)
        lines.append(np.asarray(raw.lines, dtype="int64"))
        sizes.append(len(df))
        unit.raw = None
    big = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
    del frames
    all_lines = np.concatenate(lines) if lines else np.array([], dtype="int64")
    sizes_a = np.asarray(sizes, dtype="int64")
    offsets = np.concatenate([[0], np.cumsum(sizes_a)])
    typed, probs = contracts.validate(big, table, year if year is not None else contracts.LAST_YEAR,
                                      today=today, lines=all_lines)
    del big
    keep = np.ones(len(typed), dtype=bool)
    if len(probs):
        prow = probs["row"].to_numpy(dtype="int64")
        uidx = np.searchsorted(offsets, prow, side="right") - 1
        probs["row"] = prow - offsets[uidx]
        labels = np.array([u.label for u in units], dtype=object)[uidx]
        probs["message"] = (pd.Series(labels, index=probs.index) + " line " + probs["line"].astype(str) + ": "
                            + probs["message"])
        err = probs["severity"].to_numpy() == "error"
        keep[prow[err]] = False
        _split_problems(probs, uidx, units)
    unit_pos = np.repeat(np.arange(len(units)), sizes_a)
    rejected = np.bincount(unit_pos[~keep], minlength=len(units))
    for unit, n in zip(units, rejected):
        unit.rejected_rows += int(n)
    acc = typed[keep] if not keep.all() else typed
    del typed
    pos = unit_pos[keep]
    acc = acc.reset_index(drop=True)
    acc["la_code"] = pd.array(np.array([u.la_code for u in units], dtype=object)[pos], dtype=contracts._str_dtype())
    if year is not None:
        acc["collection_year"] = np.full(len(acc), year, dtype="int64")
    else:
        date_col = {"attendance": "term_start", "suspensions": "start_date", "contacts": "contact_date"}[table]
        d = acc[date_col]
        acc["collection_year"] = (d.dt.year + (d.dt.month >= 4).astype("int64")).astype("Int64")
    acc["source_file"] = pd.array(np.array([u.label for u in units], dtype=object)[pos],
                                  dtype=contracts._str_dtype())
    acc["source_line"] = all_lines[keep]
    out = contracts.coerce_frame(acc, table)
    out["_unit"] = np.array([u.index for u in units], dtype="int64")[pos]
    return out


def _split_problems(probs: pd.DataFrame, uidx: np.ndarray, units: list[_Unit]) -> None:
    """Hand each unit its problems (rows of ``probs`` whose unit position is ``uidx``), in order."""
    order = np.argsort(uidx, kind="stable")
    su = uidx[order]
    starts = np.flatnonzero(np.r_[True, su[1:] != su[:-1]])
    ends = np.r_[starts[1:], len(su)]
    for a, b in zip(starts, ends):
        units[su[a]].problems.append(probs.iloc[order[a:b]].reset_index(drop=True))


def _apply_cross_batch(frame: pd.DataFrame, probs: pd.DataFrame, units: list[_Unit]) -> pd.DataFrame:
    """Hand cross-check problems (rows are positions in ``frame``, several units) to their
    units; drop rows with an error. Returns the frame kept."""
    if probs.empty:
        return frame
    rows = probs["row"].to_numpy(dtype="int64")
    unit_col = frame["_unit"].to_numpy()
    gidx = unit_col[rows]
    uniq, first = np.unique(unit_col, return_index=True)
    start = dict(zip(uniq.tolist(), first.tolist()))
    probs = probs.copy()
    probs["row"] = rows - np.array([start[g] for g in gidx.tolist()], dtype="int64")
    labels = np.array([units[g].label for g in gidx.tolist()], dtype=object)
    probs["message"] = pd.Series(labels, index=probs.index) + " line " + probs["line"].astype(str) + ": " + probs["message"]
    _split_problems(probs, gidx, units)
    err = rows[probs["severity"].to_numpy() == "error"]
    if len(err):
        keep = np.ones(len(frame), dtype=bool)
        keep[np.unique(err)] = False
        for g, n in zip(*np.unique(unit_col[~keep], return_counts=True)):
            units[g].rejected_rows += int(n)
        frame = frame[keep].reset_index(drop=True)
    return frame


def _cross_checks(tables: dict[str, pd.DataFrame], batch: list[_Unit], units: list[_Unit]) -> None:
    """The cross-row and cross-table checks of one batch of LAs, every file at once.

    ``tables`` holds the batch's accepted rows per table (``_unit`` names the file);
    per file: keys, overlaps, SSDA903 rows against that LA and year's header; per LA:
    feeds' UPN / CHILD matched to the LA's children (any year).
    """
    ok = [u for u in batch if not u.file_rejected and u.table]
    # the header of each (LA, year): the last header file read for it
    header_unit = {(u.la_code, u.year): u.index for u in ok if u.table == "header"}
    for table in list(tables):
        c = contracts.load_contract(table)
        for chk in c.cross_checks:
            frame = tables[table]
            name, sev = chk["name"], chk.get("severity", "warning")
            if frame.empty:
                continue
            if name == "unique_key":
                p = contracts.duplicate_keys(frame, table, group=["_unit"])
            elif name == "child_in_table":
                hdr = tables.get("header")
                unit_col = frame["_unit"].to_numpy()
                hu_of = np.full(len(units), -1, dtype="int64")
                for u in ok:
                    if u.table == table:
                        hu_of[u.index] = header_unit.get((u.la_code, u.year), -1)
                hu = hu_of[unit_col]
                checked = hu >= 0
                if not checked.any():
                    continue
                if hdr is not None and len(hdr):
                    known = pd.MultiIndex.from_arrays([hdr["_unit"].to_numpy(), hdr["CHILD"].to_numpy(dtype=object)])
                    found = pd.MultiIndex.from_arrays([hu, frame[chk["column"]].to_numpy(dtype=object)]).isin(known)
                else:
                    found = np.zeros(len(frame), dtype=bool)
                p = contracts.missing_from(frame, chk["column"], None, chk["other"], "child_not_in_header", sev,
                                           missing=checked & ~found)
            elif name == "no_overlap":
                p = contracts.overlapping(frame, chk["by"], chk["start"], chk["end"], group="_unit")
            else:
                continue
            if len(p) and name != "child_in_table":
                p["severity"] = sev
            tables[table] = _apply_cross_batch(frame, p, units)
    # feeds: UPN / CHILD matched to the LA's children (any year); unmatched counted per file
    for table in list(tables):
        for chk in contracts.load_contract(table).cross_checks:
            if chk["name"] != "matched":
                continue
            frame = tables[table]
            others = chk["other"] if isinstance(chk["other"], list) else [chk["other"]]
            ocols = chk["other_column"] if isinstance(chk["other_column"], list) else [chk["other_column"]]
            col = chk["column"]
            pools = []
            for t, oc in zip(others, ocols):
                f = tables.get(t)
                if f is not None and len(f):
                    pools.append(pd.DataFrame({"la": f["la_code"].to_numpy(dtype=object),
                                               "v": f[oc].to_numpy(dtype=object)}).dropna())
            if pools:
                pool = pd.concat(pools, ignore_index=True).drop_duplicates()
                known = pd.MultiIndex.from_arrays([pool["la"].to_numpy(), pool["v"].to_numpy()])
                found = pd.MultiIndex.from_arrays([frame["la_code"].to_numpy(dtype=object),
                                                   frame[col].to_numpy(dtype=object)]).isin(known)
            else:
                found = np.zeros(len(frame), dtype=bool)
            miss = ~found & frame[col].notna().to_numpy()
            unit_col = frame["_unit"].to_numpy()
            n_rows = np.bincount(unit_col, minlength=len(units))
            n_miss = np.bincount(unit_col[miss], minlength=len(units))
            where = " and ".join(f"{t}.{c}" for t, c in zip(others, ocols))
            probs = []
            for u in ok:
                if u.table != table:
                    continue
                u.unmatched = int(n_miss[u.index])
                if not u.unmatched:
                    continue
                first = int(frame["source_line"].to_numpy()[np.flatnonzero(miss & (unit_col == u.index))[0]])
                supplied_any = any(o.la_code == u.la_code and o.table in others for o in ok)
                why = "" if supplied_any else f" ({' / '.join(others)} not supplied for {u.la_code})"
                probs.append(pd.DataFrame([{
                    "row": -1, "line": first, "column": col, "value": str(u.unmatched), "rule": "unmatched",
                    "message": f"{u.label} line {first}: "
                               f"{u.unmatched} of {int(n_rows[u.index])} rows have a {col} matching no child in "
                               f"{where}{why}; {chk.get('consequence', 'they are kept but no measure can use them')} "
                               f"(first at line {first}). Check the {col}s with the team that supplies the feed",
                    "severity": chk.get("severity", "warning"),
                }]))
                u.problems.append(probs[-1])


# --------------------------------------------------------------------------- main


# worker processes that read and parse files (ingest_folder(jobs=...), --jobs)
def default_jobs() -> int:
    """``min(2, os.cpu_count())``: the readers' processes when ``jobs`` is not given."""
    return max(1, min(2, os.cpu_count() or 1))


def _read_file_job(path: Path, input_dir: Path, la_code: str, la_dir: Path, debug: bool) -> list[_Unit]:
    """:func:`_read_file` in a worker process (``CSC_OUTCOMES_DEBUG`` as in the caller)."""
    if debug:
        os.environ["CSC_OUTCOMES_DEBUG"] = "1"
    else:
        os.environ.pop("CSC_OUTCOMES_DEBUG", None)
    return _read_file(path, input_dir, la_code, la_dir)


def _reader_pool(n: int) -> "Any | None":
    """A pool of ``n`` reader processes, forked now (at the start of the ingest, while
    the process is small): no re-import of the caller's ``__main__``, so scripts and
    notebooks without an ``if __name__ == "__main__"`` guard work."""
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    if "fork" not in mp.get_all_start_methods():  # Windows: read in this process
        return None
    return ProcessPoolExecutor(max_workers=n, mp_context=mp.get_context("fork"))


#: Input bytes read and validated together (a batch of whole LAs): large enough that the
#: fixed cost of a validation run is spread over many rows, small enough that the raw
#: strings of one batch are not all held at once.
BATCH_BYTES = 512 * 2**20


def ingest_folder(input_dir: Path, *, strict: bool = False, progress: bool = False,
                  today: dt.date | None = None, la_codes: list[str] | None = None,
                  batch_bytes: int | None = None, jobs: int | None = None) -> IngestResult:
    """Read, validate and combine every LA folder under ``input_dir``.

    ``today`` is the date that "dates in the future" are judged against (default the
    real today); ``la_codes`` limits the ingest to those LA folders.

    LAs are handled in batches of about ``batch_bytes`` of input (default
    :data:`BATCH_BYTES`): every file of a batch is read, then the tables of the same
    table and collection year are validated together and the cross checks run on the
    batch at once; problems are reported per file exactly as if each file had been
    validated alone. ``IngestResult.timings`` holds the seconds spent in each stage.

    ``jobs`` worker processes read, decode and parse the files (default
    :func:`default_jobs`); each returns one file's raw tables, and the main process
    takes them in the files' order, so the result is the same for any ``jobs``. While
    a batch is validated, the workers read the next one. ``jobs=1`` reads in this
    process. With workers, ``timings["read"]`` is the time spent waiting for them.
    """
    started = dt.datetime.now(dt.timezone.utc)
    input_dir = Path(input_dir)
    if not input_dir.exists():
        raise UsageError(f"input folder {input_dir} does not exist")
    if not input_dir.is_dir():
        raise UsageError(f"{input_dir} is not a folder; give the folder holding one sub-folder per LA")
    today = today or dt.date.today()
    folders = _la_folders(input_dir, la_codes)
    if not folders:
        raise UsageError(f"{input_dir} holds no LA folders (expected <input>/<la_code>/ssda903/<year>/...)")
    timings = dict.fromkeys(["read", "validate", "cross_checks", "combine", "report"], 0.0)
    clock = time.perf_counter
    units: list[_Unit] = []
    ignored: list[str] = []
    all_files: list[Path] = []
    frames: dict[str, list[pd.DataFrame]] = defaultdict(list)
    done = 0
    batches = _la_batches(folders, batch_bytes or BATCH_BYTES)
    n_jobs = default_jobs() if jobs is None else int(jobs)
    if n_jobs < 1:
        raise UsageError(f"jobs must be at least 1 (got {jobs})")
    plan = [[(la_dir, _files(la_dir)) for la_dir in b] for b in batches]
    pool = None
    if n_jobs > 1 and sum(len(fs) for b in plan for _, fs in b) > 1:
        pool = _reader_pool(n_jobs)
    debug = bool(os.environ.get("CSC_OUTCOMES_DEBUG"))

    def submit(batch_plan):
        """Queue every file of a batch on the pool, in order (None per LA without a pool)."""
        if pool is None:
            return [None] * len(batch_plan)
        return [[pool.submit(_read_file_job, f, input_dir, la_dir.name.strip().upper(), la_dir, debug)
                 for f in files] for la_dir, files in batch_plan]

    try:
        pending = submit(plan[0]) if plan else []
        for bi, batch_folders in enumerate(batches):
            t0 = clock()
            futures = pending
            # the next batch is read by the workers while this one is validated here
            pending = submit(plan[bi + 1]) if bi + 1 < len(plan) else []
            batch: list[_Unit] = []
            for (la_dir, files), futs in zip(plan[bi], futures):
                done += 1
                la_code = la_dir.name.strip().upper()
                if progress:
                    print(f"[{done}/{len(folders)}] {la_code}: {len(files)} file(s)", file=sys.stderr, flush=True)
                for k, f in enumerate(files):
                    if futs is None:
                        got = _read_file(f, input_dir, la_code, la_dir)
                    else:
                        got = futs[k].result()
                        futs[k] = None  # the units are ours now: the future need not keep them
                    if got:
                        for u in got:
                            u.index = len(units)
                            units.append(u)
                            batch.append(u)
                        all_files.append(f)
                    else:
                        ignored.append(_rel(f, input_dir))
            del futures
            t1 = clock()
            groups: dict[tuple[str, int | None], list[_Unit]] = defaultdict(list)
            for u in batch:
                if u.raw is not None:
                    groups[(u.table, u.year)].append(u)
            parts: dict[str, list[pd.DataFrame]] = defaultdict(list)
            for (table, year), us in groups.items():
                parts[table].append(_validate_group(us, table, year, today))
            del groups
            tables = {t: (fs[0] if len(fs) == 1 else pd.concat(fs, ignore_index=True)) for t, fs in parts.items()}
            del parts
            t2 = clock()
            _cross_checks(tables, batch, units)
            for t, df in tables.items():
                unit_col = df["_unit"].to_numpy()
                for g, n in zip(*np.unique(unit_col, return_counts=True)):
                    units[g].accepted = int(n)
                if "collection_year" in df.columns and any(units[g].year is None for g in np.unique(unit_col)):
                    yrs = df[["_unit", "collection_year"]].dropna().drop_duplicates()
                    for g, y in zip(yrs["_unit"].to_numpy(), yrs["collection_year"].to_numpy()):
                        units[g].years.append(int(y))
                if len(df):
                    if len(unit_col) > 1 and (unit_col[1:] < unit_col[:-1]).any():
                        df = df.take(np.argsort(unit_col, kind="stable"))  # the files' order, as read
                    frames[t].append(df.drop(columns="_unit").reset_index(drop=True))
            del tables
            t3 = clock()
            timings["read"] += t1 - t0
            timings["validate"] += t2 - t1
            timings["cross_checks"] += t3 - t2
            if progress and len(batches) > 1:
                print(f"  batch of {len(batch_folders)} LA(s): read {t1 - t0:.1f}s, validated {t2 - t1:.1f}s, "
                      f"cross-checked {t3 - t2:.1f}s", file=sys.stderr, flush=True)

    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    t0 = clock()
    tables_out: dict[str, pd.DataFrame] = {}
    repairs = []
    for t in TABLE_SOURCE:
        fs = frames.pop(t, [])
        df = (fs[0] if len(fs) == 1 else pd.concat(fs, ignore_index=True)) if fs else contracts.empty_frame(t)
        del fs
        kept, rep = combine_table(df, t)
        del df
        tables_out[t] = contracts.coerce_frame(kept, t)
        repairs.append(rep)
    repairs_df = pd.concat([r for r in repairs if len(r)], ignore_index=True) if any(len(r) for r in repairs) else empty_repairs()
    timings["combine"] = clock() - t0

    t0 = clock()
    supplied = _supplied(units)

    rejects = _rejects(units)
    file_rejected = any(u.file_rejected for u in units)
    rows_rejected = sum(u.rejected_rows for u in units)
    exit_code = 1 if file_rejected or (strict and rows_rejected) else 0
    ihash = input_hash(input_dir, all_files)
    qa = _qa_report(units, ignored, input_dir, today, strict, exit_code, ihash, repairs_df)
    timings["report"] = clock() - t0
    return IngestResult(tables=tables_out, supplied=supplied, rejects=rejects, repairs=repairs_df, qa=qa,
                        exit_code=exit_code, input_hash=ihash, started=started,
                        finished=dt.datetime.now(dt.timezone.utc), timings=timings)


def _supplied(units: list[_Unit]) -> pd.DataFrame:
    """One row per file and table read (feeds: one per collection year their rows fall in)."""
    supplied = pd.DataFrame(
        [(u.la_code, u.source, u.table, u.year if u.year is not None else None, u.label)
         for u in units if not u.file_rejected and u.table],
        columns=SUPPLIED_COLUMNS,
    )
    if len(supplied) and supplied["collection_year"].isna().any():
        # feeds carry no year folder: one supplied row per year their rows fall in
        feed = supplied["collection_year"].isna()
        extra = []
        for u in units:
            if u.year is None and not u.file_rejected and u.table and u.accepted:
                for y in sorted(set(u.years)):
                    extra.append((u.la_code, u.source, u.table, int(y), u.label))
        supplied = pd.concat([supplied[~feed], pd.DataFrame(extra, columns=SUPPLIED_COLUMNS),
                              supplied[feed & ~supplied["source_file"].isin([e[4] for e in extra])]],
                             ignore_index=True)
    supplied["collection_year"] = supplied["collection_year"].astype("Int64")
    return supplied


def _unit_problems(u: _Unit) -> pd.DataFrame:
    return contracts.concat_problems(u.problems)


def _rejects(units: list[_Unit]) -> pd.DataFrame:
    out = []
    for u in units:
        p = _unit_problems(u)
        if p.empty:
            continue
        p = p[p["severity"] == "error"]
        if p.empty:
            continue
        out.append(pd.DataFrame({
            "la_code": u.la_code, "source_file": u.label, "table_name": u.table,
            "source_line": pd.array(p["line"].where(p["line"].notna() & (p["line"].astype("float") >= 0)), dtype="Int64"),
            "column": p["column"].to_numpy(dtype=object),
            "value": p["value"].astype(object).where(p["value"].notna(), None).to_numpy(dtype=object),
            "rule": p["rule"].to_numpy(dtype=object), "message": p["message"].to_numpy(dtype=object),
        }))
    if not out:
        return pd.DataFrame({c: pd.Series(dtype="Int64" if c == "source_line" else object) for c in REJECT_COLUMNS})
    df = pd.concat(out, ignore_index=True)
    df["source_line"] = df["source_line"].astype("Int64")
    return df


def _json_value(v: Any) -> Any:
    if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA:
        return None
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating,)):
        return float(v)
    return v


def _qa_report(units, ignored, input_dir, today, strict, exit_code, ihash, repairs) -> dict:
    files = []
    rules: Counter = Counter()
    for u in units:
        p = _unit_problems(u)
        problems = []
        if len(p):
            p = p.sort_values(["line"], kind="stable", na_position="first")
            for rec in p[["line", "column", "value", "rule", "message", "severity"]].itertuples(index=False):
                line = _json_value(rec.line)
                problems.append({
                    "line": None if line is None or line < 0 else int(line),
                    "column": _json_value(rec.column), "value": _json_value(rec.value),
                    "rule": rec.rule, "message": rec.message, "severity": rec.severity,
                })
                rules[(rec.rule, rec.severity)] += 1
        accepted = 0 if u.file_rejected else u.accepted
        rejected = u.rows_read - accepted if not u.file_rejected else u.rows_read
        entry = {
            "path": u.label, "la_code": u.la_code, "source": u.source, "table": u.table,
            "collection_year": u.year,
            "status": "rejected" if u.file_rejected else "read",
            "rows_read": int(u.rows_read), "rows_accepted": int(accepted), "rows_rejected": int(rejected),
            "problems": problems,
        }
        if u.unmatched is not None:
            entry["rows_unmatched"] = u.unmatched
        files.append(entry)
    return {
        "input": str(input_dir),
        "input_hash": ihash,
        "today": today.isoformat(),
        "strict": strict,
        "exit_code": exit_code,
        "summary": {
            "files": len({f["path"] for f in files}),
            "files_rejected": len({f["path"] for f in files if f["status"] == "rejected"}),
            "rows_read": sum(f["rows_read"] for f in files),
            "rows_accepted": sum(f["rows_accepted"] for f in files),
            "rows_rejected": sum(f["rows_rejected"] for f in files),
            "repairs": int(len(repairs)),
            "problems_by_rule": [{"rule": r, "severity": s, "count": n} for (r, s), n in sorted(rules.items())],
        },
        "files": files,
        "ignored": ignored,
    }


def format_summary(qa: dict, max_problems: int = 20) -> str:
    """The QA report as a short readable text (for the console)."""
    s = qa["summary"]
    out = [
        f"ingest: {s['files']} file(s), {s['rows_read']:,} rows read, {s['rows_accepted']:,} accepted, "
        f"{s['rows_rejected']:,} rejected; {s['files_rejected']} file(s) rejected; {s['repairs']:,} repair(s)",
    ]
    for f in qa["files"]:
        if f["status"] == "rejected":
            out.append(f"  REJECTED FILE {f['path']}: {f['problems'][0]['message'] if f['problems'] else ''}")
    if s["problems_by_rule"]:
        out.append("  problems by rule:")
        for r in s["problems_by_rule"]:
            out.append(f"    {r['rule']:<38} {r['severity']:<8} {r['count']:>9,}")
    shown = 0
    for f in qa["files"]:
        for p in f["problems"]:
            if f["status"] == "rejected":
                continue
            if shown >= max_problems:
                break
            out.append(f"  {p['severity']}: {p['message']}")
            shown += 1
    total = sum(len(f["problems"]) for f in qa["files"] if f["status"] != "rejected")
    if total > shown:
        out.append(f"  ... and {total - shown:,} more problem(s); see the QA report")
    if qa["ignored"]:
        out.append(f"  ignored {len(qa['ignored'])} file(s) not in a known place or format: "
                   + ", ".join(qa["ignored"][:5]) + (" ..." if len(qa["ignored"]) > 5 else ""))
    return "\n".join(out)


def default_qa_path(warehouse_path: Path) -> Path:
    """``<stem>.qa.json`` beside the warehouse."""
    warehouse_path = Path(warehouse_path)
    return warehouse_path.with_name(warehouse_path.stem + ".qa.json")


def write_qa(qa: dict, path: Path) -> None:
    """Write the QA report JSON (atomically)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(json.dumps(qa, indent=1, ensure_ascii=False, default=str), encoding="utf-8")
    os.replace(tmp, path)


def ingest(input_dir: Path, warehouse_path: Path, *, qa_report: Path | None = None, strict: bool = False,
           progress: bool = True, today: dt.date | None = None, la_codes: list[str] | None = None,
           keep_going: bool = False, jobs: int | None = None) -> IngestResult:
    """Ingest ``input_dir`` and write the warehouse (atomically) and the QA report.

    The warehouse is replaced only when the ingest completed (exit code 0), or with
    ``keep_going`` also when a file was rejected; otherwise the previous warehouse is
    left as it was. The QA report is always written. ``jobs``: reader processes (see
    :func:`ingest_folder`; default :func:`default_jobs`, 1 = read in this process).
    """
    from csc_outcomes import warehouse

    result = ingest_folder(input_dir, strict=strict, progress=progress, today=today, la_codes=la_codes, jobs=jobs)
    qa_path = Path(qa_report) if qa_report else default_qa_path(Path(warehouse_path))
    result.qa["warehouse"] = str(warehouse_path)
    result.qa["warehouse_written"] = bool(result.exit_code == 0 or keep_going)
    if result.exit_code == 0 or keep_going:
        t0 = time.perf_counter()
        warehouse.write(Path(warehouse_path), result)
        result.timings["write"] = time.perf_counter() - t0
    write_qa(result.qa, qa_path)
    result.qa["qa_report"] = str(qa_path)
    return result
