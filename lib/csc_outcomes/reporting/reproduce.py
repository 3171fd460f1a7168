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

from csc_outcomes.reporting import manifest as mf


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


def _compare_measures(man: dict[str, Any], recompute: bool) -> list[Comparison]:
    from csc_outcomes.reporting.run import _period_rows_hash

    out = []
    period = man["period_end"]
    info = man.get("measures") or {}
    want = info.get("period_rows_sha256")
    path = Path(info.get("path") or man["options"].get("measures_path", ""))
    if not want:
        return [Comparison("measures", "measures table", "not_checked", "manifest has no hash")]
    if path.is_file():
        got = _period_rows_hash(path, period)
        out.append(Comparison("measures", f"{path.name} rows for {period}",
                              "match" if got == want else "differs"))
    else:
        out.append(Comparison("measures", str(path), "missing"))
    warehouse = Path(man["options"].get("warehouse", ""))
    if recompute and warehouse.is_file():
        try:
            import pandas as pd

            from csc_outcomes.measures.compute import compute_measures
            from csc_outcomes.measures.inputs import MeasureInputs

            new = compute_measures(MeasureInputs.from_warehouse(warehouse, measures_only=True), [period])
            new["period_end"] = pd.to_datetime(new["period_end"]).dt.date.astype(str)
            las = set(man.get("la_codes") or [])
            with tempfile.TemporaryDirectory() as tmp:
                p = Path(tmp) / "m.csv"
                new.to_csv(p, index=False)
                # the manifest hash covers every LA of the CSV for the period
                got = _period_rows_hash(p, period)
            out.append(Comparison("measures", f"recomputed from {warehouse.name} for {period}",
                                  "match" if got == want else "differs",
                                  "" if got == want else f"(LAs in run: {', '.join(sorted(las))})"))
        except Exception as exc:  # noqa: BLE001
            out.append(Comparison("measures", "recomputed from the warehouse", "not_checked",
                                  f"{type(exc).__name__}: {exc}"))
    return out


def reproduce(manifest_path: str | Path, *, workdir: str | Path | None = None,
              jobs: int | None = None, recompute_measures: bool = True,
              identifiers: set[str] | None = None) -> ReproduceReport:
    """Re-run the run recorded in ``manifest_path`` into a scratch folder and compare."""
    from csc_outcomes.reporting.run import RunError, run_reports

    manifest_path = Path(manifest_path)
    man = mf.read_manifest(manifest_path)
    opts = man.get("options") or {}
    report = ReproduceReport(str(manifest_path), man.get("run_id", "?"), man["period_end"])
    report.comparisons += _compare_inputs(man)
    report.comparisons += _compare_measures(man, recompute_measures)

    scratch = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="csc-reproduce-"))
    try:
        try:
            res = run_reports(
                man["period_end"], man["la_codes"], warehouse=opts["warehouse"],
                measures_path=opts["measures_path"], reports_dir=scratch / "reports",
                restricted_dir=scratch / "restricted", formats=man.get("formats") or ["html"],
                jobs=jobs or opts.get("jobs") or 2, notebooks=man.get("notebooks"),
                notebooks_dir=opts.get("notebooks_dir"), parameters_dir=opts.get("parameters_dir"),
                renderer="auto", identifiers=identifiers, progress=False,
                extra_parameters=opts.get("extra_parameters") or None)
        except RunError as exc:
            report.rerun_error = str(exc).splitlines()[0]
            return report
        restricted = scratch / "restricted"
        for rec in man.get("restricted_outputs", []):
            new = restricted / rec["path"]
            label = f"{rec.get('la_code')}/{rec.get('notebook')}"
            if not new.is_file():
                report.comparisons.append(Comparison("report_data", label, "missing"))
                continue
            same = mf.notebook_content_hash(new) == rec["content_sha256"]
            report.comparisons.append(Comparison(
                "report_data", label, "match" if same else "differs",
                "" if same else "text outputs (tables, numbers) differ"))
        new_reports = scratch / "reports"
        for rec in man.get("outputs", []):
            p = new_reports / rec["path"]
            if p.is_file():
                same = mf.sha256_file(p) == rec["sha256"]
                report.comparisons.append(Comparison(
                    "published", rec["path"], "info",
                    "byte-identical" if same else "bytes differ (render date/versions embedded)"))
        del res
    finally:
        if workdir is None:
            shutil.rmtree(scratch, ignore_errors=True)
    return report
