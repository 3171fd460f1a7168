"""The pooled models the report notebooks show: a stage of the run, cached by content.

Three notebooks read one LA's figures against a model fitted over every LA's
child-level records: re-referral after a CIN closure (``rereferrals``), attendance and
placement moves (``placement_stability``), the level of intervention against the needs
assessed (``proportionality``). ``MODELS`` says how each is built: its frame builder
(``stats.frames``) and the columns it reads, its fit, options and the fewest rows it
is fitted on; ``NOTEBOOK_MODELS`` which notebook shows which.

A run fits them before the notebooks start (``stages.fit_pooled_models`` calls
:func:`fit_models`), each once, into the model cache in the restricted tree
(``model_cache``), under the key :func:`model_key`: the model's specification, the
period, the content of exactly the columns it reads (``warehouse.content``) and the
code's version. A later run (one LA, another format) reuses the entry until one of
those changes. A notebook's cell is one call, which reads the entry, or, in JupyterLab
before any run, builds the same entry the same way under the same lock::

    closures, fit, why = pooled_model("rereferral", warehouse, period_end, model_cache)

It returns the model's frame, its fit (``None`` when it cannot be fitted, e.g. on thin
data) and the reason in words (``None`` when fitted).
"""

from __future__ import annotations

import pickle
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd

from csc_outcomes import atomic, warehouse
from csc_outcomes.measures import table
from csc_outcomes.reporting import file_memo, model_build, model_cache
from csc_outcomes.stats import frames, proportionality, rereferral, stability
from csc_outcomes.warehouse.content import projection_digest

#: (frame, fit or None, reason or None) as the notebooks unpack it.
PooledResult = tuple[pd.DataFrame | None, Any, str | None]


def qualified_name(fn: Callable[..., Any]) -> str:
    """``module.function``: how a specification names a function."""
    return f"{fn.__module__}.{fn.__qualname__}"


@dataclass(frozen=True)
class PooledModel:
    """How one pooled model is built: its frame (from ``reads``: table -> columns), its
    fit with ``options``, and the fewest rows it is fitted on."""

    frame: Callable[[Mapping[str, pd.DataFrame], Any], pd.DataFrame]
    fit: Callable[..., Any]
    reads: Mapping[str, Sequence[str]]
    min_rows: int
    what: str  # "the re-referral model": the words a reason uses
    options: Mapping[str, Any] = field(default_factory=dict)

    def spec(self, name: str) -> dict[str, Any]:
        """What the model is, as its cache key holds it."""
        return {"name": name, "frame": qualified_name(self.frame), "fit": qualified_name(self.fit),
                "reads": {t: list(c) for t, c in sorted(self.reads.items())},
                "options": dict(self.options), "min_rows": self.min_rows}

    def code(self) -> tuple[str, ...]:
        """The modules whose source (and what they import of the kit) make the model:
        the frame's, the fit's, the warehouse reader's, and this one (the models'
        specifications, :func:`build_model`, and through its imports ``model_build``:
        the columns read, the frame made, the fit run or refused)."""
        return (self.frame.__module__, self.fit.__module__, warehouse.read_tables.__module__,
                __name__)


MODELS: dict[str, PooledModel] = {
    "rereferral": PooledModel(
        frames.closure_frame, rereferral.fit_rereferral, frames.CLOSURE_FRAME_READS,
        min_rows=50, what="the re-referral model", options={"cluster": "LAchildID"}),
    "stability": PooledModel(
        frames.attendance_frame, stability.fit_stability, frames.ATTENDANCE_FRAME_READS,
        min_rows=30, what="the attendance model"),
    "proportionality": PooledModel(
        frames.assessment_frame, proportionality.fit_ordered_logit,
        frames.ASSESSMENT_FRAME_READS, min_rows=50,
        what="the proportionality model"),  # needs only: an LA term would absorb the difference shown
}

#: The pooled models each notebook shows (a notebook not named shows none).
NOTEBOOK_MODELS: dict[str, tuple[str, ...]] = {
    "rereferrals": ("rereferral",),
    "placement_stability": ("stability",),
    "proportionality": ("proportionality",),
}


