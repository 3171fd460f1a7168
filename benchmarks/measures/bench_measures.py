"""Benchmark: every measure for 153 LAs (England's volumes) and 12 monthly period ends.

Target (the issue): <= 20 s and <= 3 GB peak memory on a 2-core machine.

    /work/venv/bin/python benchmarks/measures/bench_measures.py            # direct tables
    /work/venv/bin/python benchmarks/measures/bench_measures.py --source synth
    /work/venv/bin/python benchmarks/measures/bench_measures.py --source warehouse \
        --path benchmarks/.work/national.duckdb --last-month 2026-03

``--source direct`` (default) builds the canonical tables straight from numpy at
national volume (about 3M referrals and 400k episodes over 5 years), writes them once
to ``benchmarks/.work/measures-direct/`` (git-ignored, parquet) and reuses them.
``--source synth`` uses the project's generator and ingest (``synth.generate`` then
``warehouse.ingest_into``) to build ``benchmarks/.work/measures-synth/warehouse.duckdb`` once,
when both exist in the tree. ``--source warehouse --path FILE`` times an existing
warehouse (the project's real flow: synth -> ingest -> warehouse), loaded with
``MeasureInputs.from_warehouse`` (``--load measures``, the default: only the columns
measures read, a few LAs at a time; ``--load full``: every table and column).
``--last-month`` sets the last of the 12 month ends (default 2025-03).

The timed step runs in a fresh child process that loads the tables and calls
``compute_measures`` for 12 month ends; the child reports the compute time and its
peak resident memory (``ru_maxrss``: loaded tables plus the computation), and the
figures are appended to ``benchmarks/measures/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from csc_outcomes import paths

HERE = Path(__file__).resolve().parent
ROOT = paths.repo_root()
WORK = ROOT / "benchmarks" / ".work"
RESULTS = HERE / "RESULTS.md"
PERIOD_ENDS = [str(p.date()) for p in pd.date_range("2024-04-30", periods=12, freq="ME")]


def month_ends(last_month: str, n: int = 12) -> list[str]:
    """``n`` month ends ending with the end of ``last_month`` (YYYY-MM)."""
    last = pd.Period(last_month, freq="M").to_timestamp(how="end").normalize()
    return [str(p.date()) for p in pd.date_range(end=last, periods=n, freq="ME")]


# --------------------------------------------------------------------------- direct data


def _dates(rng, n, start="2020-04-01", end="2025-03-31"):
    a, b = np.datetime64(start), np.datetime64(end)
    span = int((b - a).astype(int))
    return a + rng.integers(0, span + 1, n).astype("timedelta64[D]")


def build_direct(out: Path, n_las: int = 153, seed: int = 1) -> None:
    """National-volume canonical tables, written as parquet into ``out``."""
    rng = np.random.default_rng(seed)
    out.mkdir(parents=True, exist_ok=True)
    las = np.array([f"SYN{i:03d}" for i in range(1, n_las + 1)], dtype=object)

    def la_of(n):
        return las[rng.integers(0, n_las, n)]

    _write_cin(out, rng, la_of)
    _write_contacts(out, rng, la_of)
    kids = _write_looked_after(out, rng, la_of)
    _write_oc2_oc3(out, rng, kids)
    _write_missing_and_social_workers(out, rng, kids)
    _write_school_census(out, rng, kids)
    (out / "DONE").write_text("ok\n")


def _write_cin(out: Path, rng, la_of) -> None:
    """CIN census: ~3M referrals over five years for ~1.9M children, with assessments,
    section 47 enquiries and plans."""
    n_ref = 3_000_000
    n_kids = 1_900_000
    kid = rng.integers(0, n_kids, n_ref)
    kid_la = la_of(n_kids)
    ref_date = _dates(rng, n_ref)
    closure = ref_date + rng.integers(5, 400, n_ref).astype("timedelta64[D]")
    closure = np.where(rng.random(n_ref) < 0.15, np.datetime64("NaT"), closure)
    cin = pd.DataFrame({
        "la_code": kid_la[kid],
        "LAchildID": pd.Series(kid).map("C{:07d}".format).to_numpy(dtype=object),
        "CINreferralDate": ref_date.astype("datetime64[ns]"),
        "CINclosureDate": pd.to_datetime(closure),
        "ReferralNFA": pd.array(rng.random(n_ref) < 0.08, dtype="boolean"),
        "collection_year": 2025,
    })
    cin["source_line"] = np.arange(len(cin)) + 2
    cin.to_parquet(out / "cin_episodes.parquet")
    a = cin.sample(frac=0.95, random_state=1)
    start = a["CINreferralDate"] + pd.to_timedelta(rng.integers(0, 5, len(a)), unit="D")
    assessments = pd.DataFrame({
        "la_code": a["la_code"].to_numpy(), "LAchildID": a["LAchildID"].to_numpy(),
        "CINreferralDate": a["CINreferralDate"].to_numpy(),
        "AssessmentActualStartDate": start.to_numpy(),
        "AssessmentAuthorisationDate": (start + pd.to_timedelta(rng.gamma(6, 8, len(a)).astype(int), unit="D")).to_numpy(),
        "collection_year": 2025,
    })
    assessments.to_parquet(out / "assessments.parquet")
    s = cin.sample(frac=0.3, random_state=2)
    s_start = s["CINreferralDate"] + pd.to_timedelta(rng.integers(0, 20, len(s)), unit="D")
    section47 = pd.DataFrame({
        "la_code": s["la_code"].to_numpy(), "LAchildID": s["LAchildID"].to_numpy(),
        "CINreferralDate": s["CINreferralDate"].to_numpy(),
        "S47ActualStartDate": s_start.to_numpy(),
        "DateOfInitialCPC": np.where(rng.random(len(s)) < 0.4,
                                     (s_start + pd.to_timedelta(rng.integers(-2, 30, len(s)), unit="D")).to_numpy(),
                                     np.datetime64("NaT")),
        "collection_year": 2025,
    })
    section47.to_parquet(out / "section47.parquet")
    p = s.sample(frac=0.35, random_state=3)
    p_start = p["CINreferralDate"] + pd.to_timedelta(rng.integers(10, 60, len(p)), unit="D")
    cp = pd.DataFrame({
        "la_code": p["la_code"].to_numpy(), "LAchildID": p["LAchildID"].to_numpy(),
        "CINreferralDate": p["CINreferralDate"].to_numpy(),
        "CPPstartDate": p_start.to_numpy(),
        "CPPendDate": np.where(rng.random(len(p)) < 0.8,
                               (p_start + pd.to_timedelta(rng.gamma(3, 110, len(p)).astype(int), unit="D")).to_numpy(),
                               np.datetime64("NaT")),
        "NumberOfPreviousCPP": pd.array(rng.integers(0, 2, len(p)), dtype="Int64"),
        "collection_year": 2025,
    })
    cp.to_parquet(out / "cp_plans.parquet")


def _write_contacts(out: Path, rng, la_of) -> None:
    """The local contacts feed: 4M contacts."""
    contacts = pd.DataFrame({
        "la_code": la_of(4_000_000),
        "contact_id": np.arange(4_000_000).astype(str).astype(object),
        "CHILD": "X",
        "contact_date": _dates(rng, 4_000_000).astype("datetime64[ns]"),
        "collection_year": 2025,
    })
    contacts.to_parquet(out / "contacts.parquet")


def _write_looked_after(out: Path, rng, la_of) -> pd.DataFrame:
    """SSDA903 episodes (~150k children, ~400k episodes in chains) and the header,
    which is returned (the other SSDA903 tables and the school census sample it)."""
    n_cla = 150_000
    n_eps = rng.integers(1, 6, n_cla)
    child = np.repeat(np.arange(n_cla), n_eps)
    child_la = la_of(n_cla)
    first = _dates(rng, n_cla, "2015-01-01", "2024-12-31")
    length = rng.gamma(1.5, 200, len(child)).astype(int) + 1
    gap = np.where(rng.random(len(child)) < 0.05, rng.integers(1, 200, len(child)), 0)
    offs = np.cumsum(length + gap) - (length + gap)
    base = np.repeat(np.cumsum(np.r_[0, (length + gap)])[np.cumsum(np.r_[0, n_eps])[:-1]], n_eps)
    decom = np.repeat(first, n_eps) + (offs - base).astype("timedelta64[D]")
    dec = decom + length.astype("timedelta64[D]")
    last = np.r_[child[1:] != child[:-1], True]
    dec = np.where(last & (rng.random(len(child)) < 0.55), np.datetime64("NaT"), dec)
    idx_in_child = np.arange(len(child)) - np.repeat(np.cumsum(np.r_[0, n_eps])[:-1], n_eps)
    rne = np.where(idx_in_child == 0, "S", rng.choice(list("PPPTULB"), len(child)))
    rne = np.where((idx_in_child > 0) & (gap > 0), "S", rne)
    episodes = pd.DataFrame({
        "la_code": child_la[child],
        "CHILD": pd.Series(child).map("E{:06d}".format).to_numpy(dtype=object),
        "DECOM": pd.to_datetime(decom), "DEC": pd.to_datetime(dec),
        "RNE": rne.astype(object),
        "LS": rng.choice(["C2", "C2", "C2", "E1", "J2", "V2", "V3", "V4", "L1"], len(child), p=[.3, .2, .1, .1, .05, .1, .05, .05, .05]).astype(object),
        "PLACE": rng.choice(["U1", "U3", "U4", "U5", "R1", "K2", "T1", "A3", "P1"], len(child)).astype(object),
        "URN": rng.choice(["SC1", "SC2", None], len(child)).astype(object),
        "PL_POST": rng.choice(["AB1", "AB2", None], len(child)).astype(object),
        "collection_year": 2025,
    })
    episodes["source_line"] = np.arange(len(episodes)) + 2
    episodes.to_parquet(out / "episodes.parquet")
    kids = pd.DataFrame({
        "la_code": child_la, "CHILD": pd.Series(np.arange(n_cla)).map("E{:06d}".format).to_numpy(dtype=object),
        "DOB": pd.to_datetime(first - rng.integers(0, 17 * 365, n_cla).astype("timedelta64[D]")),
        "UPN": np.where(rng.random(n_cla) < 0.8, pd.Series(np.arange(n_cla)).map("U{:012d}".format), None).astype(object),
        "collection_year": 2025,
    })
    kids.to_parquet(out / "header.parquet")
    return kids


def _write_oc2_oc3(out: Path, rng, kids: pd.DataFrame) -> None:
    """OC2 and OC3 rows for five collection years."""
    rows = []
    for year in range(2021, 2026):
        oc2 = kids.sample(frac=0.5, random_state=year)[["la_code", "CHILD"]].copy()
        oc2["collection_year"] = year
        for c in ["HEALTH_CHECK", "TEETH_CHECK", "IMMUNISATIONS"]:
            oc2[c] = pd.array((rng.random(len(oc2)) < 0.85).astype(int), dtype="Int64")
        oc2["SDQ_SCORE"] = pd.array(np.where(rng.random(len(oc2)) < 0.75, rng.integers(0, 40, len(oc2)), -1), dtype="Int64")
        oc2.loc[oc2["SDQ_SCORE"] < 0, "SDQ_SCORE"] = pd.NA
        rows.append(oc2)
    pd.concat(rows, ignore_index=True).to_parquet(out / "oc2.parquet")
    rows = []
    for year in range(2021, 2026):
        oc3 = kids.sample(frac=0.1, random_state=year)[["la_code", "CHILD"]].copy()
        oc3["DOB"] = pd.Timestamp(f"{year - 20}-01-01") + pd.to_timedelta(rng.integers(0, 3 * 365, len(oc3)), unit="D")
        oc3["collection_year"] = year
        oc3["IN_TOUCH"] = rng.choice(["YES", "YES", "YES", "NO", "DIED", "REFU"], len(oc3)).astype(object)
        oc3["ACTIV"] = rng.choice(["F1", "P2", "F5", "G4", "G6"], len(oc3)).astype(object)
        oc3["ACCOM"] = rng.choice(["B1", "C1", "U2", "0"], len(oc3)).astype(object)
        rows.append(oc3)
    pd.concat(rows, ignore_index=True).to_parquet(out / "oc3.parquet")


def _write_missing_and_social_workers(out: Path, rng, kids: pd.DataFrame) -> None:
    """Missing episodes and social-worker episodes."""
    m = kids.sample(n=200_000, replace=True, random_state=4)
    pd.DataFrame({"la_code": m["la_code"].to_numpy(), "CHILD": m["CHILD"].to_numpy(),
                  "MISSING": rng.choice(["M", "A"], len(m)).astype(object),
                  "MIS_START": _dates(rng, len(m)).astype("datetime64[ns]"),
                  "collection_year": 2025}).to_parquet(out / "missing.parquet")
    w = kids.sample(n=300_000, replace=True, random_state=5)
    sw_start = _dates(rng, len(w))
    pd.DataFrame({"la_code": w["la_code"].to_numpy(), "CHILD": w["CHILD"].to_numpy(),
                  "SW_ID": rng.integers(0, 5000, len(w)).astype(str).astype(object),
                  "SW_DECOM": sw_start.astype("datetime64[ns]"),
                  "SW_DEC": pd.to_datetime(sw_start + rng.integers(30, 400, len(w)).astype("timedelta64[D]")),
                  "collection_year": 2025}).to_parquet(out / "sw_episodes.parquet")


def _write_school_census(out: Path, rng, kids: pd.DataFrame) -> None:
    """Attendance by term and suspensions, for children with a UPN."""
    withupn = kids[kids["UPN"].notna()]
    terms = pd.to_datetime([f"{y}-{md}" for y in range(2020, 2026) for md in ("01-04", "04-15", "09-01")])
    att = withupn[["la_code", "UPN"]].merge(pd.DataFrame({"term_start": terms}), how="cross")
    possible = rng.integers(100, 130, len(att))
    att["sessions_possible"] = pd.array(possible, dtype="Int64")
    att["sessions_authorised_absence"] = pd.array(rng.binomial(possible, 0.05), dtype="Int64")
    att["sessions_unauthorised_absence"] = pd.array(rng.binomial(possible, 0.02), dtype="Int64")
    att["collection_year"] = 2025
    att.to_parquet(out / "attendance.parquet")
    sus = withupn.sample(n=40_000, replace=True, random_state=6)
    pd.DataFrame({"la_code": sus["la_code"].to_numpy(), "UPN": sus["UPN"].to_numpy(),
                  "start_date": _dates(rng, len(sus)).astype("datetime64[ns]"),
                  "category": rng.choice(["FIXD", "PERM"], len(sus), p=[.95, .05]).astype(object),
                  "collection_year": 2025}).to_parquet(out / "suspensions.parquet")


def load_direct(folder: Path):
    from csc_outcomes.measures.inputs import MeasureInputs

    tables = {p.stem: pd.read_parquet(p) for p in sorted(folder.glob("*.parquet"))}
    return MeasureInputs(tables=tables)


# --------------------------------------------------------------------------- synth data


def build_synth(folder: Path, n_las: int, seed: int) -> Path:
    from csc_outcomes import synth
    from csc_outcomes.warehouse import ingest_into

    folder.mkdir(parents=True, exist_ok=True)
    wh = folder / "warehouse.duckdb"
    if not wh.exists():
        synth.generate(folder / "input", n_las, seed)
        ingest_into(folder / "input", wh)
    return wh


# --------------------------------------------------------------------------- timing

RUNS_HEADER = (
    "| date | source | LAs | referrals | episodes | period ends | load s | load peak MB | "
    "compute s | compute CPU s | load avg before | peak MB | within target | commit | "
    "command | environment |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n"
)


def child(source: str, path: str, last_month: str, load: str, dump: str | None) -> None:
    """Runs in the child process: load, compute, report JSON on stdout."""
    import resource

    from csc_outcomes.measures.compute import compute_measures
    from csc_outcomes.measures.inputs import MeasureInputs

    periods = month_ends(last_month)
    t0 = time.perf_counter()
    if source == "direct":
        inputs = load_direct(Path(path))
    else:
        inputs = MeasureInputs.from_warehouse(path, measures_only=(load == "measures"))
    t1 = time.perf_counter()
    load_peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    c1 = time.process_time()
    res = compute_measures(inputs, periods)
    t2 = time.perf_counter()
    c2 = time.process_time()
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if dump:
        res.to_csv(dump, index=False)
    summary = (
        res.groupby("measure_id", sort=False)
        .apply(lambda g: g["value"].median(), include_groups=False)
        .round(3)
        .to_dict()
    )
    print(json.dumps({
        "load_s": round(t1 - t0, 2), "compute_s": round(t2 - t1, 2),
        "compute_cpu_s": round(c2 - c1, 2), "load_avg": round(os.getloadavg()[0], 1),
        "load_peak_mb": round(load_peak_kb / 1024),
        "peak_mb": round(peak_kb / 1024), "rows": len(res), "las": int(res["la_code"].nunique()),
        "n_referrals": len(inputs.table("cin_episodes")),
        "n_episodes": len(inputs.table("episodes")),
        "periods": [periods[0], periods[-1]],
        "median_values": summary,
    }))


def git_commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                             capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "lib"], cwd=ROOT,
                               capture_output=True, text=True, check=True).stdout.strip()
        return out + ("+uncommitted" if dirty else "")
    except (OSError, subprocess.CalledProcessError):  # no git, or not a checkout
        return "unknown"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--source", choices=["direct", "synth", "warehouse"], default="direct")
    ap.add_argument("--path", help="the warehouse file for --source warehouse")
    ap.add_argument("--last-month", default="2025-03",
                    help="last of the 12 month ends, YYYY-MM (default 2025-03)")
    ap.add_argument("--load", choices=["measures", "full"], default="measures",
                    help="warehouse loading: only what measures read (default) or everything")
    ap.add_argument("--dump", help="also write the measures table to this CSV")
    ap.add_argument("--las", type=int, default=153)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-record", action="store_true", help="do not append to RESULTS.md")
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        child(*args.child, args.last_month, args.load, args.dump)
        return 0
    if args.source == "direct":
        folder = WORK / f"measures-direct-{args.las}"
        if not (folder / "DONE").exists():
            t = time.perf_counter()
            build_direct(folder, args.las, args.seed)
            print(f"built direct tables in {time.perf_counter() - t:.1f}s -> {folder}")
        path = folder
    elif args.source == "synth":
        path = build_synth(WORK / f"measures-synth-{args.las}", args.las, args.seed)
    else:
        if not args.path or not Path(args.path).exists():
            print("--source warehouse needs --path to an existing warehouse", file=sys.stderr)
            return 2
        path = Path(args.path).resolve()
    load_before = round(os.getloadavg()[0], 1)
    cmd = [sys.executable, __file__, "--child", args.source, str(path),
           "--last-month", args.last_month, "--load", args.load]
    if args.dump:
        cmd += ["--dump", str(Path(args.dump).resolve())]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, check=False)
    if proc.returncode:
        print(proc.stderr, file=sys.stderr)
        return 1
    figures = json.loads(proc.stdout.strip().splitlines()[-1])
    figures["load_before"] = load_before
    figures["commit"] = git_commit()
    print(json.dumps(figures, indent=1))
    ok = figures["compute_s"] <= 20 and figures["peak_mb"] <= 3072
    if not args.no_record:
        source = args.source if args.source != "warehouse" else f"warehouse ({args.load})"
        command = "bench_measures.py " + " ".join(argv if argv is not None else sys.argv[1:])
        line = (
            f"| {dt.date.today()} | {source} | {figures['las']} | {figures['n_referrals']:,} | "
            f"{figures['n_episodes']:,} | {figures['periods'][0]} .. {figures['periods'][1]} | "
            f"{figures['load_s']} | {figures['load_peak_mb']} | {figures['compute_s']} | "
            f"{figures['compute_cpu_s']} | {load_before} | "
            f"{figures['peak_mb']} | {'yes' if ok else 'NO'} | {figures['commit']} | "
            f"`{command}` | {platform.python_version()}, "
            f"pandas {pd.__version__}, {os.cpu_count()} cpu |\n"
        )
        if not RESULTS.exists():
            RESULTS.write_text("# Measures benchmark\n\n")
        if RUNS_HEADER not in RESULTS.read_text():
            with RESULTS.open("a") as fh:
                fh.write("\n" + RUNS_HEADER)
        with RESULTS.open("a") as fh:
            fh.write(line)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
