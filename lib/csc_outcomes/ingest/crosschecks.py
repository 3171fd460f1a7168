"""The cross-row and cross-table checks a contract names under ``cross_checks``.

They run on a batch of LAs at once, after validation, on the accepted rows of every
file (the unit column, ``_unit``, says which file a row came from); each problem is
still reported against its own file and line, as if each file were checked alone.

Per file (:data:`FILE_CHECKS`, may drop rows with an ``error``): ``unique_key`` (a record
key repeated), ``child_in_table`` (an SSDA903 row of a child missing from that LA and
year's header), ``no_overlap`` (a child's episodes overlapping). Then per LA
(:data:`FEED_CHECKS`, rows kept): ``matched`` (a feed's UPN / CHILD matching no child
of the LA, in any year), counted per file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from csc_outcomes.ingest.contracts import load_contract
from csc_outcomes.ingest.problems import empty_problems, problems
from csc_outcomes.ingest.units import Unit, hand_out, prefix_messages
from csc_outcomes.ingest.validate import UNIT_COLUMN
from csc_outcomes.keys import key_text


@dataclass
class Batch:
    """The accepted rows of a batch per table, and the units they came from."""

    tables: dict[str, pd.DataFrame]
    units: list[Unit]  # every unit of the ingest (``Unit.index`` is the position here)
    read: list[Unit]  # the batch's units that were read (not rejected)
    header_of: dict[tuple[str, int | None], int] = field(init=False)

    def __post_init__(self) -> None:
        # the header of each (LA, year): the last header file read for it
        self.header_of = {(u.la_code, u.year): u.index for u in self.read if u.table == "header"}


def duplicate_keys(df: pd.DataFrame, table: str, group: list[str] | None = None) -> pd.DataFrame:
    """Rows repeating the record key of an earlier row in the same frame (reported on the
    later row, which wins, as ``keys.latest_versions`` decides).

    ``group`` names columns that split ``df`` into independent parts (e.g. one part per
    file when several files are checked at once); they are not shown in the messages.
    """
    key = load_contract(table).key
    if df.empty or not all(k in df.columns for k in key):
        return empty_problems()
    full = [*(group or []), *key]
    dup = df[full].duplicated(keep="first") & df[key].notna().all(axis=1)
    if not dup.any():
        return empty_problems()
    rows = np.flatnonzero(dup.to_numpy())
    first_line = df.groupby(full, dropna=True, sort=False)["source_line"].transform("first")
    keytxt = key_text(df.iloc[rows], key)
    earlier = first_line.iloc[rows].astype("int64").astype(str).to_numpy(dtype=object)
    msgs = "the key " + keytxt + " repeats line " + earlier + "; this later row wins (remove one of them)"
    return problems(rows, key[-1], keytxt, "duplicate_key", msgs, "warning",
                    lines=df["source_line"].to_numpy()[rows])


def missing_from(df: pd.DataFrame, column: str, missing: np.ndarray, other_table: str, rule: str,
                 severity: str = "warning") -> pd.DataFrame:
    """Rows flagged in ``missing`` whose ``column`` has no row in ``other_table``
    (e.g. episodes of a child without a header row)."""
    if df.empty:
        return empty_problems()
    bad = pd.Series(np.asarray(missing, dtype=bool), index=df.index) & df[column].notna()
    if not bad.any():
        return empty_problems()
    rows = np.flatnonzero(bad.to_numpy())
    vals = df[column].iloc[rows].astype(str)
    msgs = (column + " " + vals + f" has no row in {other_table} for this LA and year; add the child "
            f"to {other_table}")
    return problems(rows, column, vals.to_numpy(), rule, msgs.to_numpy(), severity,
                    lines=df["source_line"].to_numpy()[rows])


def overlapping(df: pd.DataFrame, by: str, start: str, end: str, group: str | None = None) -> pd.DataFrame:
    """Rows that start before the same child's previous row ended (open rows never end).

    ``group`` names a column splitting ``df`` into independent parts (one per file).
    """
    if len(df) < 2:
        return empty_problems()
    sort_keys = [df[start].to_numpy(), df[by].astype(str).to_numpy()]
    if group is not None:
        sort_keys.append(df[group].to_numpy())
    order = np.lexsort(tuple(sort_keys))
    s = df.iloc[order]
    same = s[by].to_numpy()[1:] == s[by].to_numpy()[:-1]
    if group is not None:
        g = s[group].to_numpy()
        same &= g[1:] == g[:-1]
    prev_end = s[end].to_numpy()[:-1]
    prev_end = np.where(pd.isna(prev_end), np.datetime64("2262-01-01"), prev_end)
    hit = same & (s[start].to_numpy()[1:] < prev_end)
    if not hit.any():
        return empty_problems()
    idx = np.flatnonzero(hit) + 1
    rows = order[idx]
    prev_lines = s["source_line"].to_numpy()[idx - 1].astype("int64").astype(str)
    vals = pd.Series(s[start].to_numpy()[idx]).dt.strftime("%Y-%m-%d").to_numpy(dtype=object)
    msgs = (f"{start} " + vals + f" is before the {end} of the same child's episode on line "
            + prev_lines.astype(object) + "; episodes of a child must not overlap (close the earlier one)")
    return problems(rows, start, vals, "overlapping_episodes", msgs, "warning",
                    lines=df["source_line"].to_numpy()[rows])


def unique_key(batch: Batch, table: str, chk: dict) -> pd.DataFrame | None:
    """A record key repeated within one file (the later row wins)."""
    p = duplicate_keys(batch.tables[table], table, group=[UNIT_COLUMN])
    p["severity"] = chk.get("severity", "warning")
    return p


def child_in_table(batch: Batch, table: str, chk: dict) -> pd.DataFrame | None:
    """A row whose child has no row in the header of the same LA and year (None when no
    file of the table has such a header in the batch)."""
    frame = batch.tables[table]
    header_unit = np.full(len(batch.units), -1, dtype="int64")
    for u in batch.read:
        if u.table == table:
            header_unit[u.index] = batch.header_of.get((u.la_code, u.year), -1)
    hu = header_unit[frame[UNIT_COLUMN].to_numpy()]
    checked = hu >= 0
    if not checked.any():
        return None
    hdr = batch.tables.get("header")
    if hdr is not None and len(hdr):
        known = pd.MultiIndex.from_arrays([hdr[UNIT_COLUMN].to_numpy(), hdr["CHILD"].to_numpy(dtype=object)])
        found = pd.MultiIndex.from_arrays([hu, frame[chk["column"]].to_numpy(dtype=object)]).isin(known)
    else:
        found = np.zeros(len(frame), dtype=bool)
    return missing_from(frame, chk["column"], checked & ~found, chk["other"], "child_not_in_header",
                        chk.get("severity", "warning"))


def no_overlap(batch: Batch, table: str, chk: dict) -> pd.DataFrame | None:
    """A child's episode starting before their previous episode in the file ended."""
    p = overlapping(batch.tables[table], chk["by"], chk["start"], chk["end"], group=UNIT_COLUMN)
    p["severity"] = chk.get("severity", "warning")
    return p


