"""The demo end to end, as the README's first command runs it, on a tiny set.

It also opens each notebook as an analyst would in JupyterLab (cwd = notebooks/,
no parameters injected) and runs it top to bottom on what the demo left behind.
"""

from __future__ import annotations

import json
import shutil
import stat
from concurrent.futures import ThreadPoolExecutor
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
#: What a published page shows when a cell's error or stderr reached it: nbconvert's
#: classes and mime type, Quarto's output classes, a traceback, papermill's banner.
ERROR_MARKERS = ("Traceback", "output_error", "application/vnd.jupyter.stderr",
                 "cell-output-error", "cell-output-stderr", "An Exception was encountered")


class Hrefs(HTMLParser):
    """Collects the links of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str | None] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.hrefs.append(dict(attrs).get("href"))


@pytest.mark.slow
@pytest.mark.xdist_group(name="demo")
def test_demo_then_notebooks_with_their_defaults(demo_run) -> None:
    tmp_path = demo_run.folder
    assert demo_run.code == 0, demo_run.err
    out = demo_run.out
    assert "Open the reports:" in out and str(tmp_path / "reports" / "index.html") in out

    period = "2026-03-31"
    assert (tmp_path / "data" / "warehouse.duckdb").is_file()
    assert (tmp_path / "data" / "measures.csv").is_file()
    man = json.loads((tmp_path / "reports" / period / "manifest.json").read_text())
    assert man["status"] == "ok" and man["la_codes"] == ["SYN01", "SYN02", "SYN03"]
    assert len([o for o in man["outputs"] if o["format"] != "xlsx"]) == 3 * len(NOTEBOOKS)
    assert sorted(o["path"] for o in man["outputs"] if o["format"] == "xlsx") == [
        *(f"{period}/{la}/workbook.xlsx" for la in ("SYN01", "SYN02", "SYN03")), f"{period}/workbook.xlsx"]
    reports = tmp_path / "reports"
    assert not list(reports.rglob("*.ipynb")) and not list(reports.rglob("*.csv")), \
        "executed notebooks and child-level trackers must stay restricted"
    assert not list((tmp_path / "restricted").rglob(".run-*")), "the run's model cache must go"
    index = Hrefs()
    index.feed((reports / "index.html").read_text())
    assert f"{period}/manifest.json" in index.hrefs
    for la in ("SYN01", "SYN02", "SYN03"):
        for source in NOTEBOOKS:
            page = reports / period / la / f"{source.stem}.html"
            html = page.read_text()
            assert "<img" in html and "<table" in html, page  # a chart and a table
            # the kit's own error markers, not the word "Error" (Quarto's Bootstrap
            # script holds it 29 times): a traceback, an error or stderr output
            assert not [m for m in ERROR_MARKERS if m in html], page
            assert "import " not in html, page  # no code
            assert f"{period}/{la}/{source.stem}.html" in index.hrefs
            assert (tmp_path / "restricted" / period / la / f"{source.stem}.ipynb").is_file()
    trackers = list((tmp_path / "restricted").rglob("*_tracker.csv"))
    assert trackers and all(stat.S_IMODE(t.stat().st_mode) == 0o600 for t in trackers), \
        "child-level trackers are owner-only"

    # JupyterLab: the notebook's own folder is the working folder; defaults only.
    lab = tmp_path / "notebooks"
    lab.mkdir()

    def run_as_in_lab(source: Path) -> list:
        shutil.copy(source, lab / source.name)
        nb = nbformat.read(lab / source.name, as_version=4)
        NotebookClient(nb, timeout=600, kernel_name="python3",
                       resources={"metadata": {"path": str(lab)}}).execute()
        return [o for c in nb.cells if c.cell_type == "code"
                for o in c.get("outputs", []) if o.get("output_type") == "error"]

    with ThreadPoolExecutor(max_workers=2) as pool:  # two kernels, as the run has
        for source, errors in zip(NOTEBOOKS, pool.map(run_as_in_lab, NOTEBOOKS), strict=True):
            assert not errors, f"{source.name}: {errors[:1]}"
