"""What an ingest tells its user: the QA report, ``rejects`` and ``supplied``.

All three are built from the units at the end of the ingest. The QA report is a dict
(written as JSON beside the warehouse): one entry per file and table with its rows
read, accepted and rejected and every problem, a summary with counts per rule, the
files ignored, and the tables missing from an LA's latest return (``missing_tables``,
each ``allowed`` or not; the pipeline adds them). :func:`format_summary` gives its short console form.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from csc_outcomes import atomic
from csc_outcomes.ingest.units import Unit

REJECT_COLUMNS = ["la_code", "source_file", "table_name", "source_line", "column", "value", "rule",
                  "message"]
SUPPLIED_COLUMNS = ["la_code", "source", "table_name", "collection_year", "source_file"]


def supplied(units: list[Unit]) -> pd.DataFrame:
    """One row per file and table read (feeds: one per collection year their rows fall in)."""
    out = pd.DataFrame(
        [(u.la_code, u.source, u.table, u.year if u.year is not None else None, u.label)
         for u in units if u.supplied],
        columns=SUPPLIED_COLUMNS,
    )
    if len(out) and out["collection_year"].isna().any():
        # feeds carry no year folder: one supplied row per year their rows fall in
        feed = out["collection_year"].isna()
        extra = [(u.la_code, u.source, u.table, int(y), u.label)
                 for u in units if u.year is None and u.supplied and u.accepted
                 for y in sorted(set(u.years))]
        out = pd.concat([out[~feed], pd.DataFrame(extra, columns=SUPPLIED_COLUMNS),
                         out[feed & ~out["source_file"].isin([e[4] for e in extra])]],
                        ignore_index=True)
    out["collection_year"] = out["collection_year"].astype("Int64")
    return out


def _unit_rejects(u: Unit) -> pd.DataFrame | None:
    """The rows of ``rejects`` for one unit's errors (None when it has none)."""
    p = u.all_problems()
    p = p[p["severity"] == "error"]
    if p.empty:
        return None
    line = p["line"].where(p["line"].notna() & (p["line"].astype("float") >= 0))
    return pd.DataFrame({
        "la_code": u.la_code, "source_file": u.label, "table_name": u.table,
        "source_line": line.astype("Int64").array,
        "column": p["column"].to_numpy(dtype=object),
        "value": p["value"].astype(object).where(p["value"].notna(), None).to_numpy(dtype=object),
        "rule": p["rule"].to_numpy(dtype=object), "message": p["message"].to_numpy(dtype=object),
    })


def rejects(units: list[Unit]) -> pd.DataFrame:
    """Every problem of severity ``error``: the quarantined rows and rejected files."""
    out = [r for r in (_unit_rejects(u) for u in units) if r is not None]
    if not out:
        return pd.DataFrame({c: pd.Series(dtype="Int64" if c == "source_line" else object)
                             for c in REJECT_COLUMNS})
    df = pd.concat(out, ignore_index=True)
    df["source_line"] = df["source_line"].astype("Int64")
    return df


def json_value(v: Any) -> Any:
    """``v`` as plain JSON (numpy numbers as Python numbers; NaN, NA as None)."""
    if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA:
        return None
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.floating):
        return float(v)
    return v


def _file_entry(u: Unit, rules: Counter) -> dict:
    """The QA report's entry for one unit (its problems counted in ``rules``)."""
    p = u.all_problems()
    problems = []
    if len(p):
        p = p.sort_values(["line"], kind="stable", na_position="first")
        for rec in p[["line", "column", "value", "rule", "message", "severity"]].itertuples(index=False):
            line = json_value(rec.line)
            problems.append({
                "line": None if line is None or line < 0 else int(line),
                "column": json_value(rec.column), "value": json_value(rec.value),
                "rule": rec.rule, "message": rec.message, "severity": rec.severity,
            })
            rules[(rec.rule, rec.severity)] += 1
    accepted = 0 if u.file_rejected else u.accepted
    entry = {
        "path": u.label, "la_code": u.la_code, "source": u.source, "table": u.table,
        "collection_year": u.year,
        "status": "rejected" if u.file_rejected else "read",
        "rows_read": int(u.rows_read), "rows_accepted": int(accepted),
        "rows_rejected": int(u.rows_read - accepted),
        "problems": problems,
    }
    if u.unmatched is not None:
        entry["rows_unmatched"] = u.unmatched
    return entry


def qa_report(units: list[Unit], ignored: list[str], input_dir: Path, today: dt.date, strict: bool,
              exit_code: int, ihash: str, repairs: pd.DataFrame) -> dict:
    """The QA report of an ingest (see the module docstring)."""
    rules: Counter = Counter()
    files = [_file_entry(u, rules) for u in units]
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
            "repairs": len(repairs),
            "problems_by_rule": [{"rule": r, "severity": s, "count": n}
                                 for (r, s), n in sorted(rules.items())],
        },
        "files": files,
        "ignored": ignored,
    }


def _problem_lines(qa: dict, max_problems: int) -> list[str]:
    """The first ``max_problems`` problems of files read (rejected files are listed apart)."""
    read = [f for f in qa["files"] if f["status"] != "rejected"]
    shown = list(islice((f"  {p['severity']}: {p['message']}" for f in read for p in f["problems"]),
                        max_problems))
    total = sum(len(f["problems"]) for f in read)
    if total > len(shown):
        shown.append(f"  ... and {total - len(shown):,} more problem(s); see the QA report")
    return shown


def format_summary(qa: dict, max_problems: int = 20) -> str:
    """The QA report as a short readable text (for the console)."""
    s = qa["summary"]
    out = [(f"ingest: {s['files']} file(s), {s['rows_read']:,} rows read, {s['rows_accepted']:,} accepted, "
            f"{s['rows_rejected']:,} rejected; {s['files_rejected']} file(s) rejected; "
            f"{s['repairs']:,} repair(s)")]
    out += [f"  REJECTED FILE {f['path']}: {f['problems'][0]['message'] if f['problems'] else ''}"
            for f in qa["files"] if f["status"] == "rejected"]
    if s["problems_by_rule"]:
        out.append("  problems by rule:")
        out += [f"    {r['rule']:<38} {r['severity']:<8} {r['count']:>9,}" for r in s["problems_by_rule"]]
    out += [f"  MISSING {m['path']} ({m['table']}, supplied up to {m['last_year']}): accepted with "
            "--allow-missing" for m in qa.get("missing_tables", []) if m["allowed"]]
    out += _problem_lines(qa, max_problems)
    if qa["ignored"]:
        shown = ", ".join(qa["ignored"][:5]) + (" ..." if len(qa["ignored"]) > 5 else "")
        out.append(f"  ignored {len(qa['ignored'])} file(s) not in a known place or format: {shown}")
    return "\n".join(out)


def default_qa_path(warehouse_path: Path) -> Path:
    """``<stem>.qa.json`` beside the warehouse."""
    warehouse_path = Path(warehouse_path)
    return warehouse_path.with_name(warehouse_path.stem + ".qa.json")


#: The QA report's permissions: it quotes rejected values (identifiers, dates of birth),
#: so the owner's only.
FILE_MODE = 0o600


def write_qa(qa: dict, path: Path) -> None:
    """Write the QA report JSON (atomically, ``0600``)."""
    atomic.write_text(path, json.dumps(qa, indent=1, ensure_ascii=False, default=str), mode=FILE_MODE)
