"""Re-run a published run from its manifest and compare.

What is compared, and why:

- **inputs**: each input file's sha256 now against the manifest (warehouse, measures
  CSV, notebooks, parameter files). A changed input explains a difference below.
- **measures**: the period's rows of the measures CSV (canonical CSV, sorted) against
  the manifest's ``period_rows_sha256``; and, when the warehouse is there and
  ``recompute_measures``, the same rows recomputed from the warehouse.
- **report data**: the notebooks are re-executed (same parameters, into a scratch
  folder) and each executed notebook's *text outputs* (tables, printed numbers; see
  ``manifest.notebook_content_hash``) are compared with ``content_sha256``.
- **published files**: HTML and PDF embed the render date and library versions, so
  their bytes are reported for information only (``info``), never as a failure.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from csc_outcomes.measures import table
from csc_outcomes.measures.compute import compute_measures
from csc_outcomes.measures.inputs import MeasureInputs
from csc_outcomes.reporting import manifest as mf
from csc_outcomes.reporting.config import RunConfig, RunError
from csc_outcomes.reporting.run import run


@dataclass
class Comparison:
    kind: str  # input | measures | report_data | published
    item: str
    status: str  # match | differs | missing | not_checked | info
    detail: str = ""


@dataclass
class ReproduceReport:
    manifest_path: str
    run_id: str
    period_end: str
    comparisons: list[Comparison] = field(default_factory=list)
    rerun_error: str | None = None

    @property
    def ok(self) -> bool:
        return self.rerun_error is None and not any(
            c.status in ("differs", "missing") for c in self.comparisons if c.kind != "published")

    def by_status(self, status: str) -> list[Comparison]:
        return [c for c in self.comparisons if c.status == status]

    def summary(self) -> str:
        lines = [f"reproduce {self.run_id} (period ending {self.period_end}) from {self.manifest_path}"]
        for kind in ("input", "measures", "report_data", "published"):
            items = [c for c in self.comparisons if c.kind == kind]
            if not items:
                continue
            counts: dict[str, int] = {}
            for c in items:
                counts[c.status] = counts.get(c.status, 0) + 1
            lines.append(f"  {kind}: " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())))
            for c in items:
                if c.status not in ("match", "info"):
                    lines.append(f"    {c.status.upper()}: {c.item} {c.detail}".rstrip())
        if self.rerun_error:
            lines.append(f"  re-run FAILED: {self.rerun_error}")
        lines.append("RESULT: " + ("reproduced: every compared output matches" if self.ok
                                   else "NOT reproduced: see the differences above"))
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        return {"manifest": self.manifest_path, "run_id": self.run_id,
                "period_end": self.period_end, "ok": self.ok, "rerun_error": self.rerun_error,
                "comparisons": [asdict(c) for c in self.comparisons]}


def _compare_inputs(man: dict[str, Any]) -> list[Comparison]:
    out = []
    for rec in man.get("inputs", []):
        p = Path(rec["path"])
        label = f"{rec.get('role', 'file')} {rec['path']}"
        if not p.is_file():
            out.append(Comparison("input", label, "missing", "file no longer there"))
        elif mf.sha256_file(p) != rec["sha256"]:
            out.append(Comparison("input", label, "differs", "file changed since the run"))
        else:
            out.append(Comparison("input", label, "match"))
    return out


def _measures_hash_comparison(man: dict[str, Any], want: str) -> Comparison:
    """The period's rows of the measures table the run read, against the manifest's hash."""
    period = man["period_end"]
    path = Path((man.get("measures") or {}).get("path")
                or (man.get("options") or {}).get("measures_path", ""))
    if not path.is_file():
        return Comparison("measures", str(path), "missing")
    got = mf.period_rows_hash(table.read(path), period)
    return Comparison("measures", f"{path.name} rows for {period}",
                      "match" if got == want else "differs")


def _recomputed_comparison(man: dict[str, Any], want: str, warehouse: Path) -> Comparison:
    """The period's rows recomputed from the warehouse now, against the manifest's hash.

    The hash covers every LA of the table for the period, so a difference may come
    from an LA outside the run; the detail names the run's LAs.
    """
    period = man["period_end"]
    try:
        new = compute_measures(MeasureInputs.from_warehouse(warehouse, measures_only=True),
                               [pd.Timestamp(period)])
    except Exception as exc:  # noqa: BLE001 - reported as not checked, with the error
        return Comparison("measures", "recomputed from the warehouse", "not_checked",
                          f"{type(exc).__name__}: {exc}")
    new["period_end"] = pd.to_datetime(new["period_end"]).dt.normalize()
    same = mf.period_rows_hash(new, period) == want
    las = ", ".join(sorted(man.get("la_codes") or []))
    return Comparison("measures", f"recomputed from {warehouse.name} for {period}",
                      "match" if same else "differs", "" if same else f"(LAs in run: {las})")


def _compare_measures(man: dict[str, Any], recompute: bool) -> list[Comparison]:
    want = (man.get("measures") or {}).get("period_rows_sha256")
    if not want:
        return [Comparison("measures", "measures table", "not_checked", "manifest has no hash")]
    out = [_measures_hash_comparison(man, want)]
    warehouse = Path((man.get("options") or {}).get("warehouse", ""))
    if recompute and warehouse.is_file():
        out.append(_recomputed_comparison(man, want, warehouse))
    return out


def rerun_config(man: dict[str, Any], scratch: Path, jobs: int | None,
                 identifiers: set[str] | None) -> RunConfig:
    """The recorded run's options, with its outputs sent to ``scratch``."""
    opts = man.get("options") or {}
    return RunConfig(
        period_end=man["period_end"], la_codes=tuple(man["la_codes"]),
        warehouse=Path(opts["warehouse"]), measures_path=Path(opts["measures_path"]),
        reports_dir=scratch / "reports", restricted_dir=scratch / "restricted",
        formats=tuple(man.get("formats") or ["html"]), jobs=jobs or opts.get("jobs") or 2,
        notebooks=tuple(man.get("notebooks") or ()),
        notebooks_dir=Path(opts["notebooks_dir"]) if opts.get("notebooks_dir") else None,
        parameters_dir=Path(opts["parameters_dir"]) if opts.get("parameters_dir") else None,
        renderer="auto", identifiers=frozenset(identifiers) if identifiers is not None else None,
        progress=False, extra_parameters=opts.get("extra_parameters") or {})