def _as_list(value: str | list[str]) -> list[str]:
    """A YAML value given as one name or a list of names, as a list."""
    return value if isinstance(value, list) else [value]


def _unmatched_rows(batch: Batch, table: str, chk: dict) -> np.ndarray:
    """Rows of a feed whose ``column`` matches no ``other_column`` of the LA's rows in the
    ``other`` tables (any year)."""
    frame, col = batch.tables[table], chk["column"]
    pools = []
    for t, oc in zip(_as_list(chk["other"]), _as_list(chk["other_column"]), strict=True):
        f = batch.tables.get(t)
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
    return ~found & frame[col].notna().to_numpy()


def matched(batch: Batch, table: str, chk: dict) -> None:
    """Count each feed file's rows matching no child of its LA (``Unit.unmatched``) and
    report them in one problem per file; the rows are kept."""
    frame, col = batch.tables[table], chk["column"]
    others, ocols = _as_list(chk["other"]), _as_list(chk["other_column"])
    miss = _unmatched_rows(batch, table, chk)
    unit_col = frame[UNIT_COLUMN].to_numpy()
    n_rows = np.bincount(unit_col, minlength=len(batch.units))
    n_miss = np.bincount(unit_col[miss], minlength=len(batch.units))
    where = " and ".join(f"{t}.{c}" for t, c in zip(others, ocols, strict=True))
    for u in batch.read:
        if u.table != table:
            continue
        u.unmatched = int(n_miss[u.index])
        if not u.unmatched:
            continue
        first = int(frame["source_line"].to_numpy()[np.flatnonzero(miss & (unit_col == u.index))[0]])
        supplied_any = any(o.la_code == u.la_code and o.table in others for o in batch.read)
        why = "" if supplied_any else f" ({' / '.join(others)} not supplied for {u.la_code})"
        u.problems.append(pd.DataFrame([{
            "row": -1, "line": first, "column": col, "value": str(u.unmatched), "rule": "unmatched",
            "message": f"{u.label} line {first}: "
                       f"{u.unmatched} of {int(n_rows[u.index])} rows have a {col} matching no child in "
                       f"{where}{why}; {chk.get('consequence', 'they are kept but no measure can use them')} "
                       f"(first at line {first}). Check the {col}s with the team that supplies the feed",
            "severity": chk.get("severity", "warning"),
        }]))


