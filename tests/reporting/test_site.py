"""The index page links every period, LA and report, the run time and the manifest."""

import json
import re
from html.parser import HTMLParser

from csc_outcomes.reporting import site

from conftest import PERIOD


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self.hrefs.append(dict(attrs).get("href"))


def test_index_links_every_report(tmp_path):
    root = tmp_path / "reports"
    files = []
    for period in ("2025-03-31", "2026-03-31"):
        for la in ("SYN01", "SYN02", "SYN03"):
            for rep in ("rereferrals", "cohort_outcomes", "extra_report"):
                for ext in ("html", "pdf"):
                    p = root / period / la / f"{rep}.{ext}"
                    p.parent.mkdir(parents=True, exist_ok=True)
                    p.write_text("x")
                    files.append(p.relative_to(root).as_posix())
        (root / period / "manifest.json").write_text(json.dumps(
            {"finished": f"{period}T10:00:00+00:00", "status": "ok",
             "outputs": [{"report": "rereferrals", "title": "Re-referrals"}]}))
    (root / "2026-03-31" / "SYN01" / ".tiny.html.incoming").write_text("half")
    path = site.build_index(root, la_names={"SYN01": "Synthetia"})
    text = path.read_text()
    parser = Links()
    parser.feed(text)
    for f in files:
        assert f in parser.hrefs, f
    assert not any(h and "incoming" in h for h in parser.hrefs)
    assert "2025-03-31/manifest.json" in parser.hrefs and "2026-03-31/manifest.json" in parser.hrefs
    assert text.index("Period ending 2026-03-31") < text.index("Period ending 2025-03-31")
    assert "Synthetia (SYN01)" in text and "Re-referrals" in text
    # accessibility basics
    assert '<html lang="en-GB">' in text and "<caption>" in text and 'scope="col"' in text
    assert 'href="#content"' in text and text.count("<h1>") == 1
    # standard reports first, in their order
    assert text.index("Cohort outcomes") < text.index("Re-referrals") < text.index("Extra report")


def test_index_of_the_tiny_run(tiny_run):
    res, _ = tiny_run
    text = res.index_path.read_text()
    assert f"{PERIOD}/SYN01/tiny.html" in text and f"{PERIOD}/SYN02/tiny.pdf" in text
    assert f"{PERIOD}/manifest.json" in text
    assert re.search(r"Run finished: \d{2} \w+ \d{4}", text)


def test_empty_index(tmp_path):
    assert "No reports have been published yet" in site.render_index(tmp_path)


def test_index_lists_the_las_the_last_run_did_not_publish(tmp_path):
    root = tmp_path / "reports"
    (root / "2026-03-31" / "SYN01").mkdir(parents=True)
    (root / "2026-03-31" / "SYN01" / "tiny.html").write_text("x")
    (root / "2026-03-31" / "manifest.json").write_text(json.dumps(
        {"finished": "2026-04-01T10:00:00+00:00", "status": "partial",
         "failed": [{"la_code": "SYN02", "notebook": "tiny", "stage": "notebook", "cell": 4,
                     "error": "ValueError: <b>no</b> data"}]}))
    text = site.render_index(root, la_names={"SYN02": "Second"})
    assert "Run status: partial" in text
    assert ("<li>Second (SYN02): notebook of 'tiny', cell 4 failed: "
            "ValueError: &lt;b&gt;no&lt;/b&gt; data</li>") in text
