"""Combine collection years: one version of each record, open episodes stitched, repairs recorded.

The rule for which version wins is ``keys.latest_versions`` (the later collection year,
then the later line); this module only adds what it changes to ``repairs``
(``la_code, table_name, key, rule, detail``). Rules recorded:

``later_return_wins``
    a record appears in several returns and the later return's version differs (the
    changed columns are listed); identical copies are not repairs and are not listed.
``open_episode_closed_by_later_return``
    as above, for an episode left open (``DEC`` blank) in one year and closed by the
    later return (a special case of the rule above, named because it is the common one).
``duplicate_in_return``
    the same key twice in one return: the later line wins (also reported as a
    ``duplicate_key`` warning in the QA report).
``open_episode_closed_by_next``
    an episode still open in an earlier return, followed for the same child by an
    episode from a later return with a later ``DECOM``, is closed on that ``DECOM``
    (``REC`` set to ``X1`` when blank and the next episode is not a new period of care,
    ``RNE`` ``S``). Without it the child would hold two open episodes at once.

OC2 and OC3 are per collection year: their key includes the year, so they are never
merged across years (``keys.PER_YEAR_TABLES``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from csc_outcomes.ingest.contracts import coerce_frame, empty_frame
from csc_outcomes.keys import LINEAGE_COLUMNS, TABLE_SOURCE, key_text, version_key

REPAIR_COLUMNS = ["la_code", "table_name", "key", "rule", "detail"]


def empty_repairs() -> pd.DataFrame:
    """A repairs frame with no rows."""
    return pd.DataFrame({c: pd.Series(dtype=object) for c in REPAIR_COLUMNS})


def combine_tables(frames: dict[str, list[pd.DataFrame]]) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """Every canonical table combined from its parts (all LAs, all years; a table no LA
    supplied is empty), and the repairs made. ``frames`` is emptied as it is read, so
    that each table's parts are freed once combined."""
    tables: dict[str, pd.DataFrame] = {}
    repairs = []
    for t in TABLE_SOURCE:
        fs = frames.pop(t, [])
        df = (fs[0] if len(fs) == 1 else pd.concat(fs, ignore_index=True)) if fs else empty_frame(t)
        del fs
        kept, rep = combine_table(df, t)
        del df
        tables[t] = coerce_frame(kept, t)
        if len(rep):
            repairs.append(rep)
    return tables, (pd.concat(repairs, ignore_index=True) if repairs else empty_repairs())


def _order_values(df: pd.DataFrame, col: str) -> np.ndarray:
    """``col`` as floats for ordering, missing last (as ``sort_values`` puts them)."""
    if col not in df.columns:
        return np.zeros(len(df))
    return pd.to_numeric(df[col], errors="coerce").astype("float64").fillna(np.inf).to_numpy()


