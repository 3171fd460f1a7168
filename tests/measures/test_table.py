"""The measures table: read/write round trip, period-end parsing, ensure_period."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from csc_outcomes.measures import table


def frame(period_ends: list[str], las: tuple[str, ...] = ("E1", "E2")) -> pd.DataFrame:
    """A small measures table: a count and a rate (one with an empty value) per LA."""
    rows = []
    for p in period_ends:
        for la in las:
            rows += [(la, p, "referrals", 12, None, 12.0),
                     (la, p, "rereferrals_within_12m", 1, 3, 1 / 3),
                     (la, p, "assessments_within_45wd", 0, 0, None)]
    df = pd.DataFrame(rows, columns=table.COLUMNS)
    df["period_end"] = pd.to_datetime(df["period_end"])
    for col in ("numerator", "denominator"):
        df[col] = df[col].astype("Int64")
    return df


def test_write_then_read_round_trips(tmp_path):
    original = frame(["2024-03-31", "2025-03-31"])
    path = table.write(original, tmp_path / "out" / "measures.csv")
    assert [p.name for p in path.parent.iterdir()] == ["measures.csv"]  # no temp file left
    text = path.read_text(encoding="utf-8")
    assert text.splitlines()[0] == ",".join(table.COLUMNS)
    assert "2024-03-31,referrals" in text and "00:00" not in text
    assert text == table.to_csv_text(original)
    back = table.read(path)
    assert list(back.columns) == table.COLUMNS
    assert back["period_end"].tolist() == original["period_end"].tolist()
    assert back["la_code"].tolist() == original["la_code"].tolist()
    np.testing.assert_allclose(back["value"], original["value"].astype(float), rtol=1e-9)
    assert back["denominator"].isna().tolist() == original["denominator"].isna().tolist()
    assert table.las_for_period(back, "2025-03-31") == ["E1", "E2"]
    assert table.las_for_period(back, "2023-03-31") == []


def test_read_names_missing_columns(tmp_path):
    path = tmp_path / "other.csv"
    path.write_text("la_code,period_end\nE1,2025-03-31\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"not a measures table.*measure_id"):
        table.read(path)


def test_period_end_spellings():
    assert table.parse_period_end("2025-03-31") == dt.date(2025, 3, 31)
    assert table.parse_period_end(" 2025-03-31 ") == dt.date(2025, 3, 31)
    assert table.parse_period_end(dt.date(2025, 3, 31)) == dt.date(2025, 3, 31)
    assert table.parse_period_end(pd.Timestamp("2025-03-31 13:00")) == dt.date(2025, 3, 31)
    assert table.parse_period_end(np.datetime64("2025-03-31")) == dt.date(2025, 3, 31)
    today = dt.date(2025, 3, 15)
    assert table.parse_period_end("last_month_end", today=today) == dt.date(2025, 2, 28)
    assert table.parse_period_end("last-month-end", today=today) == dt.date(2025, 2, 28)
    assert table.last_month_end(dt.date(2024, 3, 1)) == dt.date(2024, 2, 29)
    assert table.period_text(pd.Timestamp("2025-03-31")) == "2025-03-31"


@pytest.mark.parametrize("bad", ["31/03/2025", "2025-3-31", "2025-02-30", "", "March 2025", None])
def test_bad_period_ends_are_named(bad):
    with pytest.raises(ValueError, match=r"period end .* is not a date YYYY-MM-DD") as e:
        table.parse_period_end(bad)
    assert repr(bad) in str(e.value)


@pytest.fixture
def fake_compute(monkeypatch):
    """``compute_measures`` replaced by one that records its period ends."""
    calls: list[list[str]] = []

    def compute(inputs, periods):
        ends = [str(pd.Timestamp(p).date()) for p in periods]
        calls.append(ends)
        out = frame(ends, las=("E1",))
        out["value"] = out["value"] + 1  # freshly computed rows are told apart
        return out

    monkeypatch.setattr(table.MeasureInputs, "from_warehouse", classmethod(lambda cls, *a, **k: None))
    monkeypatch.setattr(table, "compute_measures", compute)
    return calls


def test_ensure_period_computes_once_then_merges(tmp_path, fake_compute):
    warehouse = tmp_path / "warehouse.duckdb"
    warehouse.write_bytes(b"")
    path = tmp_path / "measures.csv"
    logged: list[str] = []
    assert table.ensure_period(warehouse, path, "2025-03-31", log=logged.append) is True
    assert fake_compute == [["2023-03-31", "2024-03-31", "2025-03-31"]]
    assert logged and "2025-03-31" in logged[0]
    # The period is there now: nothing is computed again.
    assert table.ensure_period(warehouse, path, dt.date(2025, 3, 31)) is False
    assert len(fake_compute) == 1
    # A later period: computed, and only its new periods are added to the file's.
    before = table.read(path)
    assert table.ensure_period(warehouse, path, "2026-03-31") is True
    after = table.read(path)
    assert fake_compute[-1] == ["2024-03-31", "2025-03-31", "2026-03-31"]
    assert sorted(after["period_end"].dt.strftime("%Y-%m-%d").unique()) == [
        "2023-03-31", "2024-03-31", "2025-03-31", "2026-03-31"]
    kept = after[after["period_end"] <= pd.Timestamp("2025-03-31")].reset_index(drop=True)
    pd.testing.assert_frame_equal(kept, before)  # earlier rows are not recomputed
    assert len(after) == len(before) + 3


def test_ensure_period_without_a_warehouse_says_what_to_run(tmp_path, fake_compute):
    with pytest.raises(table.MeasuresError, match="csc-outcomes ingest"):
        table.ensure_period(tmp_path / "none.duckdb", tmp_path / "m.csv", "2025-03-31")
    assert fake_compute == []


def test_ensure_period_reports_a_failed_computation(tmp_path, monkeypatch):
    def broken(inputs, periods):
        raise KeyError("CHILD")

    monkeypatch.setattr(table.MeasureInputs, "from_warehouse", classmethod(lambda cls, *a, **k: None))
    monkeypatch.setattr(table, "compute_measures", broken)
    warehouse = tmp_path / "warehouse.duckdb"
    warehouse.write_bytes(b"")
    with pytest.raises(table.MeasuresError, match=r"KeyError.*csc-outcomes measures") as e:
        table.ensure_period(warehouse, tmp_path / "m.csv", "2025-03-31")
    assert isinstance(e.value.__cause__, KeyError)
    assert not (tmp_path / "m.csv").exists()


def test_snapshot_rows_hold_the_period_and_earlier_ones_kept(tmp_path):
    """A run's own rows: no later period (it would show in an earlier report's trend),
    and only the rows ``keep`` marks (finding 8: measures kept per run and period)."""
    path = table.write(frame(["2024-03-31", "2025-03-31", "2026-03-31"]), tmp_path / "m.csv")
    rows = table.snapshot_rows(path, "2025-03-31")
    assert sorted(rows["period_end"].dt.strftime("%Y-%m-%d").unique()) == ["2024-03-31",
                                                                          "2025-03-31"]
    assert rows[table.KEY].equals(rows[table.KEY].sort_values(table.KEY).reset_index(drop=True))
    only_e1 = table.snapshot_rows(path, "2025-03-31", keep=lambda f: f["la_code"] == "E1")
    assert set(only_e1["la_code"]) == {"E1"} and len(only_e1) == 6
    # written by the one writer, owner-only when asked
    out = table.write(rows, tmp_path / "run" / "m.csv", mode=0o600)
    assert out.stat().st_mode & 0o777 == 0o600
    pd.testing.assert_frame_equal(table.read(out), rows)


def test_differences_name_row_column_and_both_values():
    recorded = frame(["2025-03-31"])
    recomputed = recorded.iloc[::-1].copy()  # order does not matter
    assert table.differences(recorded, recomputed).empty
    recomputed.loc[(recomputed["la_code"] == "E2") & (recomputed["measure_id"] == "referrals"),
                   ["numerator", "value"]] = [13, 13.0]
    recomputed = recomputed[~((recomputed["la_code"] == "E1")
                              & (recomputed["measure_id"] == "assessments_within_45wd"))]
    diffs = table.differences(recorded, recomputed)
    got = [(d.la_code, d.measure_id, d.column, d.recorded, d.recomputed)
           for d in diffs.itertuples(index=False)]
    assert got == [("E1", "assessments_within_45wd", "row", "present", "absent"),
                   ("E2", "referrals", "numerator", 12, 13),
                   ("E2", "referrals", "value", 12.0, 13.0)]
    assert (diffs["period_end"] == pd.Timestamp("2025-03-31")).all()
