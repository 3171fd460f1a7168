"""The pooled models the report notebooks show, fitted once per run and shared.

Three notebooks fit a model over every LA's child-level records and read one LA's
figures against it: re-referral after a CIN closure (``rereferrals``), attendance and
placement moves (``placement_stability``), the level of intervention against the needs
assessed (``proportionality``). Each notebook's cell is one call::

    closures, fit, why = pooled_model("rereferral", warehouse, period_end, cache_dir)

which returns the model's frame, its fit (``None`` when it cannot be fitted, e.g. on
thin data) and the reason in words (``None`` when fitted). ``MODELS`` says how each
model is built. In a run every LA's notebook asks for the same model, so the first one
builds it and the others read it from the run's ``cache_dir`` (``shared_result``).
"""

from __future__ import annotations

import pickle
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from csc_outcomes import atomic
from csc_outcomes.measures import table
from csc_outcomes.reporting.context import fit_or_reason, load_inputs
from csc_outcomes.stats import frames, proportionality, rereferral, stability

#: (frame, fit or None, reason or None) as the notebooks unpack it.
PooledResult = tuple[pd.DataFrame | None, Any, str | None]


def no_options(frame: pd.DataFrame) -> dict[str, Any]:
    """Fit options for a model that needs none."""
    return {}


@dataclass(frozen=True)
class PooledModel:
    """How one pooled model is built: its frame, its fit, and when it is too thin to fit."""

    frame: Callable[[Mapping[str, pd.DataFrame], Any], pd.DataFrame]
    fit: Callable[..., Any]
    min_rows: int
    what: str  # "the re-referral model": the words a reason uses
    options: Callable[[pd.DataFrame], dict[str, Any]] = field(default=no_options)


MODELS: dict[str, PooledModel] = {
    "rereferral": PooledModel(
        frames.closure_frame, rereferral.fit_rereferral, min_rows=50,
        what="the re-referral model", options=lambda frame: {"cluster": "LAchildID"}),
    "stability": PooledModel(
        frames.attendance_frame, stability.fit_stability, min_rows=30,
        what="the attendance model"),
    "proportionality": PooledModel(
        frames.assessment_frame, proportionality.fit_ordered_logit, min_rows=50,
        what="the proportionality model"),  # needs only: an LA term would absorb the difference shown
}


def build_model(name: str, warehouse: str | Path, period_end: Any) -> PooledResult:
    """Build pooled model ``name`` from every LA's records in the warehouse."""
    if name not in MODELS:
        raise ValueError(f"no pooled model {name!r}; known: {', '.join(sorted(MODELS))}")
    model = MODELS[name]
    inputs, why = load_inputs(warehouse)
    if inputs is None:
        return None, None, why
    frame = model.frame(inputs.tables, period_end)
    fit, why = fit_or_reason(model.fit, frame, min_rows=model.min_rows, what=model.what,
                             **model.options(frame))
    return frame, fit, why


def pooled_model(name: str, warehouse: str | Path, period_end: Any,
                 cache_dir: str | Path | None) -> PooledResult:
    """Pooled model ``name`` for the period: built once per run through ``cache_dir``."""
    key = f"{name}-{table.period_text(period_end)}"
    return shared_result(key, cache_dir, lambda: build_model(name, warehouse, period_end))


def shared_result(name: str, cache_dir: str | Path | None, build: Callable[[], Any]) -> Any:
    """``build()`` once per run, shared by every LA's notebook through ``cache_dir``.

    The pooled models are fitted on every LA's records, so each LA's notebook would
    otherwise load the whole warehouse and fit the same model again. ``csc-outcomes
    run`` gives the notebooks a restricted folder for the run
    (``restricted/<period>/.run-<run_id>/shared``, owner-only, removed when the run
    ends, and by the next run if this one is killed); the first
    notebook to need a result builds and pickles it there, the others read it (two
    notebooks starting together may both build it; the file is written atomically, so
    either copy is whole). Without ``cache_dir`` (a notebook opened in JupyterLab) it
    just builds. The pickle holds child-level frames: it lives in the restricted tree
    only (readable by its owner alone), for the length of one run, and is read only by
    the run that wrote it.
    """
    if not cache_dir:
        return build()
    path = Path(cache_dir) / f"{name}.pkl"
    if path.is_file():
        with open(path, "rb") as fh:
            return pickle.load(fh)
    result = build()
    with atomic.atomic_path(path, mode=0o600) as tmp, open(tmp, "wb") as fh:
        pickle.dump(result, fh, protocol=pickle.HIGHEST_PROTOCOL)
    return result
