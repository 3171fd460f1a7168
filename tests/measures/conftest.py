"""Fixture builders for the measure tests: small hand-built tables, one LA or several."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from csc_outcomes.measures.compute import compute_measures
from csc_outcomes.measures.fields import DATES
from csc_outcomes.measures.inputs import MeasureInputs


def table(name: str, rows: list[dict], la: str = "LA1") -> pd.DataFrame:
    """A canonical table from row dicts: ``la_code`` added, date columns parsed."""
    df = pd.DataFrame(rows)
    if "la_code" not in df.columns:
        df.insert(0, "la_code", la)
    for col in DATES.get(name, []):
        if col in df.columns:
            df[col] = pd.to_datetime(df[col])
    return df


def inputs(**tables: pd.DataFrame | list[dict]) -> MeasureInputs:
    """``MeasureInputs`` from keyword tables (lists of dicts go through :func:`table`)."""
    built = {k: (v if isinstance(v, pd.DataFrame) else table(k, v)) for k, v in tables.items()}
    return MeasureInputs(tables=built)


def result(inp: MeasureInputs, period_ends, measure_ids=None) -> pd.DataFrame:
    return compute_measures(inp, period_ends, measure_ids)


def get(res: pd.DataFrame, measure_id: str, period_end: str, la: str = "LA1"):
    """(numerator, denominator, value) of one row, with None for empty cells."""
    r = res[
        (res["measure_id"] == measure_id)
        & (res["period_end"] == pd.Timestamp(period_end))
        & (res["la_code"] == la)
    ]
    assert len(r) == 1, f"expected one row for {la} {period_end} {measure_id}, got {len(r)}"
    row = r.iloc[0]

    def clean(v):
        if v is pd.NA or v is None or (isinstance(v, float) and math.isnan(v)):
            return None
        return v

    return clean(row["numerator"]), clean(row["denominator"]), clean(row["value"])


def has_row(res: pd.DataFrame, measure_id: str, la: str = "LA1") -> bool:
    return bool(((res["measure_id"] == measure_id) & (res["la_code"] == la)).any())


@pytest.fixture
def approx():
    return pytest.approx
