"""Check a published run against its manifest, and re-run it: does it still hold?

What is compared (paths in the manifest are relative to the project folder, the
reports folder's parent, found from where the manifest lies), and what a difference
means:

- **raw inputs**: every raw file the manifest lists, re-hashed under the input folder
  (``input_dir`` given, else the one the manifest names), and the parameter files. A
  changed, missing or added file fails, named.
- **warehouse**: its content hash (``warehouse.content_hash``: the rows of its tables,
  not the file's bytes, which change with every ingest) against the manifest's. So
  re-ingesting identical inputs reproduces, and different data do not.
- **measures**: the run's own copy of the rows it read (restricted tree) against its
  sha256; then the measures recomputed from the warehouse now, value by value: each
  difference names the LA, measure, period and both values. Without the copy (another
  machine), the period's rows are compared by their hash.
- **published files**: every file the manifest vouches for, re-hashed in the reports
  tree; a changed or missing one fails, named.
- **code and packages**: the code version (package version, git commit, dirty flag,
  ``tree_hash`` of ``lib/`` and ``notebooks/``), the source notebooks and each
  package's version now against the manifest. Differences are reported; they fail only
  with ``strict``.
- **report data** (``rerun``): the notebooks re-executed into a scratch folder from the
  recomputed measures, and each executed notebook's text outputs (tables, printed
  numbers; ``manifest.notebook_content_hash``) against the manifest's.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from csc_outcomes import warehouse as wh
from csc_outcomes.ingest.discover import DATA_SUFFIXES
from csc_outcomes.measures import table
from csc_outcomes.measures.compute import compute_measures
from csc_outcomes.measures.coverage import read_coverage
from csc_outcomes.measures.inputs import MeasureInputs
from csc_outcomes.reporting import manifest as mf
from csc_outcomes.reporting.config import RunConfig, RunError
from csc_outcomes.reporting.run import run

#: Kinds of comparison, in the order they are reported.
KINDS = ("input", "warehouse", "measures", "published", "report_data", "code", "packages")
#: Kinds whose differences fail only with ``strict`` (the environment, not the data).
ENVIRONMENT = ("code", "packages")
#: Statuses that mean "not reproduced".
FAILING = ("differs", "missing", "added")
#: Measure differences listed one by one (the rest are counted).
SHOWN_DIFFERENCES = 50


@dataclass
class Comparison:
    """One thing compared: ``status`` is match, differs, missing, added or not_checked."""

    kind: str
    item: str
    status: str
    detail: str = ""

    def line(self) -> str:
        return f"    {self.status.upper()}: {self.item} {self.detail}".rstrip()


@dataclass
class ReproduceReport:
    manifest_path: str
    run_id: str
    period_end: str
    strict: bool = False
    comparisons: list[Comparison] = field(default_factory=list)
    rerun_error: str | None = None

    def failures(self) -> list[Comparison]:
        """What makes the run not reproduced (environment only with ``strict``)."""
        return [c for c in self.comparisons if c.status in FAILING
                and (self.strict or c.kind not in ENVIRONMENT)]

    @property
    def ok(self) -> bool:
        return self.rerun_error is None and not self.failures()

    def summary(self) -> str:
        lines = [f"reproduce {self.run_id} (period ending {self.period_end}) from "
                 + str(self.manifest_path)]
        for kind in KINDS:
            items = [c for c in self.comparisons if c.kind == kind]
            if not items:
                continue
            counts: dict[str, int] = {}
            for c in items:
                counts[c.status] = counts.get(c.status, 0) + 1
            note = ("" if kind not in ENVIRONMENT or self.strict
                    else " (reported; fails only with --strict)")
            lines.append(f"  {kind}: " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
                         + (note if any(c.status in FAILING for c in items) else ""))
            lines += [c.line() for c in items if c.status != "match"]
        if self.rerun_error:
            lines.append(f"  re-run FAILED: {self.rerun_error}")
        env = any(c.status in FAILING and c.kind in ENVIRONMENT for c in self.comparisons)
        result = ("NOT reproduced: see the differences above" if not self.ok
                  else "reproduced: inputs, measures and outputs match; the code or packages "
                       "differ (above; --strict fails on that)" if env
                  else "reproduced: every compared input and output matches")
        lines.append(f"RESULT: {result}")
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        return {"manifest": self.manifest_path, "run_id": self.run_id,
                "period_end": self.period_end, "ok": self.ok, "strict": self.strict,
                "rerun_error": self.rerun_error,
                "comparisons": [asdict(c) for c in self.comparisons]}


def hash_check(kind: str, item: str, path: Path, recorded: str | None) -> Comparison:
    """A file's sha256 now against the one recorded."""
    if not path.is_file():
        return Comparison(kind, item, "missing", f"(no file at {path})")
    now = mf.sha256_file(path)
    if now == recorded:
        return Comparison(kind, item, "match")
    return Comparison(kind, item, "differs", f"(sha256 now {now[:12]}…, recorded "
                                             f"{str(recorded)[:12]}…)")


