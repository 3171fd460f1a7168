"""The run manifest: what went in, what code ran, what came out, each hashed.

``reports/<period_end>/manifest.json`` records

- ``inputs``: ``files``, every raw input file behind the warehouse (LA, path relative
  to the input folder, bytes, sha256: the warehouse's ``input_files``, as ingest found
  them), ``input_dir`` (the input folder, when the warehouse names it), ``warehouse``
  (its path and ``content_sha256``, a hash of its tables' rows: the file's own bytes
  change with every ingest, its content only with the data), and each source
  ``notebooks`` and ``parameters`` file (path, bytes, sha256). Raw files and warehouse
  are read at the run's start (``plan.prepare``);
- ``measures``: the shared table the run's rows came from, the run's own copy of them
  (``snapshot``, in the restricted tree, relative to it: never published, the counts
  are not disclosure-controlled) with its sha256, and the hash of the period's rows;
- ``coverage``: each LA's first and latest return, and the incomplete-data banner when
  the run was allowed to publish a period the returns do not cover;
- ``options`` and each notebook run's papermill ``parameters``;
- ``code_version`` (package version, git commit and dirty flag when ``git`` answers,
  and ``tree_hash``, a sha256 over ``lib/`` and ``notebooks/`` that pins an
  uncommitted tree), ``packages`` (Python's version and each distribution's) and
  ``platform``;
- ``outputs``: each published file (path relative to the reports folder), sha256, size;
  ``restricted_outputs``: each executed notebook (relative to the restricted folder)
  with the sha256 of its file and of its *text outputs* (``content_sha256``, see
  ``notebook_content_hash``);
- ``renderer`` (``quarto`` or ``builtin``) and ``renderer_version`` (``quarto --version``,
  or the built-in renderer's nbconvert, pandoc and Typst versions);
- ``timings``: seconds per notebook run and render, and for the whole run.

No path in a manifest is absolute (:func:`write_manifest` makes every one relative to
the project folder, the reports folder's parent, whatever field holds it): a published
manifest names no user's home or server layout, and the project can be moved whole
and still reproduced. ``reproduce`` checks every hash here against the files now.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import platform
import re
import subprocess
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import nbformat
import pandas as pd

from csc_outcomes import __version__, atomic
from csc_outcomes import warehouse as wh
from csc_outcomes.measures import table
from csc_outcomes.paths import repo_root
from csc_outcomes.reporting import file_memo
from csc_outcomes.reporting.model_build import library_versions
from csc_outcomes.reporting.papermill_runs import NotebookResult

#: 2: relative paths only; raw input files, warehouse content hash, coverage, the run's
#: own measures snapshot.
MANIFEST_VERSION = 2

#: Distributions whose versions are recorded.
PACKAGES = [
    "csc-outcomes", "pandas", "numpy", "pyarrow", "duckdb", "pandera", "statsmodels", "scipy",
    "matplotlib", "seaborn", "papermill", "nbformat", "nbconvert", "nbclient", "ipykernel",
    "jupyter_client", "jinja2", "pypandoc-binary", "pypandoc", "typst", "pyyaml", "holidays",
]


def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    """sha256 of a file's bytes, read in chunks (warehouses are large)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


#: ``restricted/digests/``: digests of large inputs, by file identity (:func:`remembered`).
MEMO_FOLDER = "digests"


def remembered(memo_dir: Path, path: Path, kind: str, compute: Callable[[Path], Any],
               log: Callable[[str], None] | None = None, what: str = "") -> Any:
    """``compute(path)``, remembered in ``memo_dir`` by the file's identity
    (:func:`csc_outcomes.reporting.file_memo.remembered`); None when there is no file.

    Digests of a national warehouse take many seconds; a rerun with nothing changed must
    not pay them again. ``log`` says when one is worked out, and how long it took
    (``what`` names it): a new month's run would otherwise be silent for its first minute.
    """
    if not path.is_file():
        return None

    def compute_and_say() -> Any:
        if log is None:
            return compute(path)
        log(f"{what or kind}: working it out for {path.name} (kept for the runs after)")
        t0 = time.perf_counter()
        value = compute(path)
        log(f"{what or kind}: done in {time.perf_counter() - t0:.1f} s")
        return value

    return file_memo.remembered(memo_dir, path, {"kind": kind}, compute_and_say)


