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

from csc_outcomes.keys import LINEAGE_COLUMNS, latest_versions, version_key

REPAIR_COLUMNS = ["la_code", "table_name", "key", "rule", "detail"]


def empty_repairs() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in REPAIR_COLUMNS})


def _fmt(s: pd.Series) -> np.ndarray:
    if pd.api.types.is_datetime64_any_dtype(s):
        out = s.dt.strftime("%Y-%m-%d")
    else:
        out = s.astype(object).where(s.notna(), None).astype(str)
    return out.fillna("").to_numpy(dtype=object)


def _key_text(df: pd.DataFrame, key: list[str]) -> np.ndarray:
    parts = None
    for k in key:
        if k in ("la_code", "collection_year"):
            continue
        v = k + "=" + _fmt(df[k])
        parts = v if parts is None else parts + ", " + v
    return parts if parts is not None else np.array([""] * len(df), dtype=object)


def combine_table(df: pd.DataFrame, table: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One version of each record of ``table`` (all LAs, all years) and the repairs made."""
    if df.empty:
        return df.reset_index(drop=True), empty_repairs()
    key = version_key(table)
    repairs = [_superseded(df, table, key)]
    kept = latest_versions(df, table).reset_index(drop=True)
    if table == "episodes":
        kept, rep = _close_open_episodes(kept)
        repairs.append(rep)
    repairs = [r for r in repairs if len(r)]
    return kept, (pd.concat(repairs, ignore_index=True) if repairs else empty_repairs())


def _superseded(df: pd.DataFrame, table: str, key: list[str]) -> pd.DataFrame:
    """Repairs for rows that lose to a later version (only where something differs)."""
    valid = df[key].notna().all(axis=1)
    d = df[valid]
    dup = d.duplicated(subset=key, keep=False)
    if not dup.any():
        return empty_repairs()
    d = d[dup].copy()
    d["_pos"] = np.arange(len(d))
    d = d.sort_values([*key, "collection_year", "source_line", "_pos"], kind="stable")
    grp = d.groupby(key, sort=False, dropna=False)
    is_winner = ~d.duplicated(subset=key, keep="last")
    fields = [c for c in d.columns if c not in LINEAGE_COLUMNS and c != "_pos" and c not in key]
    changed = np.full(len(d), "", dtype=object)
    any_change = np.zeros(len(d), dtype=bool)
    for c in fields:
        w = grp[c].transform("last")
        a, b = d[c], w
        diff = ~((a == b).fillna(False).astype(bool) | (a.isna() & b.isna()))
        diff = diff.to_numpy()
        any_change |= diff
        changed = np.where(diff, changed + np.where(changed == "", "", ", ") + c, changed)
    win_year = grp["collection_year"].transform("last").to_numpy()
    win_line = grp["source_line"].transform("last").to_numpy()
    same_year = d["collection_year"].to_numpy() == win_year
    losers = (~is_winner.to_numpy()) & (any_change | same_year)
    if not losers.any():
        return empty_repairs()
    L = d[losers]
    rule = np.where(same_year[losers], "duplicate_in_return", "later_return_wins")
    if table == "episodes" and "DEC" in d.columns:
        win_dec = grp["DEC"].transform("last").to_numpy()[losers]
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
        "key": _key_text(L, key),
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
    dec_col = ep.columns.get_loc("DEC")
    ep.iloc[rows, dec_col] = new_dec
    set_rec = ep["REC"].iloc[rows].isna().to_numpy() & (pd.Series(next_rne).astype(str).to_numpy() != "S")
    if set_rec.any():
        ep.iloc[rows[set_rec], ep.columns.get_loc("REC")] = "X1"
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
        "key": _key_text(fixed, ["CHILD", "DECOM"]),
        "rule": "open_episode_closed_by_next",
        "detail": detail,
    })
    return ep, rep
