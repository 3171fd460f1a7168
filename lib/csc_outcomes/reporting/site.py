"""The index page: ``reports/index.html`` links every period, LA and report.

Built by scanning the published tree (``reports/<period_end>/<la_code>/<report>.html|.pdf``)
so reports of earlier runs stay listed; each period shows its run time, status, the LAs
its last run could not publish (notebook, cell, error, from the manifest's ``failed``)
and a link to its ``manifest.json``. Plain HTML and CSS in one file (no scripts): a skip link,
one ``h1``, a ``h2`` per period, tables with captions and header scopes, link text that
says which LA and period it is for.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from csc_outcomes import __version__, atomic

_PERIOD = re.compile(r"^\d{4}-\d{2}-\d{2}$")

#: Display order and names of the standard reports (others follow, by name).
REPORT_ORDER = ["cohort_outcomes", "rereferrals", "placement_stability", "proportionality"]

INDEX_CSS = """
:root { --ink:#1b1b1b; --muted:#505a5f; --line:#b1b4b6; --accent:#1d4f91; --focus:#ffdd00; --band:#f3f2f1; }
body { margin:0; font-family:"Segoe UI", Arial, sans-serif; color:var(--ink); line-height:1.5; }
.skip-link { position:absolute; left:-999px; top:0; background:var(--focus); color:#000; padding:.5rem 1rem; }
.skip-link:focus { left:0; }
header { background:var(--accent); color:#fff; padding:1.5rem 1rem; }
header h1 { margin:0; font-size:1.9rem; } header p { margin:.25rem 0 0; }
main { max-width:64rem; margin:0 auto; padding:1rem; }
h2 { border-bottom:2px solid var(--line); padding-bottom:.2rem; margin-top:2rem; }
a { color:var(--accent); } a:focus { outline:3px solid var(--focus); background:var(--focus); color:#000; }
table { border-collapse:collapse; width:100%; margin:.5rem 0 1rem; }
caption { text-align:left; font-weight:600; padding:.3rem 0; }
th, td { text-align:left; border-bottom:1px solid var(--line); padding:.4rem .6rem; vertical-align:top; }
thead th { border-bottom:2px solid var(--ink); }
.meta { color:var(--muted); }
.status-failed { color:#b10e1e; font-weight:600; }
.visually-hidden { position:absolute !important; width:1px; height:1px; overflow:hidden; clip:rect(1px,1px,1px,1px); white-space:nowrap; }
footer { max-width:64rem; margin:2rem auto; padding:1rem; border-top:1px solid var(--line); color:var(--muted); font-size:.9rem; }
"""


def pretty_name(stem: str) -> str:
    """A report's name from its file stem: ``placement_stability`` -> ``Placement stability``."""
    return stem.replace("_", " ").strip().capitalize()


def _load_manifest(period_dir: Path) -> dict[str, Any] | None:
    p = period_dir / "manifest.json"
    if not p.is_file():
        return None
    try:
        return json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def scan_reports(reports_dir: str | Path) -> dict[str, dict[str, dict[str, dict[str, str]]]]:
    """{period: {la: {report_stem: {fmt: relative_href}}}} for the published tree."""
    root = Path(reports_dir)
    found: dict[str, dict[str, dict[str, dict[str, str]]]] = {}
    if not root.is_dir():
        return found
    for pdir in sorted((d for d in root.iterdir() if d.is_dir() and _PERIOD.match(d.name)),
                       reverse=True):
        las: dict[str, dict[str, dict[str, str]]] = {}
        for ladir in sorted(d for d in pdir.iterdir() if d.is_dir() and not d.name.startswith(".")):
            reps: dict[str, dict[str, str]] = {}
            for f in sorted(ladir.iterdir()):
                if f.is_file() and f.suffix in (".html", ".pdf") and not f.name.startswith("."):
                    reps.setdefault(f.stem, {})[f.suffix[1:]] = f.relative_to(root).as_posix()
            if reps:
                las[ladir.name] = reps
        if las:
            found[pdir.name] = las
    return found


def _order(stems: Iterable[str]) -> list[str]:
    known = [s for s in REPORT_ORDER if s in stems]
    return known + sorted(s for s in stems if s not in REPORT_ORDER)


def _fmt_time(iso: str | None) -> str:
    if not iso:
        return "unknown"
    try:
        return dt.datetime.fromisoformat(iso).strftime("%d %B %Y, %H:%M %Z").strip()
    except ValueError:
        return iso


def _page_start(title: str) -> list[str]:
    """The page's head, skip link and header, up to the opening of ``main``."""
    e = html.escape
    return [
        "<!DOCTYPE html>", '<html lang="en-GB">', "<head>", '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{e(title)}</title>", f"<style>{INDEX_CSS}</style>", "</head>", "<body>",
        '<a class="skip-link" href="#content">Skip to content</a>',
        (f"<header><h1>{e(title)}</h1><p>Outcome measures for children at risk of harm, "
         "in care and leaving care, by local authority and period.</p></header>"),
        '<main id="content">',
    ]


def _run_meta(root: Path, period: str, man: Mapping[str, Any]) -> str:
    """The line under a period's heading: run time, a failed status, the manifest link."""
    e = html.escape
    meta = [f"Run finished: {e(_fmt_time(man.get('finished')))}" if man else "No run manifest."]
    if man.get("status") and man.get("status") != "ok":
        meta.append(f'<span class="status-failed">Run status: {e(man["status"])}</span>')
    if incomplete := (man.get("coverage") or {}).get("incomplete"):
        meta.append(f'<strong class="status-failed">{e(str(incomplete))}</strong>')
    if (root / period / "manifest.json").is_file():
        meta.append(f'<a href="{e(period)}/manifest.json">Run manifest<span '
                    f'class="visually-hidden"> for the period ending {e(period)}</span></a>')
    return '<p class="meta">' + " · ".join(meta) + "</p>"


def _failed_list(man: Mapping[str, Any], la_names: Mapping[str, str]) -> list[str]:
    """The LAs the period's last run did not publish: notebook or render, cell, error."""
    e = html.escape
    items = []
    for f in man.get("failed") or []:
        la = str(f.get("la_code", ""))
        name = f"{la_names[la]} ({la})" if la in la_names else la
        cell = f", cell {f['cell']}" if f.get("cell") is not None else ""
        items.append(f"<li>{e(name)}: {e(str(f.get('stage', 'notebook')))} of "
                     f"'{e(str(f.get('notebook', '')))}'{e(cell)} failed: "
                     f"{e(str(f.get('error', '')))}</li>")
    if not items:
        return []
    note = ('<p class="status-failed">Not published by the last run (any reports shown '
            "for these local authorities are from an earlier run):</p>")
    return [note, '<ul class="failed">', *items, "</ul>"]


def _la_row(period: str, la: str, name: str | None, reports: Mapping[str, Mapping[str, str]],
            stems: list[str], titles: Mapping[str, str]) -> str:
    """One LA's row: a cell per report with its HTML and PDF links."""
    e = html.escape
    label = f"{e(name)} ({e(la)})" if name else e(la)
    row = [f'<tr><th scope="row">{label}</th>']
    for s in stems:
        links = []
        for fmt in ("html", "pdf"):
            href = reports.get(s, {}).get(fmt)
            if href:
                text = "Report" if fmt == "html" else "PDF"
                ctx = f"{titles.get(s, pretty_name(s))}, {name or la}, period ending {period}"
                links.append(f'<a href="{e(href)}">{text}<span class="visually-hidden">: '
                             f"{e(ctx)}</span></a>")
        row.append(f"<td>{' · '.join(links) if links else '<span class=meta>none</span>'}</td>")
    return "".join(row) + "</tr>"


def _period_section(root: Path, period: str, las: Mapping[str, Mapping[str, Mapping[str, str]]],
                    la_names: Mapping[str, str], titles: dict[str, str]) -> list[str]:
    """A period's heading, run line and table of LAs by reports."""
    e = html.escape
    man = _load_manifest(root / period) or {}
    for rec in man.get("outputs", []):
        if rec.get("title") and rec.get("report"):
            titles.setdefault(rec["report"], rec["title"])
    pid = f"period-{period}"
    stems = _order({s for reps in las.values() for s in reps})
    head = "".join(f'<th scope="col">{e(titles.get(s, pretty_name(s)))}</th>' for s in stems)
    return [
        f'<section aria-labelledby="{pid}"><h2 id="{pid}">Period ending {e(period)}</h2>',
        _run_meta(root, period, man),
        *_failed_list(man, la_names),
        "<table>",
        f"<caption>Reports for the period ending {e(period)}, by local authority</caption>",
        f'<thead><tr><th scope="col">Local authority</th>{head}</tr></thead><tbody>',
        *(_la_row(period, la, la_names.get(la), reps, stems, titles) for la, reps in las.items()),
        "</tbody></table></section>",
    ]


def render_index(reports_dir: str | Path, *, la_names: Mapping[str, str] | None = None,
                 titles: Mapping[str, str] | None = None,
                 title: str = "Children's social care outcome reports",
                 generated: str | None = None) -> str:
    """The index page's HTML (see ``build_index``)."""
    root = Path(reports_dir)
    names = dict(la_names or {})
    report_titles = dict(titles or {})
    tree = scan_reports(root)
    parts = _page_start(title)
    if not tree:
        parts.append("<p>No reports have been published yet.</p>")
    for period, las in tree.items():
        parts += _period_section(root, period, las, names, report_titles)
    when = generated or dt.datetime.now().astimezone().strftime("%d %B %Y, %H:%M %Z")
    footer = (f"<footer><p>Index written {html.escape(when)} by csc-outcomes "
              f"{html.escape(__version__)}. Published figures are aggregates; values from 1 "
              "to 5 are suppressed and shown as c.</p></footer>")
    parts += ["</main>", footer, "</body>", "</html>"]
    return "\n".join(parts) + "\n"


def build_index(reports_dir: str | Path, **kwargs: Any) -> Path:
    """Write ``<reports_dir>/index.html`` atomically and return its path."""
    root = Path(reports_dir)
    return atomic.write_text(root / "index.html", render_index(root, **kwargs))
