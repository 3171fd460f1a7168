"""The period manifest records every published file, across partial runs."""

from __future__ import annotations

import json
from pathlib import Path

from csc_outcomes.reporting import manifest as mf


def _man(run_id: str, paths: list[str]) -> dict:
    return {"tool": "csc-outcomes", "manifest_version": 1, "run_id": run_id,
            "outputs": [{"path": p, "sha256": run_id} for p in paths]}


def test_partial_run_carries_earlier_records_forward(tmp_path: Path) -> None:
    period = tmp_path / "2026-03-31"
    for la in ("A1", "B2"):
        (period / la).mkdir(parents=True)
        (period / la / "r.html").write_text("x")
    first = _man("run1", ["2026-03-31/A1/r.html", "2026-03-31/B2/r.html"])
    first["published"] = mf.published_outputs(first, period / "manifest.json", tmp_path)
    (period / "manifest.json").write_text(json.dumps(first))

    second = _man("run2", ["2026-03-31/B2/r.html"])
    published = mf.published_outputs(second, period / "manifest.json", tmp_path)

    assert [(r["path"], r["run_id"]) for r in published] == [
        ("2026-03-31/A1/r.html", "run1"),
        ("2026-03-31/B2/r.html", "run2"),
    ]


def test_files_no_longer_there_are_dropped(tmp_path: Path) -> None:
    period = tmp_path / "2026-03-31"
    (period / "A1").mkdir(parents=True)
    earlier = _man("run1", ["2026-03-31/A1/gone.html"])
    earlier["published"] = earlier["outputs"]
    (period / "manifest.json").write_text(json.dumps(earlier))
    assert mf.published_outputs(_man("run2", []), period / "manifest.json", tmp_path) == []
