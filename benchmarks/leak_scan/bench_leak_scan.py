"""Benchmark: the leak scan with national numbers of identifiers against report-sized HTML.

Issue 9: the scan must be linear in the published text. The scan before issue 7
compiled one regular expression alternating every identifier; this one looks each
word up in a set. Each case runs in a fresh child process, which reports the time to
build the identifier set (or compile the pattern), the time to scan, and its peak
resident memory (``ru_maxrss``); the figures are appended to ``RESULTS.md``.

    .nox/tests/bin/python benchmarks/leak_scan/bench_leak_scan.py            # the default cases
    .nox/tests/bin/python benchmarks/leak_scan/bench_leak_scan.py --ids 1000000 --kb 400
    .nox/tests/bin/python benchmarks/leak_scan/bench_leak_scan.py --ids 5330000 --pages 612 \
        --kb 300 --jobs 2 --old-max 0     # a national run: every id, every report

The page (``--kb`` KB of HTML) is generated: tables of words, counts, period-end dates
and percentages, an inline SVG chart and one base64 PNG of a third of the page (as a
report embeds its charts), with five identifiers, a date of birth and a postcode
planted. Identifiers: ``--ids`` ids in four styles (7-digit numbers, ``C`` and 7
digits, UPNs, ``SW`` ids), a tenth as many postcodes, and dates of birth over 25 years.
The old scan is timed only up to ``--old-max`` ids (its pattern grows with every id).
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import json
import os
import platform
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
RESULTS = HERE / "RESULTS.md"
sys.path.insert(0, str(ROOT / "tests" / "reporting"))  # the old scan, kept as a test oracle


def identifiers(n: int, seed: int = 1) -> tuple[list[str], list[str], list[dt.date]]:
    """``n`` ids in four styles, ``n // 10`` postcodes, a child's worth of birthdays."""
    rng = random.Random(seed)
    styles = [lambda: str(rng.randint(1_000_000, 9_999_999)),
              lambda: f"C{rng.randint(1_000_000, 9_999_999)}",
              lambda: f"{rng.choice('ABCDEFGHJKLMNPQRTUVWXYZ')}{rng.randint(10**11, 10**12 - 1)}",
              lambda: f"SW{rng.randint(100_000, 999_999)}"]
    ids = list({styles[i % 4](): None for i in range(n)})
    letters = "ABCDEFGHJKLMNPRSTUWYZ"
    posts = [f"{rng.choice(letters)}{rng.choice(letters)}{rng.randint(1, 99)} "
             f"{rng.randint(1, 9)}{rng.choice(letters)}{rng.choice(letters)}" for _ in range(n // 10)]
    dobs = [dt.date(2000, 1, 1) + dt.timedelta(days=rng.randint(0, 9131)) for _ in range(n // 4)]
    return ids, posts, dobs


def page(kb: int, planted: list[str], seed: int = 2) -> str:
    """About ``kb`` KB of report-like HTML with ``planted`` strings in its table."""
    rng = random.Random(seed)
    png = base64.b64encode(rng.randbytes(kb * 1024 // 4)).decode()
    svg = ('<svg width="400" height="200"><g><text x="5" y="20">Referrals, year ending '
           "31 March 2026</text><!-- Referrals --></g></svg><table>")
    parts = ["<!DOCTYPE html><html><head><style>td{padding:2px}</style></head><body>",
             f'<img alt="chart" src="data:image/png;base64,{png}">', svg]
    words = ["Children looked after", "Re-referrals", "c", "Synthetia (SYN01)", "England",
             "year ending 31 March 2026", "2025-03-31", "statistical neighbours"]
    size = sum(map(len, parts))
    row = 0
    while size < kb * 1024:
        cells = [rng.choice(words), f"{rng.randint(1, 99_999):,}", f"{rng.random() * 100:.1f}%"]
        if row % 500 == 250 and planted:
            cells.append(planted[(row // 500) % len(planted)])
        text = "<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>\n"
        parts.append(text)
        size += len(text)
        row += 1
    return "".join([*parts, "</table></body></html>"])


def child(mode: str, n_ids: int, kb: int, folder: Path, pages: int = 1,
          jobs: int = 1) -> dict[str, float]:
    """Build and scan once (in this process, ``jobs`` > 1: and its forked workers); time
    and peak memory (``peak_mb`` this process, ``workers_mb`` the largest worker)."""
    ids, posts, dobs = identifiers(n_ids)
    folder.mkdir(parents=True, exist_ok=True)
    planted = [ids[7], ids[n_ids // 2], posts[3], dobs[5].strftime("%d/%m/%Y"), ids[-1]]
    for old in folder.glob("report*.html"):
        old.unlink()
    for i in range(pages):  # page i plants its own id, so every page has a leak to find
        name = "report.html" if i == 0 else f"report{i:04d}.html"
        (folder / name).write_text(page(kb, [*planted, ids[(i * 7919) % len(ids)]], seed=2 + i),
                                   encoding="utf-8")
    # the modules are imported before the clock starts (import time is not the scan's)
    import legacy_leak_scan  # the scan before issue 7 (a test oracle)

    from csc_outcomes.reporting.identifiers import IdentifierSet
    from csc_outcomes.reporting.leak_scan import scan

    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t0 = time.perf_counter()
    if mode == "new":
        held = IdentifierSet.build(ids=((i, "CHILD") for i in ids),
                                   postcodes=((p, "HOME_POST") for p in posts),
                                   dates=((d, "DOB") for d in dobs))
        t1 = time.perf_counter()
        leaks = scan([folder], held, jobs=jobs)
    else:
        t1 = t0  # it builds its pattern inside the scan: timed as part of it
        leaks = legacy_leak_scan.scan_for_leaks([folder], set(ids))
    t2 = time.perf_counter()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"build_s": round(t1 - t0, 2), "scan_s": round(t2 - t1, 3), "leaks": len(leaks),
            "peak_mb": round(peak), "before_mb": round(base), "pages": pages, "jobs": jobs,
            "workers_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024),
            "page_kb": round((folder / "report.html").stat().st_size / 1024)}


def run_case(mode: str, n_ids: int, kb: int, timeout: float, pages: int = 1,
             jobs: int = 1) -> dict[str, object]:
    """One case in a fresh process; ``{"timeout": s}`` when it did not finish."""
    work = ROOT / "benchmarks" / ".work" / f"leak-{mode}-{n_ids}"
    cmd = [sys.executable, __file__, "--child", mode, "--ids", str(n_ids), "--kb", str(kb),
           "--work", str(work), "--pages", str(pages), "--jobs", str(jobs)]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=True)
    except subprocess.TimeoutExpired:
        return {"mode": mode, "ids": n_ids, "timeout_s": timeout}
    return {"mode": mode, "ids": n_ids, **json.loads(out.stdout.strip().splitlines()[-1])}


def record(rows: list[dict[str, object]]) -> None:
    """Append the cases as a table to RESULTS.md."""
    load = os.getloadavg()[0]
    title = (f"\n### {dt.datetime.now():%Y-%m-%d %H:%M} ({platform.python_version()}, "
             f"{os.cpu_count()} CPUs, load {load:.1f})\n")
    lines = [title,
             "| scan | identifiers | pages x KB | jobs | build s | scan s | peak MB (largest worker) | leaks found |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        if "timeout_s" in r:
            lines.append(f"| {r['mode']} | {r['ids']:,} | - | - | did not finish in "
                         f"{r['timeout_s']:.0f} s | - | - | - |")
        else:
            lines.append(f"| {r['mode']} | {r['ids']:,} | {r['pages']} x {r['page_kb']} | "
                         f"{r['jobs']} | {r['build_s']} | {r['scan_s']} | {r['peak_mb']} "
                         f"({r['workers_mb']}) | {r['leaks']} |")
    with RESULTS.open("a", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ids", type=int, default=0, help="one case with this many ids")
    ap.add_argument("--kb", type=int, default=400, help="size of the page (KB)")
    ap.add_argument("--old-max", type=int, default=10_000, help="largest case for the old scan")
    ap.add_argument("--timeout", type=float, default=600.0, help="seconds per case")
    ap.add_argument("--pages", type=int, default=1,
                    help="pages scanned (a national run publishes 612: --pages 612 --kb 300)")
    ap.add_argument("--jobs", type=int, default=1, help="processes the new scan uses (the run's --jobs)")
    ap.add_argument("--child", choices=["new", "old"], help=argparse.SUPPRESS)
    ap.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        print(json.dumps(child(a.child, a.ids, a.kb, a.work, a.pages, a.jobs)))
        return
    sizes = [a.ids] if a.ids else [1_000, 10_000, 100_000, 1_000_000]
    rows = [run_case(mode, n, a.kb, a.timeout, a.pages, a.jobs) for n in sizes
            for mode in ("old", "new") if mode == "new" or n <= a.old_max]
    record(rows)


if __name__ == "__main__":
    main()
