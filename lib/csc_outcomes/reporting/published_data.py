"""DfE's published figures as a report uses them: read once, looked up many times.

A report compares an LA with England, its region and its ten statistical neighbours
from the published files (``csc_outcomes.published``). Reading them takes a few
seconds, and every notebook of every LA needs them, so :func:`load_published` reads
them once per run (shared through the run's ``cache_dir``, like the pooled models) and
:class:`Published` answers the questions a report asks: the latest year, an area's
figure, an LA's region and neighbours, a child population. A synthetic LA names the
real LA it stands in for (``like:`` in its parameters): :meth:`Published.stand_in`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from csc_outcomes import paths
from csc_outcomes.published import ATTRIBUTION, published_measures
from csc_outcomes.published.contract import measure_notes
from csc_outcomes.published.neighbours import all_neighbours
from csc_outcomes.published.tidy import populations
from csc_outcomes.reporting import published_cache, rates
from csc_outcomes.reporting.la_register import la_regions
from csc_outcomes.reporting.pooled import shared_result

ENGLAND = "E92000001"
#: Where every report showing published figures says whose they are.
SOURCE = ATTRIBUTION


@dataclass(frozen=True)
class Published:
    """The tidy published table, child populations, each LA's region and neighbours."""

    table: pd.DataFrame
    populations: pd.DataFrame
    regions: pd.DataFrame
    neighbours: pd.DataFrame

    @functools.cached_property
    def rated(self) -> pd.DataFrame:
        """The table with counts per 10,000 children (:func:`rates.with_rates`), made once."""
        return rates.with_rates(self.table, self.populations)

    def la_codes(self) -> frozenset[str]:
        """Today's LA codes (those of DfE's statistical neighbour model)."""
        return self.la_code_set

    @functools.cached_property
    def la_code_set(self) -> frozenset[str]:
        """:meth:`la_codes`, made once: asked for each measure of each LA's comparators."""
        return frozenset(self.neighbours["la_code"])

    def stand_in(self, la_code: str, like: str | None = None) -> str | None:
        """The real LA whose published figures stand for ``la_code``: itself when it is a
        real LA, else ``like``; None when neither is (no published comparators)."""
        if la_code in self.la_codes():
            return la_code
        return like if like in self.la_codes() else None

    @functools.cached_property
    def by_measure(self) -> dict[str, pd.DataFrame]:
        """Each measure's published rows, split once: a report asks for one measure's rows
        dozens of times (comparators, funnels, trends, questions), and filtering the
        whole table each time cost a third of a second a report."""
        return {str(m): rows for m, rows in self.table.groupby("measure_id", sort=False)}

    @functools.cached_property
    def rated_by_measure(self) -> dict[str, pd.DataFrame]:
        """:attr:`rated`'s rows of each measure, split once (as :attr:`by_measure`)."""
        return {str(m): rows for m, rows in self.rated.groupby("measure_id", sort=False)}

    @functools.cached_property
    def worked_out(self) -> dict[Hashable, Any]:
        """What reports work out from these figures alone, kept by what it is (e.g. each
        measure's published funnel, ``published_funnel.base_funnel``): the same for every
        LA's report, so worked out once per process, or once in a run's fork server."""
        return {}

    def measure(self, measure_id: str) -> pd.DataFrame:
        """Every published row of one measure."""
        return self.by_measure.get(measure_id, self.table.iloc[:0])

    def rated_measure(self, measure_id: str) -> pd.DataFrame:
        """Every row of one measure with counts per 10,000 children (:attr:`rated`)."""
        return self.rated_by_measure.get(measure_id, self.rated.iloc[:0])

    def latest_year(self, measure_id: str) -> int | None:
        """The latest year the files publish the measure for, or None."""
        def work() -> int | None:
            years = self.measure(measure_id)["year"].dropna()
            return int(years.max()) if len(years) else None
        return self.once(("latest year", measure_id), work)

    def latest_rated(self, measure_id: str) -> pd.DataFrame:
        """:meth:`rated_measure`'s rows of the latest year, cut once (``worked_out``): each
        LA's comparators read them (153 LAs x 19 measures in a national run)."""
        rows = self.rated_measure(measure_id)
        return self.once(("latest rated rows", measure_id),
                         lambda: rows[rows["year"] == self.latest_year(measure_id)])

    def once(self, key: Hashable, work: Callable[[], Any]) -> Any:
        """``work()``, worked out on the first call for ``key`` and kept in
        :attr:`worked_out`: for what every LA's report asks of these figures alone (a
        region, a name, a population: each a filter of a whole table, asked thousands of
        times a national run)."""
        if key not in self.worked_out:
            self.worked_out[key] = work()
        return self.worked_out[key]

    def region_of(self, la_code: str) -> tuple[str, str]:
        """``(region_code, region_name)`` of a current LA."""
        return self.once(("region of", la_code), lambda: self._region_of(la_code))

    def _region_of(self, la_code: str) -> tuple[str, str]:
        row = self.regions[self.regions["la_code"] == la_code]
        if row.empty:
            raise ValueError(f"{la_code!r} is not an LA in DfE's published files")
        return str(row["region_code"].iloc[0]), str(row["region_name"].iloc[0])

    def neighbours_of(self, la_code: str) -> list[str]:
        """The LA's ten statistical neighbours, closest first."""
        def work() -> tuple[str, ...]:
            mine = self.neighbours[self.neighbours["la_code"] == la_code].sort_values("rank")
            return tuple(mine["neighbour_code"])
        return list(self.once(("neighbours of", la_code), work))

    def area_name(self, code: str) -> str:
        """An area's published name (the code itself when unknown)."""
        def work() -> str:
            names = self.table.loc[self.table["area_code"] == code, "area_name"]
            return str(names.iloc[-1]) if len(names) else code
        return str(self.once(("area name", code), work))

    def population(self, area_code: str, year: int) -> float:
        """Children aged 0 to 17 in the area in ``year``, or the nearest year published
        (the files carry populations for fewer years than some measures)."""
        def work() -> float:
            pops = self.populations[self.populations["area_code"] == area_code].dropna()
            if pops.empty:
                return float("nan")
            gaps = (pops["year"].astype(int) - int(year)).abs().to_numpy()
            return float(pops["population"].to_numpy(dtype=float)[gaps.argmin()])
        return float(self.once(("population", area_code, year), work))


