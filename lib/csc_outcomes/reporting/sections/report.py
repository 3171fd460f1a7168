"""One report's inputs, as its notebook's parameters give them, each read once."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import pandas as pd

from csc_outcomes.reporting import benchmarks
from csc_outcomes.reporting.context import ReportView
from csc_outcomes.reporting.pooled import PooledResult, pooled_model
from csc_outcomes.reporting.published_data import Published, load_published

#: The parameters a report's sections read (a notebook declares those it uses).
PARAMETERS = ("la_code", "period_end", "warehouse", "measures_path", "output_dir", "la_name",
              "comparators", "suppression_threshold", "parameters_dir", "qa_report",
              "cache_dir", "like", "model_cache", "model_keys")

#: The notebook parameter naming the report's prepared sections (set by a run).
PREPARED = "prepared"


class NoMeasures(RuntimeError):
    """The measures file has no row for the report's LA and period."""


def as_json(parameters: Mapping[str, Any]) -> dict[str, Any]:
    """``parameters`` as they read back from JSON (tuples as lists, keys as text): the
    form in which a prepared file records them and a notebook's are compared."""
    return dict(json.loads(json.dumps(dict(parameters), default=str)))


@dataclass
class Report:
    """A report's parameters (:data:`PARAMETERS`) and what its sections read of them.

    ``prepared``: the file of its sections as the run's prepare stage worked them out
    ("" in JupyterLab: each section is worked out when shown)."""

    parameters: dict[str, Any]
    prepared: str = ""
    _models: dict[str, PooledResult] = field(default_factory=dict, repr=False)
    #: The prepared sections once read (``prepared.show``): None, none to show.
    shown_from: dict[str, Any] | None = field(default=None, init=False, repr=False)
    read_prepared: bool = field(default=False, init=False, repr=False)

    @classmethod
    def from_namespace(cls, namespace: Mapping[str, Any]) -> Report:
        """The report a notebook's parameters cell describes (pass ``globals()``)."""
        return cls({k: namespace[k] for k in PARAMETERS if k in namespace},
                   str(namespace.get(PREPARED) or ""))

    def get(self, name: str, default: Any = "") -> Any:
        """A parameter, or ``default`` when the notebook does not declare it."""
        return self.parameters.get(name, default)

    @property
    def la_code(self) -> str:
        """The LA's code."""
        return str(self.parameters["la_code"])

    @property
    def period_end(self) -> str:
        """The period end, as given (``2026-03-31``)."""
        return str(self.parameters["period_end"])

    @property
    def threshold(self) -> int:
        """The suppression threshold: counts from 1 to it are never shown."""
        return int(self.get("suppression_threshold", 5))

    @property
    def like(self) -> str | None:
        """The real LA a synthetic one stands in for, if any."""
        return self.get("like") or None

    @cached_property
    def view(self) -> ReportView:
        """The released measures, for this LA and period and its comparators."""
        view = ReportView.load(self.parameters["measures_path"], self.la_code, self.period_end,
                               comparators=self.get("comparators", []),
                               la_name=self.get("la_name") or None, threshold=self.threshold)
        if not view.has_data():
            raise NoMeasures(f"no measures for {self.la_code} at {self.period_end} in "
                             f"{self.parameters['measures_path']}: run 'csc-outcomes measures' "
                             "for this period, or check the LA's code")
        return view

    @cached_property
    def pub(self) -> Published:
        """DfE's published figures (public), read once per run."""
        return load_published(self.get("cache_dir"))

    @cached_property
    def bench(self) -> pd.DataFrame:
        """The LA beside England, its region and its statistical neighbours (published)."""
        return benchmarks.comparators(self.view, self.la_code, self.period_end, self.like,
                                      published=self.pub, threshold=self.threshold)

    def model(self, name: str) -> PooledResult:
        """Pooled model ``name`` (its frame, fit and why it was not fitted), from the model
        cache the run filled before the notebooks (fitted into it here when missing)."""
        if name not in self._models:
            self._models[name] = pooled_model(name, self.parameters["warehouse"], self.period_end,
                                              self.get("model_cache"),
                                              key=(self.get("model_keys") or {}).get(name))
        return self._models[name]