def _compare_outputs(man: dict[str, Any], scratch: Path) -> list[Comparison]:
    """The re-run's executed notebooks (text outputs) and published files, against the run's."""
    out = []
    for rec in man.get("restricted_outputs", []):
        new = scratch / "restricted" / rec["path"]
        label = f"{rec.get('la_code')}/{rec.get('notebook')}"
        if not new.is_file():
            out.append(Comparison("report_data", label, "missing"))
            continue
        same = mf.notebook_content_hash(new) == rec["content_sha256"]
        out.append(Comparison("report_data", label, "match" if same else "differs",
                              "" if same else "text outputs (tables, numbers) differ"))
    for rec in man.get("outputs", []):
        p = scratch / "reports" / rec["path"]
        if p.is_file():
            same = mf.sha256_file(p) == rec["sha256"]
            out.append(Comparison(
                "published", rec["path"], "info",
                "byte-identical" if same else "bytes differ (render date/versions embedded)"))
    return out


def reproduce(manifest_path: str | Path, *, workdir: str | Path | None = None,
              jobs: int | None = None, recompute_measures: bool = True,
              identifiers: set[str] | None = None) -> ReproduceReport:
    """Re-run the run recorded in ``manifest_path`` into a scratch folder and compare."""
    manifest_path = Path(manifest_path)
    man = mf.read_manifest(manifest_path)
    report = ReproduceReport(str(manifest_path), man.get("run_id", "?"), man["period_end"])
    report.comparisons += _compare_inputs(man)
    report.comparisons += _compare_measures(man, recompute_measures)
    scratch = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="csc-reproduce-"))
    try:
        run(rerun_config(man, scratch, jobs, identifiers))
        report.comparisons += _compare_outputs(man, scratch)
    except RunError as exc:
        report.rerun_error = str(exc).splitlines()[0]
    finally:
        if workdir is None:
            shutil.rmtree(scratch, ignore_errors=True)
    return report
