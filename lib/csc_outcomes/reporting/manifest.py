"""The run manifest: what went in, what code ran, what came out.

``reports/<period_end>/manifest.json`` records

- ``inputs``: path, size and sha256 of every input file (the warehouse, the measures
  CSV, the parameter files, the source notebooks);
- ``parameters``: the run's options and each notebook run's papermill parameters;
- ``packages``: versions of Python and of the packages the reports depend on;
- ``code_version``: the git commit when ``git rev-parse HEAD`` answers (read-only),
  always with the package version and a sha256 over ``lib/`` and ``notebooks/``
  (``tree_hash``), so an uncommitted tree is still pinned;
- ``outputs``: each published file (path relative to the reports folder), sha256, size;
  ``restricted_outputs``: each executed notebook (relative to the restricted folder)
  with the sha256 of its file and of its *text outputs* (``content_sha256``, see
  ``notebook_content_hash``), which is what ``reproduce`` compares;
- ``timings``: seconds per notebook run and render, and for the whole run.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import platform
import re
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import nbformat
import pandas as pd

from csc_outcomes import __version__, atomic
from csc_outcomes.measures import table
from csc_outcomes.paths import repo_root
from csc_outcomes.reporting.papermill_runs import NotebookResult

MANIFEST_VERSION = 1

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
    out: dict[str, str | None] = {"python": platform.python_version()}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


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


def build_manifest(*, run_id: str, started: str, finished: str, status: str, period_end: str,
                   la_codes: list[str], notebooks: list[str], formats: list[str], renderer: str,
                   options: dict[str, Any], inputs: list[dict[str, Any]],
                   runs: list[dict[str, Any]], outputs: list[dict[str, Any]],
                   restricted_outputs: list[dict[str, Any]], timings: dict[str, Any],
                   failures: list[str] | None = None, leaks: list[str] | None = None,
                   measures: dict[str, Any] | None = None) -> dict[str, Any]:
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
        "options": options,
        "inputs": inputs,
        "measures": measures or {},
        "runs": runs,
        "outputs": outputs,
        "restricted_outputs": restricted_outputs,
        "code_version": code_version(),
        "packages": package_versions(),
        "platform": {"system": platform.system(), "machine": platform.machine(),
                     "python_executable": sys.executable},
        "timings": timings,
        "failures": failures or [],
        "leaks": leaks or [],
    }


def write_manifest(path: str | Path, manifest: Mapping[str, Any]) -> Path:
    """Write the manifest as JSON, atomically (a reader never sees half of one)."""
    return atomic.write_text(path, json.dumps(manifest, indent=2, sort_keys=False, default=str)
                             + "\n")


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
    """sha256 of the period's rows of the measures table, sorted and written canonically.

    ``measures`` as ``measures.table.read`` gives it. Every LA's rows for the period
    are covered, so a reproduction can check the table it reads, or recomputes, is the
    one the run used.
    """
    end = pd.Timestamp(table.parse_period_end(period_end))
    rows = measures[pd.to_datetime(measures["period_end"]) == end]
    rows = rows.sort_values(["la_code", "measure_id"]).reset_index(drop=True)
    return sha256_text(table.to_csv_text(rows))


def input_records(warehouse: Path, measures_path: Path, notebooks: Iterable[Path],
                  parameter_files: Iterable[Path]) -> list[dict[str, Any]]:
    """``file_record`` of each input with its role; absent files are left out."""
    roles = [("warehouse", warehouse), ("measures", measures_path),
             *(("notebook", nb) for nb in notebooks),
             *(("parameters", p) for p in parameter_files)]
    return [{"role": role, **file_record(p)} for role, p in roles if p.is_file()]


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
    """Each staged file (``<la>/<report>.<fmt>``) as it will be published under the period."""
    records = []
    for p in sorted(f for f in staging.rglob("*") if f.is_file()):
        rel = p.relative_to(staging)
        records.append({"path": f"{period_end}/{rel.as_posix()}", "la_code": rel.parts[0],
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