def read_published(folder: str | Path | None = None) -> Published:
    """Everything a report needs from the published files in ``folder`` (default ``published/``)."""
    return Published(published_measures(folder), populations(folder), la_regions(folder),
                     all_neighbours(folder))


#: The published figures this process has read, by folder (None: the kit's own).
_READ: dict[str | None, Published] = {}


def _read_once(folder: str | None) -> Published:
    if folder not in _READ:
        where = Path(folder) if folder else paths.published_dir()
        _READ[folder] = published_cache.cached(where, lambda: read_published(where))
    return _READ[folder]


def load_published(cache_dir: str | Path | None = None,
                   folder: str | Path | None = None) -> Published:
    """The published figures, parsed once per release (``published_cache``), read once
    per process (a kernel forked from a run's fork server finds them read there:
    :func:`warm`) and once per run (``cache_dir``: the run's shared folder, where the
    first notebook leaves them for the others)."""
    key = str(folder) if folder else None
    if key in _READ:
        return _READ[key]
    return shared_result("published", cache_dir, lambda: _read_once(key))


def warm() -> Published:
    """Read the kit's published figures and work out what every report asks of them
    (counts per 10,000 children, each measure's rows, DfE's notes on definitions), so
    that processes forked from this one (the run's kernels) find them done: a fifth of a
    second in each of a national run's 612 notebooks. Public figures only."""
    pub = _read_once(None)
    _ = pub.by_measure, pub.rated_by_measure  # cached properties: worked out here
    measure_notes()
    return pub