def model(name: str) -> PooledModel:
    """Pooled model ``name`` (``ValueError`` naming the known ones otherwise)."""
    if name not in MODELS:
        raise ValueError(f"no pooled model {name!r}; known: {', '.join(sorted(MODELS))}")
    return MODELS[name]


def models_for(notebooks: Iterable[str]) -> list[str]:
    """The pooled models the notebooks (names, without ``.ipynb``) show, in ``MODELS`` order."""
    wanted = {m for nb in notebooks for m in NOTEBOOK_MODELS.get(nb, ())}
    return [m for m in MODELS if m in wanted]


@lru_cache(maxsize=64)
def _digests(path: Path, identity: tuple[int, ...],
             reads: tuple[tuple[str, tuple[str, ...]], ...]) -> dict[str, str]:
    """``projection_digest`` of each table's columns, once per file version (``identity``)."""
    with warehouse.connect(path) as con:
        return {t: projection_digest(con, t, cols) for t, cols in reads}


def inputs_digest(path: str | Path, reads: Mapping[str, Sequence[str]],
                  model_cache_dir: str | Path | None = None) -> dict[str, str]:
    """Table -> digest of exactly the columns ``reads`` names, in the warehouse at ``path``.

    Computed once per version of the file (``file_memo.file_identity``): in this
    process, and, given the model cache, for every process (the run's stage computes
    it; each notebook reads it rather than scanning the warehouse again).
    """
    p = Path(path).resolve()
    identity = tuple(file_memo.file_identity(p))
    wanted = tuple((t, tuple(c)) for t, c in sorted(reads.items()))
    if not model_cache_dir:
        return dict(_digests(p, identity, wanted))
    return model_cache.remembered(model_cache_dir, p, {"reads": wanted},
                                  lambda: dict(_digests(p, identity, wanted)))


def model_key(name: str, warehouse_path: str | Path, period_end: Any,
              model_cache_dir: str | Path | None = None) -> str:
    """The cache key of pooled model ``name`` for the period: SHA-256 of its
    specification, the period end, its inputs' content, the code's version and the
    versions of the libraries it is fitted and pickled with."""
    m = model(name)
    return model_cache.digest({
        "model": m.spec(name), "period_end": table.period_text(period_end),
        "inputs": inputs_digest(warehouse_path, m.reads, model_cache_dir),
        "code": model_cache.code_version(m.code()), "libraries": model_build.library_versions()})


def model_keys(warehouse_path: str | Path, period_end: Any, notebook_name: str) -> dict[str, str]:
    """Model name -> cache key of each pooled model notebook ``notebook_name`` shows
    (empty for a notebook that shows none): what its report depends on of the models."""
    return {m: model_key(m, warehouse_path, period_end)
            for m in NOTEBOOK_MODELS.get(Path(notebook_name).stem, ())}


