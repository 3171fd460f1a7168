"""A real browser opens the index, follows a link to a report and sees the chart."""

import os

import pytest

from conftest import PERIOD

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.mark.browser
def test_index_to_report_in_chromium(tiny_run):
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"SKIPPED LOUDLY: no Debian chromium at {CHROMIUM} "
                    "(apt-get install -y chromium); the browser check did not run")
    sync_api = pytest.importorskip("playwright.sync_api",
                                   reason="SKIPPED LOUDLY: playwright is not installed")
    res, _ = tiny_run
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page()
            page.goto(res.index_path.as_uri())
            assert "reports" in page.title().lower()
            link = page.locator(f'a[href="{PERIOD}/SYN01/tiny.html"]')
            assert link.count() == 1
            link.click()
            page.wait_for_load_state("load")
            assert page.url.endswith(f"{PERIOD}/SYN01/tiny.html")
            img = page.locator("main img").first
            img.wait_for()
            width = img.evaluate("el => el.complete ? el.naturalWidth : 0")
            assert width > 0, "the chart image did not load"
            body = page.inner_text("body")
            assert "Traceback" not in body
            assert page.locator("main table").count() >= 1
            # and back to the index through the footer link
            page.click("text=All reports")
            assert page.url.endswith("index.html")
        finally:
            browser.close()
