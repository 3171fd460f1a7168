"""Fixtures for the reporting tests: a tiny throwaway notebook and measures table.

The tiny notebook stands in for the real ones so the run/render/index/manifest
machinery is tested without the measures, stats and plots modules.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import signal
import threading
import time
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from csc_outcomes.reporting.config import RunConfig
from csc_outcomes.reporting.run import run

PERIOD = "2026-03-31"

FRONT = """---
title: "Tiny report"
format:
  html:
    embed-resources: true
execute:
  echo: false
---"""

PARAMS = """la_code = "SYN01"
period_end = "2026-03-31"
warehouse = "../data/warehouse.duckdb"
measures_path = "../data/measures.csv"
output_dir = "."
fail = False
hang = ""
leak = \"\""""

BODY = [
    ("markdown", "## Context\n\nThis tiny report puts a number in context."),
    ("code", ("import pandas as pd\nimport matplotlib\nimport matplotlib.pyplot as plt\n"
              "m = pd.read_csv(measures_path, dtype={'la_code': str})\n"
              "mine = m[(m.la_code == la_code) & (m.period_end == period_end)]\n"
              "if fail in (True, la_code):\n    raise ValueError('deliberate failure for ' + la_code)\n"
              "if hang == la_code:\n    import time\n    time.sleep(300)")),
    ("code", ("#| fig-alt: Bar chart of the measures\n"
              "fig, ax = plt.subplots(figsize=(4, 2.5))\n"
              "ax.bar(mine.measure_id, mine.value.fillna(0))\nax.set_title('Measures')\n"
              "plt.show()")),
    ("code", ("print(leak) if leak else None\n"
              "mine[['measure_id', 'value']].reset_index(drop=True)")),
    ("code", "import warnings\nwarnings.warn('a warning that must not be published')"),
]


def make_notebook(path: Path, name: str = "tiny", body=BODY) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    cells = [nbformat.v4.new_raw_cell(FRONT),
             nbformat.v4.new_code_cell(PARAMS, metadata={"tags": ["parameters"]})]
    for kind, src in body:
        cells.append(nbformat.v4.new_markdown_cell(src) if kind == "markdown"
                     else nbformat.v4.new_code_cell(src))
    nb.cells = cells
    path.mkdir(parents=True, exist_ok=True)
    target = path / f"{name}.ipynb"
    nbformat.write(nb, str(target))
    return target


def make_warehouse(root: Path, las: int = 2) -> Path:
    """A small real warehouse (synthetic returns for 2025 and 2026, ingested) under
    ``root``: ``root/input`` (the raw files) and ``root/data/warehouse.duckdb``. A run
    reads the returns loaded there (which periods they cover) and records the raw files
    behind it and its content hash."""
    from csc_outcomes import synth
    from csc_outcomes.warehouse import ingest_into

    synth.generate(root / "input", n_las=las, seed=7, scale=0.05, first_year=2025,
                   last_year=2026, progress=False)
    warehouse = root / "data" / "warehouse.duckdb"
    result = ingest_into(root / "input", warehouse, progress=False, jobs=1)
    assert result.exit_code == 0, result.qa
    return warehouse


def make_measures(path: Path, las=("SYN01", "SYN02")) -> Path:
    rows = []
    for i, la in enumerate(las):
        rows += [
            (la, PERIOD, "referrals", 120 + i, None, 120.0 + i),
            (la, PERIOD, "rereferrals_within_12m", 25, 120 + i, 25 / (120 + i)),
            (la, PERIOD, "cla_at_period_end", 60, None, 60.0),
        ]
    df = pd.DataFrame(rows, columns=["la_code", "period_end", "measure_id", "numerator",
                                     "denominator", "value"])
    path.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(path, index=False)
    return path


@pytest.fixture(scope="session")
def tiny_setup(tmp_path_factory):
    """notebooks/, parameters/, measures.csv for the tiny notebook (session-wide)."""
    root = tmp_path_factory.mktemp("tiny")
    make_notebook(root / "notebooks")
    make_measures(root / "data" / "measures.csv")
    make_warehouse(root)
    (root / "parameters").mkdir()
    (root / "parameters" / "defaults.yaml").write_text("notebooks: [tiny]\nsuppression_threshold: 5\n")
    (root / "parameters" / "SYN01.yaml").write_text("name: Synthetia\nstatistical_neighbours: [SYN02]\n")
    return root


def tiny_config(tiny_setup: Path, out: Path, la_codes=("SYN01",), **options) -> RunConfig:
    """A run of the tiny notebook into ``out`` (the small warehouse; a known identifier)."""
    settings = {
        "period_end": PERIOD, "la_codes": tuple(la_codes),
        "warehouse": tiny_setup / "data" / "warehouse.duckdb",
        "measures_path": tiny_setup / "data" / "measures.csv",
        "reports_dir": out / "reports", "restricted_dir": out / "restricted", "jobs": 2,
        "notebooks_dir": tiny_setup / "notebooks", "parameters_dir": tiny_setup / "parameters",
        "renderer": "builtin", "identifiers": frozenset({"C0000123456"}), "progress": False,
        **options,
    }
    return RunConfig(**settings)


@pytest.fixture(scope="session")
def tiny_run(tiny_setup, tmp_path_factory):
    """One successful run of the tiny notebook for two LAs, html and pdf (shared)."""
    out = tmp_path_factory.mktemp("run")
    res = run(tiny_config(tiny_setup, out, ["SYN01", "SYN02"], formats=("html", "pdf")))
    return res, out


def copy_tree(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def published_agrees_with_manifest(period_dir: Path) -> bool:
    """Every file under ``reports/<period>/`` (the manifests aside) is in its
    ``manifest.json`` with its sha256, and every file listed there is on disk."""
    on_disk = {p.relative_to(period_dir.parent).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
               for p in period_dir.rglob("*")
               if p.is_file() and p.name != "manifest.json" and p.parent.name != "runs"}
    listed = {}
    if (period_dir / "manifest.json").is_file():
        man = json.loads((period_dir / "manifest.json").read_text())
        listed = {r["path"]: r["sha256"] for r in man["published"]}
    assert on_disk == listed, f"on disk {sorted(on_disk)}, in the manifest {sorted(listed)}"
    return True


def ctrl_c_once_started(folder: Path, count: int) -> list[float]:
    """Press Ctrl-C (SIGINT to the main thread) once ``count`` ``started-*`` files are in
    ``folder`` (the notebooks touch them as they start); the list gets the moment pressed."""
    pressed: list[float] = []

    def press() -> None:
        while len(list(folder.glob("started-*"))) < count:
            time.sleep(0.05)
        pressed.append(time.monotonic())
        signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGINT)

    threading.Thread(target=press, daemon=True).start()
    return pressed