def files_under(folder: Path, la_codes: Iterable[str]) -> set[str]:
    """The visible data files (``.csv``, ``.xml``: what ingest reads) of the LAs' folders,
    relative to ``folder``. Other files (a README) are ignored by ingest, as here."""
    found = set()
    for la in la_codes:
        for p in (folder / la).rglob("*"):
            rel = p.relative_to(folder)
            if (p.is_file() and p.suffix.lower() in DATA_SUFFIXES
                    and not any(part.startswith(".") for part in rel.parts)):
                found.add(rel.as_posix())
    return found


def compare_raw_inputs(man: dict[str, Any], project: Path,
                       input_dir: Path | None) -> list[Comparison]:
    """Every raw input file the run's warehouse was built from, re-hashed now."""
    inputs = man.get("inputs") or {}
    files = inputs.get("files") or []
    if not files:
        return [Comparison("input", "raw input files", "not_checked",
                           "(the warehouse recorded none)")]
    named = inputs.get("input_dir")
    folder = input_dir or (project / named if named else None)
    if folder is None or not folder.is_dir():
        return [Comparison("input", "input folder", "missing",
                           f"({folder or 'the manifest names none'}; give --input)")]
    out = [hash_check("input", rec["path"], folder / rec["path"], rec["sha256"]) for rec in files]
    added = files_under(folder, {rec["la_code"] for rec in files}) - {r["path"] for r in files}
    out += [Comparison("input", rel, "added", "(a data file the run's warehouse was not "
                                              "built from)")
            for rel in sorted(added)]
    return out


def compare_sources(man: dict[str, Any], project: Path) -> list[Comparison]:
    """The parameter files (inputs: they fail) and source notebooks (code: ``strict``)."""
    inputs = man.get("inputs") or {}
    return [hash_check(kind, rec["path"], mf.resolve(rec["path"], project), rec["sha256"])
            for kind, key in (("input", "parameters"), ("code", "notebooks"))
            for rec in inputs.get(key) or []]


def compare_warehouse(man: dict[str, Any], warehouse: Path) -> Comparison:
    """The warehouse's content hash now against the one recorded."""
    recorded = ((man.get("inputs") or {}).get("warehouse") or {}).get("content_sha256")
    if not warehouse.is_file():
        return Comparison("warehouse", str(warehouse), "missing")
    now = wh.content_hash(warehouse)
    if now == recorded:
        return Comparison("warehouse", f"{warehouse.name} content", "match")
    return Comparison("warehouse", f"{warehouse.name} content", "differs",
                      "(its tables' rows differ from the run's: ingested from other inputs?)")


def recompute(warehouse: Path, man: dict[str, Any], periods: list[pd.Timestamp]) -> pd.DataFrame:
    """The measures of ``periods`` recomputed from the warehouse, kept to the rows the
    run kept (those the returns cover, and the run's own LAs' period if it was allowed
    to publish it incomplete)."""
    period = man["period_end"]
    cov = read_coverage(warehouse)
    keep: list[tuple[str, str]] = []
    if (man.get("coverage") or {}).get("allow_incomplete"):
        check = cov.check(period, man.get("la_codes") or [])
        keep = [(la, period) for la in (*check.behind, *check.gaps)]
    new = compute_measures(MeasureInputs.from_warehouse(warehouse, measures_only=True), periods)
    return table.canonical(new[cov.supported_mask(new, keep)])