def combine_table(df: pd.DataFrame, table: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One version of each record of ``table`` (all LAs, all years) and the repairs made.

    The versions kept are those of ``keys.latest_versions`` (the later collection year,
    then the later line, then the later row; rows in their original order), found here
    with one factorisation of the key and integer sorts instead of sorting the frame.
    """
    if df.empty:
        return df.reset_index(drop=True), empty_repairs()
    key = version_key(table)
    df = df.reset_index(drop=True)
    n = len(df)
    gcode = df.groupby(key, sort=False, dropna=False).ngroup().to_numpy()
    year = _order_values(df, "collection_year")
    line = _order_values(df, "source_line")
    order = np.lexsort((np.arange(n), line, year, gcode))
    sg = gcode[order]
    last = np.ones(n, dtype=bool)
    last[:-1] = sg[1:] != sg[:-1]
    winners = np.sort(order[last])
    repairs = [_superseded(df, table, key, gcode)]
    kept = df if len(winners) == n else df.take(winners).reset_index(drop=True)
    if table == "episodes":
        kept, rep = _close_open_episodes(kept)
        repairs.append(rep)
    repairs = [r for r in repairs if len(r)]
    return kept, (pd.concat(repairs, ignore_index=True) if repairs else empty_repairs())


def _last_valid(values: pd.Series, starts: np.ndarray, group_of_row: np.ndarray) -> pd.Series:
    """Per row, the last non-missing value of its group (``groupby().transform("last")``);
    the rows are sorted by group, groups starting at ``starts``."""
    pos = np.where(values.notna().to_numpy(), np.arange(len(values)), -1)
    last_pos = np.maximum.reduceat(pos, starts)[group_of_row]
    out = values.take(np.maximum(last_pos, 0)).reset_index(drop=True)
    missing = last_pos < starts[group_of_row]
    if missing.any():
        out = out.where(~missing)
    return out


def _changed_columns(df: pd.DataFrame, fields: list[str], rows: np.ndarray, starts: np.ndarray,
                     group_of_row: np.ndarray) -> np.ndarray:
    """For each of ``rows`` (positions in ``df``, sorted by record, records starting at
    ``starts``), the ``fields`` where it differs from its record's winning version,
    as ``"A, B"`` ("" where none)."""
    changed = np.full(len(rows), "", dtype=object)
    for c in fields:
        a = df[c].take(rows).reset_index(drop=True)
        b = _last_valid(a, starts, group_of_row)
        diff = (~((a == b).fillna(False).astype(bool) | (a.isna() & b.isna()))).to_numpy()
        if diff.any():
            changed = np.where(diff, changed + np.where(changed == "", "", ", ") + c, changed)
    return changed


def _superseded(df: pd.DataFrame, table: str, key: list[str], gcode: np.ndarray) -> pd.DataFrame:
    """Repairs for rows that lose to a later version (only where something differs)."""
    valid = df[key].notna().all(axis=1).to_numpy()
    counts = np.bincount(gcode[valid], minlength=int(gcode.max()) + 1) if valid.any() else None
    if counts is None:
        return empty_repairs()
    dup = valid & (counts[gcode] > 1)
    if not dup.any():
        return empty_repairs()
    pos = np.flatnonzero(dup)
    by = list(dict.fromkeys([*key, "collection_year", "source_line"]))
    small = df[by].take(pos)
    small["_pos"] = np.arange(len(pos))
    small["_g"] = gcode[pos]
    small = small.sort_values([*by, "_pos"], kind="stable")
    rows = pos[small["_pos"].to_numpy()]  # positions in df, in the sorted order
    d = small.reset_index(drop=True)
    g = d["_g"].to_numpy()
    nd = len(d)
    new_group = np.ones(nd, dtype=bool)
    new_group[1:] = g[1:] != g[:-1]
    starts = np.flatnonzero(new_group)
    group_of_row = np.cumsum(new_group) - 1
    is_winner = np.zeros(nd, dtype=bool)
    is_winner[np.r_[starts[1:] - 1, nd - 1]] = True
    fields = [c for c in df.columns if c not in LINEAGE_COLUMNS and c not in key]
    changed = _changed_columns(df, fields, rows, starts, group_of_row)
    any_change = changed != ""
    win_year = _last_valid(d["collection_year"], starts, group_of_row).to_numpy()
    win_line = _last_valid(d["source_line"], starts, group_of_row).to_numpy()
    same_year = d["collection_year"].to_numpy() == win_year
    losers = (~is_winner) & (any_change | same_year)
    if not losers.any():
        return empty_repairs()
    L = df.take(rows[losers]).reset_index(drop=True)
    rule = np.where(same_year[losers], "duplicate_in_return", "later_return_wins")
    if table == "episodes" and "DEC" in df.columns:
        win_dec = _last_valid(df["DEC"].take(rows).reset_index(drop=True), starts, group_of_row).to_numpy()[losers]
        stitched = (~same_year[losers]) & L["DEC"].isna().to_numpy() & ~pd.isna(win_dec)
        rule = np.where(stitched, "open_episode_closed_by_later_return", rule)
    detail = (
        "year " + L["collection_year"].astype(str).to_numpy(dtype=object) + " line "
        + L["source_line"].astype(str).to_numpy(dtype=object) + " replaced by year "
        + pd.Series(win_year[losers]).astype(str).to_numpy(dtype=object) + " line "
        + pd.Series(win_line[losers]).astype(str).to_numpy(dtype=object)
    )
    detail = np.where(changed[losers] != "", detail + "; changed: " + changed[losers], detail + "; identical")
    return pd.DataFrame({
        "la_code": L["la_code"].to_numpy(dtype=object),
        "table_name": table,
        "key": key_text(L, key),
        "rule": rule,
        "detail": detail,
    })


def _close_open_episodes(ep: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Close an earlier return's open episode at the child's next episode from a later return."""
    if ep.empty or ep["DEC"].notna().all():
        return ep, empty_repairs()
    order = np.lexsort((ep["DECOM"].to_numpy(), ep["CHILD"].astype(str).to_numpy(), ep["la_code"].astype(str).to_numpy()))
    s = ep.iloc[order]
    la, child = s["la_code"].to_numpy(), s["CHILD"].to_numpy()
    same_next = np.zeros(len(s), dtype=bool)
    same_next[:-1] = (la[1:] == la[:-1]) & (child[1:] == child[:-1])
    year = s["collection_year"].to_numpy()
    next_year = np.empty_like(year)
    next_year[:-1] = year[1:]
    next_year[-1:] = year[-1:]
    nxt_decom = s["DECOM"].shift(-1)
    open_ = s["DEC"].isna().to_numpy()
    fix = open_ & same_next & (next_year > year) & (nxt_decom > s["DECOM"]).fillna(False).to_numpy()
    if not fix.any():
        return ep, empty_repairs()
    rows = order[fix]
    new_dec = nxt_decom.to_numpy()[fix]
    next_rne = s["RNE"].shift(-1).to_numpy()[fix]
    ep = ep.copy()
    dec = ep["DEC"].copy()
    dec.iloc[rows] = new_dec
    ep["DEC"] = dec
    set_rec = ep["REC"].iloc[rows].isna().to_numpy() & (pd.Series(next_rne).astype(str).to_numpy() != "S")
    if set_rec.any():
        rec = ep["REC"].copy()
        rec.iloc[rows[set_rec]] = "X1"
        ep["REC"] = rec
    fixed = ep.iloc[rows]
    detail = (
        "open in year " + fixed["collection_year"].astype(str).to_numpy(dtype=object)
        + " line " + fixed["source_line"].astype(str).to_numpy(dtype=object)
        + "; DEC set to " + pd.Series(new_dec).dt.strftime("%Y-%m-%d").to_numpy(dtype=object)
        + ", the DECOM of the child's next episode (year "
        + pd.Series(next_year[fix]).astype(str).to_numpy(dtype=object) + ")"
        + np.where(set_rec, "; REC set to X1", "")
    )
    rep = pd.DataFrame({
        "la_code": fixed["la_code"].to_numpy(dtype=object),
        "table_name": "episodes",
        "key": key_text(fixed, ["CHILD", "DECOM"]),
        "rule": "open_episode_closed_by_next",
        "detail": detail,
    })
    return ep, rep
