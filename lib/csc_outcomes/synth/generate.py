"""``generate()``: write synthetic LAs in the input folder layout, atomically.

Layout (``docs/input-formats.md``)::

    <out>/synth_truth.json
    <out>/<la_code>/ssda903/<year>/<table>.csv
    <out>/<la_code>/cin/<year>/cin_census_<year>.xml
    <out>/<la_code>/school_census/attendance.csv, suspensions.csv
    <out>/<la_code>/contacts/contacts.csv

Everything is written into a temporary folder beside ``out`` and renamed into place at
the end, so an interrupted run never leaves a folder that looks complete. ``out`` may be
missing, empty, or a previous synth output (recognised by its ``synth_truth.json``);
anything else is refused.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pandas as pd

from . import config, education, history, returns, truth, writers, xml_faults
from . import faults as faults_mod


class SynthError(Exception):
    """The output folder cannot be written (the message says why and what to do)."""


def is_synth_output(path: Path) -> bool:
    """Is ``path`` a folder written by a previous ``generate``?"""
    f = Path(path) / truth.TRUTH_FILE
    if not f.is_file():
        return False
    try:
        return json.loads(f.read_text(encoding="utf-8")).get("generator") == truth.MARKER
    except (OSError, ValueError, AttributeError):
        return False


def _check_target(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise SynthError(f"{out} exists and is not a folder; choose another output folder")
    if out.is_dir() and any(out.iterdir()) and not is_synth_output(out):
        raise SynthError(
            f"{out} is not empty and is not a previous synth output (no {truth.TRUTH_FILE} "
            "written by synth); refusing to write there. Choose an empty or new folder.")


def generate(out_dir: str | Path, n_las: int = 3, seed: int = 0, *, first_year: int = 2022,
             last_year: int = 2026, scale: float = 1.0, faults: bool = False,
             progress: bool = True) -> dict:
    """Write ``n_las`` synthetic LAs into ``out_dir``; return a summary.

    The summary is ``{"out_dir", "truth_file", "las": {la_code: {table: rows}}}`` where
    tables are the SSDA903 tables (rows summed over the years' returns), ``cin_episodes``
    (CINdetails elements over the years' files), ``attendance``, ``suspensions`` and
    ``contacts``. Same arguments give byte-identical files.
    """
    _check_arguments(n_las, first_year, last_year, scale)
    out = Path(out_dir)
    _check_target(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.parent / f".{out.name}.synth-tmp"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    profiles = [config.draw_profile(seed, i, n_las, scale) for i in range(n_las)]
    summary: dict = {"out_dir": str(out), "truth_file": str(out / truth.TRUTH_FILE), "las": {}}
    all_faults: list[dict] = []
    la_info: dict = {}
    try:
        for prof in profiles:
            t0 = time.perf_counter()
            counts, recs, info = _write_la(tmp, prof, seed, first_year, last_year, faults)
            summary["las"][prof.code] = counts
            all_faults += recs
            la_info[prof.code] = {"profile": prof.as_dict(), "realised": info}
            if progress:
                print(f"  {prof.code}: {info['cla_at_31_march_last_year']:,} children looked after at "
                      f"31 March {last_year}, {info['referrals_last_year']:,} referrals in {last_year - 1}-"
                      f"{str(last_year)[2:]}, {len(counts)} tables ({time.perf_counter() - t0:.1f}s)",
                      flush=True)
        parameters = {"n_las": n_las, "seed": seed, "first_year": first_year, "last_year": last_year,
                      "scale": scale, "faults": faults, "history_years": config.HISTORY_YEARS}
        doc = _truth(parameters, profiles, first_year, la_info, all_faults)
        (tmp / truth.TRUTH_FILE).write_text(json.dumps(truth.jsonable(doc), indent=1, sort_keys=False) + "\n",
                                            encoding="utf-8")
        _swap(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if progress:
        print(f"synthetic data for {n_las} LA{'s' if n_las != 1 else ''} written to {out} "
              f"(truth: {out / truth.TRUTH_FILE})", flush=True)
    return summary


def _check_arguments(n_las: int, first_year: int, last_year: int, scale: float) -> None:
    if n_las < 1:
        raise SynthError("n_las must be at least 1")
    if not (2000 < first_year <= last_year < 2100):
        raise SynthError(f"years must satisfy first_year <= last_year (got {first_year}..{last_year})")
    if not scale > 0:
        raise SynthError(f"scale must be positive (got {scale})")


#: Notes in the truth file on how the data were generated, for whoever checks them.
TRUTH_NOTES = [
    ("Short-break children (LS V3/V4) have SSDA903 episodes (CIN N1) and one CIN census "
     "episode each (PrimaryNeedCode N1, a CIN plan, open until the 18th birthday, then RC6), "
     "referred before the first collection year and written without an Assessments element: "
     "outside the proportionality and re-referral populations."),
    ("Children first referred before the first collection year have CIN episodes in the "
     "files only while open in a written year."),
    ("Contacts feed covers the collection years written; outcome REFERRAL marks the contact "
     "that led to a referral."),
    "Dates in CSVs are dd/mm/yyyy; in the CIN XML yyyy-mm-dd.",
]


def _truth(parameters: dict, profiles: list[config.LAProfile], first_year: int, la_info: dict,
           all_faults: list[dict]) -> dict:
    """The content of ``synth_truth.json``."""
    return {
        "generator": truth.MARKER,
        "parameters": parameters,
        "models": truth.models(profiles, first_year),
        "las": la_info,
        "faults": all_faults,
        "notes": TRUTH_NOTES,
    }


def _swap(tmp: Path, out: Path) -> None:
    """Put the finished folder ``tmp`` in the place of ``out`` (replacing an old one)."""
    if out.exists():
        old = out.parent / f".{out.name}.synth-old"
        if old.exists():
            shutil.rmtree(old)
        out.rename(old)
        tmp.rename(out)
        shutil.rmtree(old)
    else:
        tmp.rename(out)


def _write_la(root: Path, prof: config.LAProfile, seed: int, first_year: int, last_year: int,
              with_faults: bool) -> tuple[dict, list[dict], dict]:
    """Write one LA's files under ``root`` (a temporary folder nobody reads until it is
    complete, so plain writes); return (rows per table, faults injected, realised volumes)."""
    h = history.build(prof, seed, first_year, last_year)
    csvs, counts = _ssda903_files(h, seed, first_year, last_year)
    xmls: dict[str, str] = {}
    for year in range(first_year, last_year + 1):
        xmls[f"{prof.code}/cin/{year}/cin_census_{year}.xml"] = writers.cin_xml(h, year)
    counts["cin_episodes"] = sum(text.count("<CINdetails>") for text in xmls.values())
    feeds, frame = _feed_files(h, seed, counts)
    csvs += feeds
    if with_faults:
        data, recs = faults_mod.inject(csvs, prof.code, config.la_rng(seed, prof.index, 4),
                                       cp1252=prof.index == 0)
        xmls, xml_recs = xml_faults.inject_xml(xmls, prof.code, config.la_rng(seed, prof.index, 5))
        recs = sorted(recs + xml_recs, key=lambda r: (r["file"], r["line"] or 0, r["kind"]))
    else:
        data, recs = {f.relpath: f.text.encode("utf-8") for f in csvs}, []
    for rel, text in xmls.items():
        data[rel] = text.encode("utf-8")
    for rel in sorted(data):
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data[rel])
    return counts, recs, truth.la_summary(h, frame)


def _ssda903_files(h: history.History, seed: int, first_year: int,
                   last_year: int) -> tuple[list[faults_mod.CsvFile], dict[str, int]]:
    """The SSDA903 CSVs of every year's return, and their rows per table."""
    prof = h.prof
    csvs: list[faults_mod.CsvFile] = []
    counts: dict[str, int] = {}
    for year in range(first_year, last_year + 1):
        tables = returns.ssda903_year(h, year, config.la_rng(seed, prof.index, 1000 + year))
        for name, df in tables.items():
            csvs.append(faults_mod.CsvFile(f"{prof.code}/ssda903/{year}/{name}.csv", writers.csv_text(df),
                                           config.SSDA903_DATES[name]))
            counts[name] = counts.get(name, 0) + len(df)
    return csvs, counts


def _feed_files(h: history.History, seed: int,
                counts: dict[str, int]) -> tuple[list[faults_mod.CsvFile], pd.DataFrame]:
    """The school census and contacts CSVs (their rows added to ``counts``), and the
    attendance model's frame."""
    prof, la = h.prof, h.prof.code
    att, sus, frame = education.school_census(h, config.la_rng(seed, prof.index, 2))
    con = education.contacts(h, config.la_rng(seed, prof.index, 3))
    counts.update(attendance=len(att), suspensions=len(sus), contacts=len(con))
    return [faults_mod.CsvFile(f"{la}/school_census/attendance.csv", writers.csv_text(att), ["term_start"]),
            faults_mod.CsvFile(f"{la}/school_census/suspensions.csv", writers.csv_text(sus), ["start_date"]),
            faults_mod.CsvFile(f"{la}/contacts/contacts.csv", writers.csv_text(con), ["contact_date"])], frame