def shown(value: Any) -> str:
    """A measure's number as the table writes it (``12``, ``0.3333333333``, empty)."""
    if isinstance(value, float):
        return "empty" if pd.isna(value) else f"{value:.10g}"
    return str(value)


def measure_differences(recorded: pd.DataFrame, new: pd.DataFrame) -> list[Comparison]:
    """Each value that differs: LA, measure, period, both values."""
    diffs = table.differences(recorded, new)
    out = [Comparison("measures", f"{d.la_code} {d.measure_id} {d.period_end:%Y-%m-%d}",
                      "differs", f"({d.column}: recorded {shown(d.recorded)}, "
                                 f"recomputed {shown(d.recomputed)})")
           for d in diffs.head(SHOWN_DIFFERENCES).itertuples(index=False)]
    if len(diffs) > SHOWN_DIFFERENCES:
        out.append(Comparison("measures", f"and {len(diffs) - SHOWN_DIFFERENCES} more values",
                              "differs"))
    return out or [Comparison("measures", f"{len(recorded)} rows recomputed", "match")]


def compare_measures(man: dict[str, Any], snapshot: Path, warehouse: Path | None,
                     scratch: Path) -> tuple[list[Comparison], Path | None]:
    """The run's rows against their record and against a recomputation; returns the
    table the re-run should read (``None``: none to read)."""
    rec = man.get("measures") or {}
    out = [hash_check("measures", f"the run's measures ({snapshot.name})", snapshot,
                      rec.get("sha256"))]
    have = out[0].status != "missing"
    recorded = table.read(snapshot) if have else None
    if warehouse is None or not warehouse.is_file():
        return out, snapshot if have else None
    periods = (sorted(recorded["period_end"].unique()) if recorded is not None
               else [pd.Timestamp(man["period_end"])])
    new = recompute(warehouse, man, [pd.Timestamp(p) for p in periods])
    if recorded is not None:
        out += measure_differences(recorded, new)
    else:
        same = mf.period_rows_hash(new, man["period_end"]) == rec.get("period_rows_sha256")
        out.append(Comparison("measures", f"rows for {man['period_end']} recomputed",
                              "match" if same else "differs"))
    return out, table.write(new, scratch / "measures.csv", mode=0o600)


def compare_published(man: dict[str, Any], reports_dir: Path) -> list[Comparison]:
    """Every file the manifest vouches for, re-hashed in the published tree."""
    records = man.get("published") or man.get("outputs") or []
    return [hash_check("published", rec["path"], reports_dir / rec["path"], rec.get("sha256"))
            for rec in records]


def compare_environment(man: dict[str, Any]) -> list[Comparison]:
    """The code version and package versions now against the run's."""
    out = []
    then, now = man.get("code_version") or {}, mf.code_version()
    for key in ("package_version", "commit", "dirty", "tree_hash"):
        same = then.get(key) == now.get(key)
        out.append(Comparison("code", key, "match" if same else "differs",
                              "" if same else f"(recorded {then.get(key)}, now {now.get(key)})"))
    then_pk, now_pk = man.get("packages") or {}, mf.package_versions()
    for name in sorted(set(then_pk) | set(now_pk)):
        same = then_pk.get(name) == now_pk.get(name)
        out.append(Comparison("packages", name, "match" if same else "differs",
                              "" if same else f"(recorded {then_pk.get(name)}, "
                                              f"now {now_pk.get(name)})"))
    return out


def rerun_config(man: dict[str, Any], project: Path, scratch: Path, measures: Path,
                 jobs: int | None, identifiers: set[str] | None) -> RunConfig:
    """The recorded run's options, reading ``measures``, its outputs sent to ``scratch``."""
    opts = man.get("options") or {}

    def folder(key: str) -> Path | None:
        return mf.resolve(opts[key], project) if opts.get(key) else None

    return RunConfig(
        period_end=man["period_end"], la_codes=tuple(man["la_codes"]),
        warehouse=mf.resolve(opts["warehouse"], project), measures_path=measures,
        reports_dir=scratch / "reports", restricted_dir=scratch / "restricted",
        formats=tuple(man.get("formats") or ["html"]), jobs=jobs or opts.get("jobs") or 2,
        notebooks=tuple(man.get("notebooks") or ()), notebooks_dir=folder("notebooks_dir"),
        parameters_dir=folder("parameters_dir"), renderer="auto",
        identifiers=frozenset(identifiers) if identifiers is not None else None,
        progress=False, extra_parameters=opts.get("extra_parameters") or {},
        allow_incomplete=bool(opts.get("allow_incomplete")))