def notebook_parameters(notebook: str, restricted_dir: str | Path,
                        keys: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The parameters a run gives a notebook that shows pooled models (none for a notebook
    that shows none): ``model_cache``, the restricted tree's cache folder, and
    ``model_keys``, the keys the run's model stage fitted them under (``keys``), so that
    the notebook need not hash the code and inputs again to find them."""
    names = NOTEBOOK_MODELS.get(Path(notebook).stem)
    if not names:
        return {}
    return {"model_cache": str(model_cache.cache_root(restricted_dir)),
            "model_keys": {n: (keys or {})[n] for n in names if n in (keys or {})}}


def build_model(name: str, warehouse_path: str | Path, period_end: Any) -> PooledResult:
    """Build pooled model ``name`` from every LA's records: only the columns its frame
    reads (``warehouse.read_tables(columns=)``), never the whole warehouse."""
    m = model(name)
    if not Path(warehouse_path).is_file():
        return None, None, model_build.missing_warehouse(Path(warehouse_path))
    return model_build.build(m, Path(warehouse_path), period_end)


def pooled_model(name: str, warehouse_path: str | Path, period_end: Any,
                 model_cache_dir: str | Path | None, key: str | None = None) -> PooledResult:
    """Pooled model ``name`` for the period, from the model cache (built into it, under
    its lock, when missing). Without a cache folder, or a warehouse, it just builds.
    ``key``: its cache key as the run's model stage computed it (``model_key``, which
    hashes the code and the columns read: a second or more a notebook); else computed."""
    if not model_cache_dir or not Path(warehouse_path).is_file():
        return build_model(name, warehouse_path, period_end)
    key = key or model_key(name, warehouse_path, period_end, model_cache_dir)
    result, _ = model_cache.fetch(model_cache_dir, key,
                                  lambda: build_model(name, warehouse_path, period_end))
    return result


@dataclass(frozen=True)
class Fitted:
    """What fitting one model did (small, so that it can come back from a cluster's worker)."""

    name: str
    key: str
    built: bool  # False: found in the cache
    rows: int | None  # the frame's rows (None without a frame)
    seconds: float
    why: str | None  # why it was not fitted, in words

    def describe(self) -> str:
        """A progress line: ``the proportionality model: fitted on 1,456 rows in 0.6 s;
        cached e78351eecc06``."""
        rows = "no" if self.rows is None else f"{self.rows:,}"
        done = f"fitted on {rows} rows" if self.built else "found in the cache"
        return (f"{model(self.name).what}: {done} in {self.seconds:.1f} s; cached {self.key[:12]}"
                + (f" ({self.why})" if self.why else ""))


def fit_model(name: str, warehouse_path: str | Path, period_end: Any,
              model_cache_dir: str | Path, refresh: bool = False) -> Fitted:
    """Fit pooled model ``name`` into the model cache, or find it there (one job of the
    run's model stage: a module-level function, so that a Dask worker can run it);
    ``refresh`` (``run --force``) fits it again and replaces the entry."""
    t0 = time.perf_counter()
    key = model_key(name, warehouse_path, period_end, model_cache_dir)
    result, built = model_cache.fetch(model_cache_dir, key,
                                      lambda: build_model(name, warehouse_path, period_end),
                                      refresh=refresh)
    frame, _, why = result
    return Fitted(name, key, built, None if frame is None else len(frame),
                  round(time.perf_counter() - t0, 3), why)


def fit_models(names: Sequence[str], warehouse_path: str | Path, period_end: Any,
               model_cache_dir: str | Path, *, log: Callable[[str], None] | None = None,
               mapper: Callable[..., list[Fitted]] | None = None,
               refresh: bool = False) -> list[Fitted]:
    """Fit (or find in the cache) each of ``names``, one after the other here, or
    through ``mapper(fit_model, names, **arguments)`` (a cluster's); log each.
    ``refresh`` (``run --force``) fits every one again.

    What the run's stage calls before the notebooks start, so that they only read.
    """
    arguments = {"warehouse_path": warehouse_path, "period_end": period_end,
                 "model_cache_dir": model_cache_dir, "refresh": refresh}
    model_cache.prune(model_cache_dir)
    if log and names:
        log(f"pooled models for {table.period_text(period_end)}: {', '.join(names)}")
    if mapper is not None:
        fitted = mapper(fit_model, list(names), **arguments)
    else:
        fitted = [fit_model(name, **arguments) for name in names]
    for f in fitted:
        if log:
            log(f.describe())
    return fitted


def shared_result(name: str, cache_dir: str | Path | None, build: Callable[[], Any]) -> Any:
    """``build()`` once per run, shared by every LA's notebook through ``cache_dir``.

    For what every notebook of a run reads alike and is cheap to rebuild (the published
    figures, ``published_data``); the pooled models have a cache of their own
    (:func:`pooled_model`). ``csc-outcomes run`` gives the notebooks a restricted
    folder for the run (``restricted/<period>/.run-<run_id>/shared``, owner-only,
    removed when the run ends, and by the next run if this one is killed); the first
    notebook to need a result builds and pickles it there, the others read it (two
    notebooks starting together may both build it; the file is written atomically, so
    either copy is whole). Without ``cache_dir`` (a notebook opened in JupyterLab) it
    just builds.
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
