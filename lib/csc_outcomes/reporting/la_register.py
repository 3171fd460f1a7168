"""Today's LAs as DfE's published files know them: codes, regions, neighbours.

Parameters files name real LAs (``like: E06000001``, a real LA's own file), and a
report sets an LA beside its region and statistical neighbours; all of these come from
the published files (``csc_outcomes.published``), read once per process here so that
checking a parameters folder does not read them once per file.
"""

from __future__ import annotations

import functools
from pathlib import Path

import pandas as pd

from csc_outcomes.published.neighbours import all_neighbours
from csc_outcomes.published.read import publication_files, read_rows

LA_LEVEL = "Local authority"
#: Some files give a London borough the region Inner or Outer London (``E13...``): its
#: region among the nine is London.
LONDON = ("E12000007", "London")


def la_regions(folder: str | Path | None = None) -> pd.DataFrame:
    """``la_code, region_code, region_name`` of every LA, as of the latest year published
    (read from the first publication file: every EES file carries both), one of the
    nine regions (Inner and Outer London read as London)."""
    path = publication_files(folder)[0][0]
    header, rows = read_rows(path)
    frame = pd.DataFrame([f for _, f in rows], columns=header).apply(lambda c: c.str.strip())
    frame = frame[frame["geographic_level"] == LA_LEVEL].sort_values("time_period")
    frame = frame.drop_duplicates("new_la_code", keep="last")
    london = frame["region_code"].str.startswith("E13")
    frame.loc[london, "region_code"], frame.loc[london, "region_name"] = LONDON
    return pd.DataFrame({"la_code": frame["new_la_code"], "region_code": frame["region_code"],
                         "region_name": frame["region_name"]}).reset_index(drop=True)


@functools.cache
def neighbours() -> pd.DataFrame:
    """Every current LA's ten statistical neighbours (``published/``), read once."""
    return all_neighbours()


@functools.cache
def regions() -> pd.DataFrame:
    """Every current LA's region (``published/``), read once."""
    return la_regions()


def is_current_la(code: object) -> bool:
    """Whether ``code`` is one of today's 153 LAs (DfE's statistical neighbour model)."""
    return isinstance(code, str) and code.strip() in set(neighbours()["la_code"])


def defaults_for(la_code: str) -> dict[str, object]:
    """``name``, ``statistical_neighbours`` and ``region`` of a real LA from DfE's files
    (``{}`` for any other code): a real LA's parameters need no list."""
    if not is_current_la(la_code):
        return {}
    mine = neighbours()[neighbours()["la_code"] == la_code].sort_values("rank")
    region = regions().loc[regions()["la_code"] == la_code, "region_name"]
    return {"name": str(mine["la_name"].iloc[0]), "statistical_neighbours": list(mine["neighbour_code"]),
            "region": str(region.iloc[0]) if len(region) else ""}
