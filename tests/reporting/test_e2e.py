"""End to end on a tiny synthetic set: synth -> ingest -> (measures computed by run) -> run.

About a minute and a half on 2 cores (papermill starts a kernel per notebook, and each
report imports pandas, seaborn and statsmodels).
"""

import json
from html.parser import HTMLParser

import pytest

from csc_outcomes.cli import main

PERIOD = "2026-03-31"
NOTEBOOKS = ["cohort_outcomes", "rereferrals", "placement_stability", "proportionality"]


class Hrefs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self.hrefs.append(dict(attrs).get("href"))


@pytest.mark.slow
def test_synth_ingest_run(tmp_path, capsys):
    from csc_outcomes.ingest import ingest
    from csc_outcomes.synth import generate

    generate(tmp_path / "input", n_las=2, seed=0, first_year=2024, last_year=2026,
             scale=0.15, progress=False)
    res = ingest(tmp_path / "input", tmp_path / "warehouse.duckdb", progress=False)
    assert res.exit_code == 0
    rc = main(["run", "--period-end", PERIOD, "--warehouse", str(tmp_path / "warehouse.duckdb"),
               "--measures", str(tmp_path / "measures.csv"),
               "--reports-dir", str(tmp_path / "reports"),
               "--restricted-dir", str(tmp_path / "restricted"), "--jobs", "2", "--quiet"])
    captured = capsys.readouterr()
    assert rc == 0, captured.err[-5000:]
    assert (tmp_path / "measures.csv").is_file(), "measures were not computed"
    reports = tmp_path / "reports"
    man = json.loads((reports / PERIOD / "manifest.json").read_text())
    assert man["status"] == "ok" and man["la_codes"] == ["SYN01", "SYN02"]
    assert man["measures"]["computed_by_run"] is True
    index = (reports / "index.html").read_text()
    parser = Hrefs()
    parser.feed(index)
    for la in ("SYN01", "SYN02"):
        for nb in NOTEBOOKS:
            page = reports / PERIOD / la / f"{nb}.html"
            assert page.is_file(), page
            html = page.read_text()
            assert "<img" in html and "<table" in html, (la, nb)
            assert "Traceback" not in html and "Error" not in html, (la, nb)
            assert "import " not in html, (la, nb)  # no code
            assert f"{PERIOD}/{la}/{nb}.html" in parser.hrefs
            assert (tmp_path / "restricted" / PERIOD / la / f"{nb}.ipynb").is_file()
    assert not list(reports.rglob("*.ipynb")) and not list(reports.rglob("*.csv"))
    assert f"{PERIOD}/manifest.json" in parser.hrefs