def sha256_text(text: str) -> str:
    """sha256 of ``text`` as UTF-8."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def file_record(path: str | Path, base: str | Path | None = None) -> dict[str, Any]:
    """{path, sha256, bytes} for one file; ``path`` relative to ``base`` when given."""
    p = Path(path)
    shown = p
    if base is not None:
        try:
            shown = p.resolve().relative_to(Path(base).resolve())
        except ValueError:
            shown = p
    return {"path": shown.as_posix(), "sha256": sha256_file(p), "bytes": p.stat().st_size}


#: The files whose content pins the code of a run (``tree_hash``).
CODE_PATTERNS = ("*.py", "*.ipynb", "*.yaml", "*.yml", "*.j2", "*.css", "*.typ")


def tree_hash(folders: Iterable[str | Path], patterns: Sequence[str] = CODE_PATTERNS) -> str:
    """sha256 over the relative paths and contents of the matching files under ``folders``."""
    h = hashlib.sha256()
    for name in folders:
        folder = Path(name)
        if not folder.is_dir():
            continue
        files = sorted({f for pat in patterns for f in folder.rglob(pat)
                        if "__pycache__" not in f.parts and ".ipynb_checkpoints" not in f.parts})
        for f in files:
            h.update(f.relative_to(folder.parent).as_posix().encode())
            h.update(b"\0")
            h.update(f.read_bytes())
            h.update(b"\0")
    return h.hexdigest()


def git_commit(repo: str | Path | None = None) -> dict[str, Any] | None:
    """The HEAD commit and whether the tree is dirty; None without git or commits.

    Read-only: ``rev-parse`` and ``--no-optional-locks status`` never write.
    """
    repo = Path(repo) if repo is not None else repo_root()
    try:
        head = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True,
                              text=True, timeout=20, check=False)
        if head.returncode != 0:
            return None
        status = subprocess.run(["git", "--no-optional-locks", "-C", str(repo), "status",
                                 "--porcelain", "--untracked-files=no"],
                                capture_output=True, text=True, timeout=60, check=False)
        return {"commit": head.stdout.strip(),
                "dirty": bool(status.stdout.strip()) if status.returncode == 0 else None}
    except (OSError, subprocess.SubprocessError):
        return None


def code_version(repo: str | Path | None = None) -> dict[str, Any]:
    """The package version, ``tree_hash`` of ``lib/`` and ``notebooks/``, and the git commit."""
    repo = Path(repo) if repo is not None else repo_root()
    out: dict[str, Any] = {"package_version": __version__,
                           "tree_hash": tree_hash([repo / "lib" / "csc_outcomes", repo / "notebooks"])}
    git = git_commit(repo)
    if git:
        out.update(git)
    else:
        out["commit"] = None
    return out


def package_versions(names: Iterable[str] = PACKAGES) -> dict[str, str | None]:
    """Python's version and each distribution's (None when not installed)."""
    return library_versions(names)


# volatile bits in text outputs: memory addresses, temp paths, timings
_VOLATILE = [
    (re.compile(r"0x[0-9a-fA-F]{6,}"), "0x…"),
    (re.compile(r"/tmp/[^\s'\"<>]+"), "/tmp/…"),
]


def notebook_text_outputs(path_or_nb: Any) -> list[str]:
    """The text outputs of an executed notebook, in order: ``text/plain``, ``text/html``,
    ``text/markdown`` and stdout, with volatile bits (addresses, temp paths) masked.
    Images are left out (their bytes may differ by library version or font cache)."""
    nb = (nbformat.read(str(path_or_nb), as_version=4)
          if isinstance(path_or_nb, (str, Path)) else path_or_nb)
    texts = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        tags = set(cell.get("metadata", {}).get("tags", []))
        if "injected-parameters" in tags:
            continue  # paths differ between a run and its reproduction
        for out in cell.get("outputs", []):
            kind = out.get("output_type")
            if kind == "stream" and out.get("name") == "stdout":
                texts.append(out.get("text", ""))
            elif kind in ("execute_result", "display_data"):
                data = out.get("data", {})
                for mime in ("text/html", "text/markdown", "text/plain"):
                    if mime in data:
                        val = data[mime]
                        texts.append("".join(val) if isinstance(val, list) else str(val))
                        break
    return [mask_volatile(t) for t in texts]


def mask_volatile(text: str) -> str:
    """``text`` with memory addresses and temporary paths masked (they differ run to run)."""
    for pat, rep in _VOLATILE:
        text = pat.sub(rep, text)
    return text


def notebook_content_hash(path_or_nb: Any) -> str:
    """sha256 of ``notebook_text_outputs`` (what ``reproduce`` compares)."""
    return sha256_text("\n\x1e\n".join(notebook_text_outputs(path_or_nb)))


def now_iso() -> str:
    """Now, in local time with its offset, to the second."""
    return dt.datetime.now(dt.UTC).astimezone().isoformat(timespec="seconds")


def platform_record() -> dict[str, str]:
    """The operating system and Python the run used (no path: not the interpreter's)."""
    return {"system": platform.system(), "release": platform.release(),
            "machine": platform.machine(), "python": platform.python_version(),
            "implementation": platform.python_implementation()}


def build_manifest(*, run_id: str, started: str, finished: str, status: str, period_end: str,
                   la_codes: list[str], notebooks: list[str], formats: list[str], renderer: str,
                   options: dict[str, Any], inputs: Mapping[str, Any] | Sequence[Any],
                   runs: list[dict[str, Any]], outputs: list[dict[str, Any]],
                   restricted_outputs: list[dict[str, Any]], timings: dict[str, Any],
                   failures: list[str] | None = None, leaks: list[str] | None = None,
                   measures: Mapping[str, Any] | None = None,
                   coverage: Mapping[str, Any] | None = None,
                   renderer_version: str | None = None) -> dict[str, Any]:
    """Assemble the manifest dictionary (see the module docstring for the fields)."""
    return {
        "manifest_version": MANIFEST_VERSION,
        "tool": "csc-outcomes",
        "run_id": run_id,
        "status": status,
        "started": started,
        "finished": finished,
        "period_end": period_end,
        "la_codes": la_codes,
        "notebooks": notebooks,
        "formats": formats,
        "renderer": renderer,
        "renderer_version": renderer_version,
        "options": options,
        "inputs": inputs,
        "measures": measures or {},
        "coverage": coverage or {},
        "runs": runs,
        "outputs": outputs,
        "restricted_outputs": restricted_outputs,
        "code_version": code_version(),
        "packages": package_versions(),
        "platform": platform_record(),
        "timings": timings,
        "failures": failures or [],
        "leaks": leaks or [],
    }


#: An absolute POSIX path inside a text: a ``/`` that does not follow a word, a dot, a
#: colon or another slash (so not ``and/or``, ``31/03/2025``, ``../x`` or a URL).
ABSOLUTE_PATH = re.compile(r"(?<![\w.:/~-])/(?:[\w.+@%=~-]+/?)+")


#: How a manifest names a file of the kit itself (its notebooks, its parameters) that
#: lies outside the project: ``kit:notebooks/cohort_outcomes.ipynb``.
KIT = "kit:"


def relative(path: str | Path, base: str | Path) -> str:
    """``path`` relative to ``base``, POSIX style: ``kit:...`` for the kit's own files
    outside ``base`` (where the kit is installed says nothing about the data), else
    with ``..`` where it lies outside ``base``."""
    target, base = Path(os.path.abspath(path)), Path(os.path.abspath(base))
    kit = repo_root()
    if not target.is_relative_to(base) and target.is_relative_to(kit):
        return KIT + target.relative_to(kit).as_posix()
    return Path(os.path.relpath(target, base)).as_posix()


def resolve(recorded: str, project: str | Path) -> Path:
    """The file a manifest's relative path names: inverse of :func:`relative`."""
    if recorded.startswith(KIT):
        return repo_root() / recorded[len(KIT):]
    return Path(project) / recorded


def without_absolute_paths(value: Any, base: Path) -> Any:
    """``value`` with every absolute path in every string made relative to ``base``."""
    if isinstance(value, str):
        return ABSOLUTE_PATH.sub(lambda m: relative(m.group(0), base), value)
    if isinstance(value, Mapping):
        return {k: without_absolute_paths(v, base) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [without_absolute_paths(v, base) for v in value]
    return value


def project_of(manifest_path: str | Path, period_end: str) -> Path:
    """The project folder of a manifest kept under ``<tree>/<period_end>/``: the tree's
    parent (``reports/<period>/manifest.json``, ``.../runs/<id>.json``, the staged one in
    ``restricted/<period>/.run-<id>/``). A hidden folder holding the period's folder is
    a run's work folder beside the tree (``reports/.publish-<id>/<period>/``) and is
    seen through. The manifest's own folder when it lies elsewhere."""
    path = Path(manifest_path).absolute()
    for parent in path.parents:
        if parent.name == period_end:
            tree = parent.parent
            return tree.parent.parent if tree.name.startswith(".") else tree.parent
    return path.parent


def write_manifest(path: str | Path, manifest: Mapping[str, Any]) -> Path:
    """Write the manifest as JSON, atomically (a reader never sees half of one), with
    every path relative to its project folder (:func:`project_of`)."""
    base = project_of(path, str(manifest.get("period_end", "")))
    data = without_absolute_paths(json.loads(json.dumps(manifest, default=str)), base)
    return atomic.write_text(path, json.dumps(data, indent=2, sort_keys=False) + "\n")


def published_outputs(manifest: dict[str, Any], previous_path: str | Path,
                      reports_dir: str | Path) -> list[dict[str, Any]]:
    """Every file published for the period, with the run that produced it.

    A run may cover some LAs or notebooks only, so the period's ``manifest.json``
    carries forward the records of the earlier runs (each also kept whole under
    ``runs/<run_id>.json``) for the files this run did not replace and that are still
    there; this run's outputs are added. A research partner reads one file to know
    where every published report came from.
    """
    previous_path = Path(previous_path)
    records: dict[str, dict[str, Any]] = {}
    if previous_path.is_file():
        try:
            earlier = read_manifest(previous_path)
        except (ValueError, json.JSONDecodeError):
            earlier = {}
        for rec in earlier.get("published", earlier.get("outputs", [])):
            records[rec["path"]] = {**rec, "run_id": rec.get("run_id", earlier.get("run_id"))}
    for rec in manifest.get("outputs", []):
        records[rec["path"]] = {**rec, "run_id": manifest["run_id"]}
    root = Path(reports_dir)
    return [records[k] for k in sorted(records) if (root / k).is_file()]


def read_manifest(path: str | Path) -> dict[str, Any]:
    """A run manifest; ``ValueError`` when the JSON is not one of ours."""
    with open(path, encoding="utf-8") as fh:
        data = json.load(fh)
    if data.get("tool") != "csc-outcomes" or "manifest_version" not in data:
        raise ValueError(f"{path} is not a csc-outcomes run manifest")
    return data


def verify_outputs(manifest: dict[str, Any], reports_dir: str | Path) -> dict[str, list[str]]:
    """Check the published files still match the manifest: {'ok', 'changed', 'missing'}."""
    res: dict[str, list[str]] = {"ok": [], "changed": [], "missing": []}
    for rec in manifest.get("outputs", []):
        p = Path(reports_dir) / rec["path"]
        if not p.is_file():
            res["missing"].append(rec["path"])
        elif sha256_file(p) != rec["sha256"]:
            res["changed"].append(rec["path"])
        else:
            res["ok"].append(rec["path"])
    return res


# The records a run puts in its manifest.
def period_rows_hash(measures: pd.DataFrame, period_end: Any) -> str:
    """sha256 of the period's rows of the measures table, written canonically.

    Every LA's rows for the period are covered, so a reproduction can check the table
    it reads, or recomputes, holds the rows the run used.
    """
    return sha256_text(table.to_csv_text(table.period_rows(measures, period_end)))


#: How the progress lines name the warehouse's content hash.
WAREHOUSE_HASH = "the warehouse's content hash (SHA-256 of every row, for the manifest)"


def warehouse_record(warehouse: Path, project: Path, memo_dir: Path | None = None,
                     log: Callable[[str], None] | None = None) -> dict[str, Any]:
    """What the warehouse was built from: ``files`` (every raw input file, from its
    ``input_files``), ``input_dir`` (when it names it) and ``warehouse`` (its path and
    content hash, :func:`remembered` in ``memo_dir`` when given, said to ``log``). Raises ``OSError`` or
    ``ValueError`` for a warehouse it cannot read."""
    files = wh.read_table(warehouse, wh.INPUT_FILES)
    runs = wh.read_table(warehouse, "ingest_runs")
    named = runs["input_dir"].dropna().tolist() if "input_dir" in runs.columns else []
    return {
        "input_dir": relative(named[-1], project) if named else None,
        "files": [{"la_code": str(r["la_code"]), "path": str(r["path"]),
                   "bytes": int(r["size"]), "sha256": str(r["sha256"])}
                  for r in files.sort_values("path").to_dict("records")],
        "warehouse": {"path": relative(warehouse, project),
                      "content_sha256": (remembered(memo_dir, warehouse, "content",
                                                    wh.content_hash, log, WAREHOUSE_HASH)
                                         if memo_dir
                                         else wh.content_hash(warehouse))},
    }


def input_records(recorded: Mapping[str, Any], notebooks: Iterable[Path],
                  parameter_files: Iterable[Path], project: Path) -> dict[str, Any]:
    """The manifest's ``inputs``: ``recorded`` (:func:`warehouse_record`, taken at the
    run's start) with each source notebook and parameter file (absent ones left out)."""
    def records(paths: Iterable[Path]) -> list[dict[str, Any]]:
        return [file_record(p) | {"path": relative(p, project)} for p in paths if p.is_file()]

    return {**recorded, "notebooks": records(notebooks), "parameters": records(parameter_files)}


def measures_record(rows: pd.DataFrame, period_end: str, *, table_path: Path, snapshot: Path,
                    restricted_dir: Path, project: Path, computed: bool) -> dict[str, Any]:
    """The manifest's ``measures``: the shared table, the run's snapshot of its rows
    (relative to the restricted folder, with the sha256 of its bytes) and the hash of
    the period's rows."""
    return {"table": relative(table_path, project), "computed_by_run": computed,
            "snapshot": relative(snapshot, restricted_dir),
            "sha256": sha256_text(table.to_csv_text(rows)),
            "period_rows_sha256": period_rows_hash(rows, period_end)}


def run_record(result: NotebookResult, restricted_dir: Path) -> dict[str, Any]:
    """One notebook run: LA, parameters, outcome, time and the executed notebook's path."""
    job = result.job
    return {"notebook": job.name, "la_code": job.la_code, "period_end": job.period_end,
            "ok": result.ok, "seconds": round(result.seconds, 3), "error": result.error,
            "parameters": job.parameters,
            "executed": (result.output_path.relative_to(restricted_dir).as_posix()
                         if result.output_path else None)}


def output_records(staging: Path, period_end: str,
                   titles: Mapping[str, str]) -> list[dict[str, Any]]:
    """Each staged file (``<la>/<report>.<fmt>``, or a period's own file such as
    ``workbook.xlsx``, with an empty ``la_code``) as it will be published under the period."""
    records = []
    for p in sorted(f for f in staging.rglob("*") if f.is_file()):
        rel = p.relative_to(staging)
        records.append({"path": f"{period_end}/{rel.as_posix()}",
                        "la_code": rel.parts[0] if len(rel.parts) > 1 else "",
                        "report": p.stem, "title": titles.get(p.stem, p.stem),
                        "format": p.suffix[1:], "sha256": sha256_file(p),
                        "bytes": p.stat().st_size})
    return records


def restricted_output_records(results: Iterable[NotebookResult],
                              restricted_dir: Path) -> list[dict[str, Any]]:
    """Each executed notebook with the hash of its text outputs (what reproduce compares)."""
    records = []
    for r in results:
        if r.output_path is None:
            raise ValueError(f"{r.job.describe()} left no executed notebook")
        records.append({**file_record(r.output_path, restricted_dir),
                        "content_sha256": notebook_content_hash(r.output_path),
                        "la_code": r.job.la_code, "notebook": r.job.name})
    return records
