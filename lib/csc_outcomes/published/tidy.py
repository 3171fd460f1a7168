"""The tidy published table: DfE's figures in the catalogue's vocabulary.

One row per (geographic level, area, year, measure): ``numerator`` and
``denominator`` as published, ``value`` on the measures table's scale (a proportion
for rates, the count for counts), and ``symbol`` where DfE published a symbol instead
of a number (the numbers it stands for are then empty). Published figures are already
public, so they are shown as published: no further suppression applies to them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from csc_outcomes import atomic
from csc_outcomes.measures.catalogue import CATALOGUE
from csc_outcomes.published.contract import (
    Cell,
    MeasureRule,
    Publication,
    PublishedFileError,
    ees_contract,
)
from csc_outcomes.published.neighbours import current_la_codes
from csc_outcomes.published.read import publication_files, read_ees

TIDY_COLUMNS = ["geographic_level", "area_code", "area_name", "year", "measure_id",
                "numerator", "denominator", "value", "symbol"]
KEY = ["geographic_level", "area_code", "year"]


def cell_columns(pub: Publication) -> list[str]:
    cells = [c for r in pub.rules for c in (r.numerator, r.denominator, r.percent) if c]
    cells += [pub.population] if pub.population else []
    return sorted({col for cell in cells for col in cell.columns})


def _rows(frame: pd.DataFrame, where: Iterable[tuple[str, str]]) -> pd.DataFrame:
    keep = pd.Series(True, index=frame.index)
    for col, value in where:
        keep &= frame[col].str.strip() == value
    return frame[keep]


def cell_values(path: Path, frame: pd.DataFrame, cell: Cell,
                where: Sequence[tuple[str, str]]) -> pd.DataFrame:
    """KEY, ``number`` (float, NaN for a symbol) and ``symbol`` of one cell, per area and year."""
    rows = _rows(frame, [*where, *cell.where])
    dup = rows[rows.duplicated(KEY, keep=False)]
    if len(dup):
        raise PublishedFileError(path, "two rows for one area and year under the same rule "
                                 f"(lines {', '.join(map(str, dup['line'].head(4)))}): the file "
                                 "has a breakdown the contract does not filter on",
                                 line=int(dup["line"].iloc[0]))
    texts = [rows[c].str.strip() for c in cell.columns]
    numbers = [pd.to_numeric(t, errors="coerce") for t in texts]
    symbol = texts[0].where(numbers[0].isna(), "")
    if cell.is_difference:
        symbol = symbol.where(symbol != "", texts[1].where(numbers[1].isna(), ""))
    number = numbers[0] - numbers[1] if cell.is_difference else numbers[0]
    return pd.DataFrame({**{k: rows[k] for k in [*KEY, "area_name"]},
                         "number": number, "symbol": symbol})


def _join(left: pd.DataFrame, right: pd.DataFrame | None, name: str) -> pd.DataFrame:
    if right is None:
        left[f"{name}_number"], left[f"{name}_symbol"] = np.nan, ""
        return left
    right = right.rename(columns={"number": f"{name}_number", "symbol": f"{name}_symbol"})
    out = left.merge(right.drop(columns="area_name"), on=KEY, how="left")
    out[f"{name}_symbol"] = out[f"{name}_symbol"].fillna("")
    return out


def rule_rows(path: Path, frame: pd.DataFrame, rule: MeasureRule) -> pd.DataFrame:
    """The tidy rows one measure rule gives from one file."""
    num = cell_values(path, frame, rule.numerator, rule.where)
    num = num.rename(columns={"number": "numerator", "symbol": "num_symbol"})
    den = cell_values(path, frame, rule.denominator, rule.where) if rule.denominator else None
    pct = cell_values(path, frame, rule.percent, rule.where) if rule.percent else None
    out = _join(_join(num, den, "den"), pct, "pct")
    out["denominator"] = out["den_number"]
    if CATALOGUE[rule.measure_id].kind == "count":
        out["value"] = out["numerator"]
    else:
        ratio = out["numerator"] / out["denominator"].where(out["denominator"] > 0)
        out["value"] = ratio.fillna(out["pct_number"] / 100)
    out["symbol"] = out["num_symbol"].where(out["num_symbol"] != "", out["den_symbol"])
    out["symbol"] = out["symbol"].where(out["symbol"] != "", out["pct_symbol"].where(out["value"].isna(), ""))
    out["measure_id"] = rule.measure_id
    return out[TIDY_COLUMNS]


def published_measures(folder: str | Path | None = None, *, years: Iterable[int] | None = None,
                       measure_ids: Iterable[str] | None = None) -> pd.DataFrame:
    """The tidy published table for every measure a file in ``folder`` informs.

    LAs are today's (those of DfE's statistical neighbour model): the rows of former
    LAs (Cumbria, Northamptonshire) are left out, as no current LA compares with them.
    ``years`` (years ending 31 March) and ``measure_ids`` narrow it. Sorted England
    first, then regions, then LAs, by code, year and catalogue order.
    """
    wanted = set(measure_ids) if measure_ids is not None else None
    unknown = sorted((wanted or set()) - set(CATALOGUE))
    if unknown:
        raise ValueError(f"unknown measure id(s) {unknown}; see docs/measures.md")
    parts = []
    for path, pub in publication_files(folder):
        rules = [r for r in pub.rules if wanted is None or r.measure_id in wanted]
        if not rules:
            continue
        frame = read_ees(path, pub.columns, cell_columns(pub))
        parts += [rule_rows(path, frame, r) for r in rules]
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=TIDY_COLUMNS)
    former = (out["geographic_level"] == "Local authority") & ~out["area_code"].isin(current_la_codes(folder))
    out = out[~former]
    if years is not None:
        missing = sorted(set(years) - set(out["year"]))
        if missing:
            held = sorted(set(out["year"]))
            raise ValueError(f"no published figures for year(s) {missing} (years ending 31 March); "
                             f"the files hold {held[0] if held else '-'} to {held[-1] if held else '-'}: "
                             "add a newer release with `csc-outcomes published update FILE`")
        out = out[out["year"].isin(list(years))]
    return sort_tidy(out)


def sort_tidy(frame: pd.DataFrame) -> pd.DataFrame:
    """England, regions, LAs; then code, year and catalogue order."""
    levels = {level: i for i, level in enumerate(ees_contract().geographic_levels)}
    order = {m: i for i, m in enumerate(CATALOGUE)}
    keyed = frame.assign(_level=frame["geographic_level"].map(levels),
                         _measure=frame["measure_id"].map(order))
    keyed = keyed.sort_values(["_level", "area_code", "year", "_measure"], kind="stable")
    out = keyed.drop(columns=["_level", "_measure"]).reset_index(drop=True)
    out["year"] = out["year"].astype("Int64")
    out["numerator"] = out["numerator"].astype("Float64")
    out["denominator"] = out["denominator"].astype("Float64")
    return out


def populations(folder: str | Path | None = None) -> pd.DataFrame:
    """``area_code, year, population`` (children aged 0 to 17) for rates per 10,000."""
    for path, pub in publication_files(folder):
        if pub.population is not None:
            frame = read_ees(path, pub.columns, cell_columns(pub))
            values = cell_values(path, frame.drop_duplicates(KEY), pub.population, ())
            return values.rename(columns={"number": "population"})[["area_code", "year", "population"]]
    return pd.DataFrame(columns=["area_code", "year", "population"])


def to_csv(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write the tidy table atomically, numbers without a spurious ``.0``."""
    out = frame.copy()
    for col in ("numerator", "denominator"):
        whole = out[col].dropna()
        if (whole == whole.round()).all():
            out[col] = out[col].astype("Int64")
    return atomic.write_text(path, out.to_csv(index=False, float_format="%.10g"))
