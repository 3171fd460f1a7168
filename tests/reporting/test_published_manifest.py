"""The period manifest records every published file, across partial runs."""

from __future__ import annotations

import json
from pathlib import Path

from csc_outcomes import paths
from csc_outcomes import warehouse as wh
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


def strings(value) -> list[str]:
    """Every string in a JSON value (keys and values)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in [k, *strings(v)]]
    if isinstance(value, list):
        return [s for v in value for s in strings(v)]
    return []


def test_the_published_manifest_holds_no_absolute_path(tiny_run, tiny_setup):
    """Finding 8: the manifest held absolute paths (a user's home, the server's layout)."""
    res, out = tiny_run
    for path in (res.manifest_path, *res.manifest_path.parent.glob("runs/*.json")):
        text = path.read_text()
        found = [s for s in strings(json.loads(text)) if s.startswith("/")]
        assert not found, (path, found[:5])
        assert str(out) not in text and str(tiny_setup) not in text, path
    man = json.loads(res.manifest_path.read_text())
    assert man["options"]["warehouse"] == mf.relative(tiny_setup / "data" / "warehouse.duckdb",
                                                      out)
    assert man["runs"][0]["parameters"]["output_dir"] == f"restricted/2026-03-31/{man['runs'][0]['la_code']}"


def test_the_manifest_records_the_raw_inputs_and_the_warehouse_content(tiny_run, tiny_setup):
    """Finding 8: the manifest recorded the warehouse file's bytes (which change with
    every ingest) and no raw input file."""
    res, _ = tiny_run
    man = json.loads(res.manifest_path.read_text())
    files = man["inputs"]["files"]
    on_disk = sorted(p.relative_to(tiny_setup / "input").as_posix()
                     for p in (tiny_setup / "input").rglob("*")
                     if p.is_file() and p.parent != tiny_setup / "input")
    assert [f["path"] for f in files] == on_disk  # every raw file, relative to the input folder
    for f in files:
        raw = tiny_setup / "input" / f["path"]
        assert f["sha256"] == mf.sha256_file(raw) and f["bytes"] == raw.stat().st_size
        assert f["la_code"] == f["path"].split("/")[0]
    warehouse = tiny_setup / "data" / "warehouse.duckdb"
    assert man["inputs"]["warehouse"]["content_sha256"] == wh.content_hash(warehouse)
    assert man["coverage"]["years"] == {"SYN01": [2025, 2026], "SYN02": [2025, 2026]}
    assert man["coverage"]["incomplete"] is None
    assert set(man["code_version"]) >= {"commit", "dirty", "tree_hash", "package_version"}
    assert man["packages"]["pandas"] and set(man["platform"]) >= {"system", "python"}


def test_absolute_paths_in_any_text_are_made_relative(tmp_path: Path) -> None:
    base = tmp_path / "project"
    value = {"a": [str(base / "data" / "w.duckdb"),
                   f"cannot read {tmp_path / 'other' / 'x.csv'}: and/or 31/03/2025 ../y"],
             "n": 3}
    assert mf.without_absolute_paths(value, base) == {
        "a": ["data/w.duckdb", "cannot read ../other/x.csv: and/or 31/03/2025 ../y"], "n": 3}
    period = base / "reports" / "2026-03-31"
    for where in (period / "manifest.json", period / "runs" / "r.json",
                  base / "reports" / ".publish-r" / "2026-03-31" / "manifest.json",
                  base / "restricted" / "2026-03-31" / ".run-r" / "staging" / "manifest.json"):
        assert mf.project_of(where, "2026-03-31") == base.absolute(), where


def test_the_kits_own_files_are_named_without_where_the_kit_lies(tmp_path: Path) -> None:
    notebook = paths.notebooks_dir() / "cohort_outcomes.ipynb"
    assert mf.relative(notebook, tmp_path) == "kit:notebooks/cohort_outcomes.ipynb"
    assert mf.resolve("kit:notebooks/cohort_outcomes.ipynb", tmp_path) == notebook
    assert mf.resolve("data/w.duckdb", tmp_path) == tmp_path / "data" / "w.duckdb"
    # inside the project, the project's path wins
    assert mf.relative(notebook, paths.repo_root()) == "notebooks/cohort_outcomes.ipynb"
