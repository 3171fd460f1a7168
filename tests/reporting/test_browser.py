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


def _offline_requests(browser, url):
    """Open ``url`` with every request that leaves the machine aborted; return them.

    ``file:`` (the pages and their neighbours) and ``data:`` (embedded images) are
    local; anything else (http, https, ws) is recorded and never sent.
    """
    context = browser.new_context()
    attempted = []

    def block(route):
        if route.request.url.startswith(("file:", "data:")):
            route.continue_()
        else:
            route.abort("internetdisconnected")
    context.route("**/*", block)
    context.on("request", lambda r: None if r.url.startswith(("file:", "data:"))
               else attempted.append(r.url))
    try:
        page = context.new_page()
        page.goto(url)
        page.wait_for_load_state("networkidle")
    finally:
        context.close()
    return attempted


@pytest.mark.browser
def test_published_html_makes_no_network_request(tiny_run, tmp_path):
    """Every published page of a run, opened with the network blocked, asks for nothing
    (a page loading jQuery or require.js from a CDN contacts a third party when opened
    and breaks offline)."""
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"SKIPPED LOUDLY: no Debian chromium at {CHROMIUM} "
                    "(apt-get install -y chromium); the network check did not run")
    sync_api = pytest.importorskip("playwright.sync_api",
                                   reason="SKIPPED LOUDLY: playwright is not installed")
    res, _ = tiny_run
    pages = sorted(res.index_path.parent.rglob("*.html"))
    assert len(pages) >= 3  # the index and each LA's report
    canary = tmp_path / "canary.html"  # the check itself sees a CDN script
    canary.write_text('<html><head><script src="https://cdn.jsdelivr.net/npm/jquery@3.5.1/'
                      'dist/jquery.min.js"></script></head><body>x</body></html>')
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            assert _offline_requests(browser, canary.as_uri()) == [
                "https://cdn.jsdelivr.net/npm/jquery@3.5.1/dist/jquery.min.js"]
            attempted = {page.name: _offline_requests(browser, page.as_uri()) for page in pages}
        finally:
            browser.close()
    assert attempted == {page.name: [] for page in pages}
