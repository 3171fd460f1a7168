"""Ingest: input folder -> readers -> contracts -> combined canonical tables (+ warehouse).

``ingest_folder`` reads every LA folder (layout in ``../shared/reference/statutory-data.md``),
validates each file against its contract for its collection year, quarantines rows
with problems in ``rejects``, runs the cross-table checks, combines years
(``combine``) and returns an :class:`IngestResult` with the QA report. ``ingest``
also writes the warehouse (atomically, ``warehouse.write``) and the QA report file.

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
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from csc_outcomes import contracts
from csc_outcomes.combine import REPAIR_COLUMNS, combine_table, empty_repairs
from csc_outcomes.keys import TABLE_SOURCE
from csc_outcomes.sources import FileRejected, RawTable, cin_census, contacts, school_census, ssda903

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

    def measure_inputs(self):
        """The tables as ``measures.inputs.MeasureInputs``."""
        from csc_outcomes.measures.inputs import MeasureInputs

        return MeasureInputs.from_ingest(self)

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
    frame: pd.DataFrame | None = None  # accepted rows, typed, with lineage
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


def _validate_raw(raw: RawTable, unit: _Unit, today: dt.date) -> None:
    """Type and validate one RawTable into ``unit`` (accepted frame + problems)."""
    df = raw.frame.reset_index(drop=True)
    lines = raw.lines
    unit.rows_read = len(df) + len(raw.bad_lines)
    if raw.notes:
        unit.problems.append(pd.DataFrame([{**n, "row": -1} for n in raw.notes]))
    if raw.bad_lines:
        unit.problems.append(pd.DataFrame({
            "row": -1, "line": [b[0] for b in raw.bad_lines], "column": None, "value": None,
            "rule": "field_count",
            "message": [f"{unit.label} line {b[0]}: {b[1]}; remove the extra field(s) or quote values holding commas"
                        for b in raw.bad_lines],
            "severity": "error",
        }))
        unit.rejected_rows += len(raw.bad_lines)
    year = unit.year
    if year is None:  # feeds: validate against the latest contracts
        year = contracts.LAST_YEAR
    typed, probs = contracts.validate(df, unit.table, year, today=today, lines=lines)
    if len(probs):
        probs["message"] = unit.label + " line " + probs["line"].astype(str) + ": " + probs["message"]
        unit.problems.append(probs)
        bad_rows = np.unique(probs.loc[probs["severity"] == "error", "row"].to_numpy(dtype="int64"))
    else:
        bad_rows = np.array([], dtype="int64")
    keep = np.ones(len(typed), dtype=bool)
    keep[bad_rows] = False
    unit.rejected_rows += int((~keep).sum())
    acc = typed[keep].copy()
    acc["la_code"] = unit.la_code
    if unit.year is not None:
        acc["collection_year"] = unit.year
    else:
        date_col = {"attendance": "term_start", "suspensions": "start_date", "contacts": "contact_date"}[unit.table]
        d = acc[date_col]
        acc["collection_year"] = (d.dt.year + (d.dt.month >= 4).astype("int64")).astype("Int64")
    acc["source_file"] = unit.label
    acc["source_line"] = np.asarray(lines)[keep]
    unit.frame = contracts.coerce_frame(acc.reset_index(drop=True), unit.table)


def _reject_file(unit: _Unit, exc: FileRejected) -> None:
    unit.file_rejected = True
    unit.frame = None
    unit.problems.append(pd.DataFrame([{
        "row": -1, "line": exc.line, "column": None, "value": None, "rule": exc.rule,
        "message": str(exc), "severity": "error",
    }]))


def _read_file(path: Path, input_dir: Path, la_code: str, la_dir: Path, today: dt.date) -> list[_Unit]:
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
                _validate_raw(raw, u, today)
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
                _validate_raw(raw, u, today)
                units.append(u)
            return units
        if source == "school_census":
            if suffix != ".csv":
                return []
            raw = school_census.read(path, label)
            u = _Unit(la_code, "school_census", raw.table, label, None)
            _validate_raw(raw, u, today)
            return [u]
        if source == "contacts":
            if suffix != ".csv":
                return []
            raw = contacts.read(path, label)
            u = _Unit(la_code, "contacts", raw.table, label, None)
            _validate_raw(raw, u, today)
            return [u]
        return []
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


def _apply_cross(unit: _Unit, probs: pd.DataFrame) -> None:
    """Add cross-check problems to a unit; drop rows with an error."""
    if probs.empty:
        return
    probs = probs.copy()
    probs["message"] = unit.label + " line " + probs["line"].astype(str) + ": " + probs["message"]
    unit.problems.append(probs)
    err = probs.loc[probs["severity"] == "error", "row"].to_numpy(dtype="int64")
    if len(err):
        keep = np.ones(len(unit.frame), dtype=bool)
        keep[np.unique(err)] = False
        unit.rejected_rows += int((~keep).sum())
        unit.frame = unit.frame[keep].reset_index(drop=True)


def _cross_checks(units: list[_Unit]) -> None:
    ok = [u for u in units if u.frame is not None]
    # per LA and year: SSDA903 rows against that year's header; per file: keys, overlaps
    header_by = {(u.la_code, u.year): u.frame for u in ok if u.table == "header"}
    for u in ok:
        c = contracts.load_contract(u.table)
        for chk in c.cross_checks:
            name, sev = chk["name"], chk.get("severity", "warning")
            if name == "unique_key":
                p = contracts.duplicate_keys(u.frame, u.table)
            elif name == "child_in_table":
                hdr = header_by.get((u.la_code, u.year))
                if hdr is None:
                    continue
                p = contracts.missing_from(u.frame, chk["column"], hdr["CHILD"], chk["other"],
                                           "child_not_in_header", sev)
            elif name == "no_overlap":
                p = contracts.overlapping(u.frame, chk["by"], chk["start"], chk["end"])
            else:
                continue
            if len(p):
                p["severity"] = sev if name != "child_in_table" else p["severity"]
            _apply_cross(u, p)
    # feeds: UPN / CHILD matched to the LA's children (any year); unmatched counted per file
    by_la = defaultdict(list)
    for u in ok:
        by_la[u.la_code].append(u)
    for la, us in by_la.items():
        known: dict[tuple[str, str], pd.Series] = {}
        for u in us:
            if u.table in ("header", "cin_children"):
                for col in ("CHILD", "UPN", "LAchildID"):
                    if col in u.frame.columns:
                        known.setdefault((u.table, col), [])
                        known[(u.table, col)].append(u.frame[col].dropna())
        for u in us:
            for chk in contracts.load_contract(u.table).cross_checks:
                if chk["name"] != "matched":
                    continue
                others = chk["other"] if isinstance(chk["other"], list) else [chk["other"]]
                ocols = chk["other_column"] if isinstance(chk["other_column"], list) else [chk["other_column"]]
                pool = [s for t, c in zip(others, ocols) for s in known.get((t, c), [])]
                values = pd.concat(pool, ignore_index=True) if pool else pd.Series([], dtype=object)
                col = chk["column"]
                miss = ~u.frame[col].isin(values) & u.frame[col].notna()
                u.unmatched = int(miss.sum())
                if u.unmatched:
                    first = int(u.frame["source_line"][miss].iloc[0])
                    where = " and ".join(f"{t}.{c}" for t, c in zip(others, ocols))
                    supplied_any = bool(pool)
                    why = "" if supplied_any else f" ({' / '.join(others)} not supplied for {la})"
                    _apply_cross(u, pd.DataFrame([{
                        "row": -1, "line": first, "column": col, "value": str(u.unmatched), "rule": "unmatched",
                        "message": f"{u.unmatched} of {len(u.frame)} rows have a {col} matching no child in {where}"
                                   f"{why}; they are kept but no measure can use them (first at line {first}). "
                                   f"Check the {col}s with the education/case-management team",
                        "severity": chk.get("severity", "warning"),
                    }]))


# --------------------------------------------------------------------------- main


def ingest_folder(input_dir: Path, *, strict: bool = False, progress: bool = False,
                  today: dt.date | None = None, la_codes: list[str] | None = None) -> IngestResult:
    """Read, validate and combine every LA folder under ``input_dir``.

    ``today`` is the date that "dates in the future" are judged against (default the
    real today); ``la_codes`` limits the ingest to those LA folders.
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
    units: list[_Unit] = []
    ignored: list[str] = []
    all_files: list[Path] = []
    for i, la_dir in enumerate(folders, 1):
        la_code = la_dir.name.strip().upper()
        files = _files(la_dir)
        if progress:
            print(f"[{i}/{len(folders)}] {la_code}: {len(files)} file(s)", file=sys.stderr, flush=True)
        for f in files:
            got = _read_file(f, input_dir, la_code, la_dir, today)
            if got:
                units.extend(got)
                all_files.append(f)
            else:
                ignored.append(_rel(f, input_dir))
    _cross_checks(units)

    frames: dict[str, list[pd.DataFrame]] = defaultdict(list)
    for u in units:
        if u.frame is not None and u.table:
            frames[u.table].append(u.frame)
    tables: dict[str, pd.DataFrame] = {}
    repairs = []
    for t in TABLE_SOURCE:
        fs = [f for f in frames.get(t, []) if len(f)]
        df = pd.concat(fs, ignore_index=True) if fs else contracts.empty_frame(t)
        kept, rep = combine_table(df, t)
        tables[t] = contracts.coerce_frame(kept, t)
        repairs.append(rep)
    repairs_df = pd.concat([r for r in repairs if len(r)], ignore_index=True) if any(len(r) for r in repairs) else empty_repairs()

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
            if u.year is None and u.frame is not None and u.table and len(u.frame):
                for y in sorted(u.frame["collection_year"].dropna().unique()):
                    extra.append((u.la_code, u.source, u.table, int(y), u.label))
        supplied = pd.concat([supplied[~feed], pd.DataFrame(extra, columns=SUPPLIED_COLUMNS),
                              supplied[feed & ~supplied["source_file"].isin([e[4] for e in extra])]],
                             ignore_index=True)
    supplied["collection_year"] = supplied["collection_year"].astype("Int64")

    rejects = _rejects(units)
    file_rejected = any(u.file_rejected for u in units)
    rows_rejected = sum(u.rejected_rows for u in units)
    exit_code = 1 if file_rejected or (strict and rows_rejected) else 0
    ihash = input_hash(input_dir, all_files)
    qa = _qa_report(units, ignored, input_dir, today, strict, exit_code, ihash, repairs_df)
    return IngestResult(tables=tables, supplied=supplied, rejects=rejects, repairs=repairs_df, qa=qa,
                        exit_code=exit_code, input_hash=ihash, started=started,
                        finished=dt.datetime.now(dt.timezone.utc))


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
        accepted = 0 if u.frame is None else len(u.frame)
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
           keep_going: bool = False) -> IngestResult:
    """Ingest ``input_dir`` and write the warehouse (atomically) and the QA report.

    The warehouse is replaced only when the ingest completed (exit code 0), or with
    ``keep_going`` also when a file was rejected; otherwise the previous warehouse is
    left as it was. The QA report is always written.
    """
    from csc_outcomes import warehouse

    result = ingest_folder(input_dir, strict=strict, progress=progress, today=today, la_codes=la_codes)
    qa_path = Path(qa_report) if qa_report else default_qa_path(Path(warehouse_path))
    result.qa["warehouse"] = str(warehouse_path)
    result.qa["warehouse_written"] = bool(result.exit_code == 0 or keep_going)
    if result.exit_code == 0 or keep_going:
        warehouse.write(Path(warehouse_path), result)
    write_qa(result.qa, qa_path)
    result.qa["qa_report"] = str(qa_path)
    return result