def compare_rerun(man: dict[str, Any], scratch: Path) -> list[Comparison]:
    """The re-run's executed notebooks (text outputs) against the run's."""
    out = []
    for rec in man.get("restricted_outputs", []):
        new = scratch / "restricted" / rec["path"]
        label = f"{rec.get('la_code')}/{rec.get('notebook')}"
        if not new.is_file():
            out.append(Comparison("report_data", label, "missing"))
            continue
        same = mf.notebook_content_hash(new) == rec["content_sha256"]
        out.append(Comparison("report_data", label, "match" if same else "differs",
                              "" if same else "(text outputs: tables, numbers, differ)"))
    return out


def checked_manifest(manifest_path: Path) -> dict[str, Any]:
    """The manifest, refused (``ValueError``) when it predates what is checked here."""
    man = mf.read_manifest(manifest_path)
    if int(man.get("manifest_version", 0)) < mf.MANIFEST_VERSION:
        raise ValueError(f"{manifest_path} is a version {man.get('manifest_version')} manifest: "
                         "it records neither the raw input files nor the warehouse's "
                         "content, so nothing can be proved from it; run the period again")
    return man


def reproduce(manifest_path: str | Path, *, workdir: str | Path | None = None,
              jobs: int | None = None, recompute_measures: bool = True,
              identifiers: set[str] | None = None, input_dir: str | Path | None = None,
              project: str | Path | None = None, rerun: bool = True,
              strict: bool = False) -> ReproduceReport:
    """Compare the run recorded in ``manifest_path`` with what its inputs give now.

    ``project``: the folder the manifest's paths are relative to (default: found from
    where the manifest lies); ``input_dir``: the raw input folder (default: the one the
    manifest names). ``rerun`` re-executes the notebooks into ``workdir`` (a temporary
    folder by default, removed after). ``ValueError`` for a manifest that is not one;
    ``WarehouseSchemaError`` (naming table and column, saying to re-ingest) for a
    warehouse this kit cannot read.
    """
    manifest_path = Path(manifest_path)
    man = checked_manifest(manifest_path)
    period = man["period_end"]
    base = Path(project) if project else mf.project_of(manifest_path, period)
    opts = man.get("options") or {}
    report = ReproduceReport(str(manifest_path), man.get("run_id", "?"), period, strict)
    report.comparisons += compare_raw_inputs(man, base, Path(input_dir) if input_dir else None)
    report.comparisons += compare_sources(man, base)
    warehouse = mf.resolve(opts["warehouse"], base)
    if warehouse.is_file():
        wh.check_schema(warehouse)
    report.comparisons.append(compare_warehouse(man, warehouse))
    scratch = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="csc-reproduce-"))
    try:
        snapshot = (mf.resolve(opts["restricted_dir"], base)
                    / (man.get("measures") or {}).get("snapshot", ""))
        found, measures = compare_measures(man, snapshot, warehouse if recompute_measures
                                           else None, scratch)
        report.comparisons += found
        report.comparisons += compare_published(man, mf.resolve(opts["reports_dir"], base))
        report.comparisons += compare_environment(man)
        if rerun:
            report.rerun_error = rerun_and_compare(man, base, scratch, measures, jobs,
                                                   identifiers, report)
    finally:
        if workdir is None:
            shutil.rmtree(scratch, ignore_errors=True)
    return report


def rerun_and_compare(man: dict[str, Any], base: Path, scratch: Path, measures: Path | None,
                      jobs: int | None, identifiers: set[str] | None,
                      report: ReproduceReport) -> str | None:
    """Re-run the notebooks into ``scratch`` and compare; the re-run's error, if any."""
    if measures is None:
        return "no measures to re-run from (the run's copy is gone and nothing was recomputed)"
    try:
        run(rerun_config(man, base, scratch, measures, jobs, identifiers))
    except RunError as exc:
        return str(exc).splitlines()[0]
    report.comparisons += compare_rerun(man, scratch)
    return None