#: Checks of each file's rows: name -> the problems (rows: positions in the batch's frame
#: of the table; None when the check does not apply to the batch).
FILE_CHECKS: dict[str, Callable[[Batch, str, dict], pd.DataFrame | None]] = {
    "unique_key": unique_key,
    "child_in_table": child_in_table,
    "no_overlap": no_overlap,
}

#: Checks of each feed file against its LA's children, after the file checks; they
#: record on the units and drop no row.
FEED_CHECKS: dict[str, Callable[[Batch, str, dict], None]] = {"matched": matched}


def _apply(batch: Batch, table: str, probs: pd.DataFrame) -> None:
    """Hand cross-check problems (rows are positions in the table's frame, several units)
    to their units and drop the rows with an error."""
    if probs.empty:
        return
    frame = batch.tables[table]
    rows = probs["row"].to_numpy(dtype="int64")
    unit_col = frame[UNIT_COLUMN].to_numpy()
    gidx = unit_col[rows]
    uniq, first = np.unique(unit_col, return_index=True)
    start = dict(zip(uniq.tolist(), first.tolist(), strict=True))
    probs = probs.copy()
    probs["row"] = rows - np.array([start[g] for g in gidx.tolist()], dtype="int64")
    probs["message"] = prefix_messages(
        probs, np.array([batch.units[g].label for g in gidx.tolist()], dtype=object))
    hand_out(probs, gidx, batch.units)
    err = rows[probs["severity"].to_numpy() == "error"]
    if len(err):
        keep = np.ones(len(frame), dtype=bool)
        keep[np.unique(err)] = False
        for g, n in zip(*np.unique(unit_col[~keep], return_counts=True), strict=True):
            batch.units[g].rejected_rows += int(n)
        batch.tables[table] = frame[keep].reset_index(drop=True)


def _checks_of(table: str) -> list[dict]:
    """The table's cross checks, each name known (a contract error otherwise)."""
    checks = load_contract(table).cross_checks
    for chk in checks:
        if chk["name"] not in FILE_CHECKS and chk["name"] not in FEED_CHECKS:
            raise ValueError(f"contract {table}: unknown cross check {chk['name']!r} "
                             f"(known: {', '.join([*FILE_CHECKS, *FEED_CHECKS])})")
    return checks


def cross_check(tables: dict[str, pd.DataFrame], batch_units: list[Unit], units: list[Unit]) -> None:
    """Run the cross checks of one batch of LAs on its accepted rows (``tables``, per
    table, rows with an error dropped in place); ``units`` are every unit of the ingest."""
    batch = Batch(tables, units, [u for u in batch_units if u.supplied])
    for table in list(tables):
        for chk in _checks_of(table):
            check = FILE_CHECKS.get(chk["name"])
            if check is None or batch.tables[table].empty:
                continue
            found = check(batch, table, chk)
            if found is not None:
                _apply(batch, table, found)
    for table in list(tables):
        for chk in _checks_of(table):
            feed_check = FEED_CHECKS.get(chk["name"])
            if feed_check is not None:
                feed_check(batch, table, chk)
