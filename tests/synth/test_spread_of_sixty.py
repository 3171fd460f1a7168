"""Issue 11's check, as the issue words it: 60 England-sized synthetic LAs, generated,
ingested and measured by the real flow, spread as DfE's 153 published LAs do.

Each rate with a published LA figure: the synthetic LAs' p10, p50 and p90 at 31 March
2026 within 0.02 of the published LAs' (latest year, read from ``published/``, not
copied here), 0.03 where the published figure is a whole percent below 15%. The flow and
the comparison are ``benchmarks/measures/bench_synth_spread.py`` (which records the
tables in RESULTS.md); this runs it on its seed. About four minutes of one core: the
slowest test of the suite, started first (``tests/conftest.py``).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd
import pytest

from csc_outcomes import paths


def bench_script():
    """benchmarks/measures/bench_synth_spread.py, loaded as a module."""
    path = paths.repo_root() / "benchmarks" / "measures" / "bench_synth_spread.py"
    spec = importlib.util.spec_from_file_location("bench_synth_spread", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_tolerance_is_wider_only_for_small_whole_percents() -> None:
    bench = bench_script()
    assert bench.tolerance(0.07) == 0.03 and bench.tolerance(0.14) == 0.03
    assert bench.tolerance(0.151) == 0.02 and bench.tolerance(0.20) == 0.02  # 20%: not small
    assert bench.tolerance(0.589) == 0.02


def test_the_targets_are_the_published_las_quantiles() -> None:
    """Read from the published files: every rate with an LA figure is checked."""
    targets = bench_script().published_targets()
    rates = targets[targets["p10"] < 1]
    assert len(rates) >= 15 and (rates["las"] >= 140).all()
    assert rates.loc["cla_long_term_stability", "p10"] == pytest.approx(0.589, abs=0.001)


@pytest.mark.slow
def test_sixty_england_sized_las_spread_as_the_published_las(tmp_path: Path) -> None:
    bench = bench_script()
    measures = bench.measured(60, 2026, tmp_path)
    at_end = measures[pd.to_datetime(measures["period_end"]) == pd.Timestamp(bench.PERIOD_END)]
    targets = bench.published_targets()
    got, misses = bench.compare(at_end, targets)
    assert set(got.index) == set(targets.index)
    assert misses == [], "\n".join(misses) + "\n" + bench.table(got, targets)
