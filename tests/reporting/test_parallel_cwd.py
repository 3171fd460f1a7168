"""Notebooks run in parallel each in their own folder, and leave the process where it was.

papermill's own ``cwd`` option chdir()s the whole process; with notebooks running in
threads that raced and once left the run resolving paths inside an LA's folder.
"""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest

from csc_outcomes.reporting.papermill_runs import NotebookJob, run_notebooks


@pytest.mark.slow
def test_parallel_notebooks_keep_their_own_folder_and_ours(tmp_path: Path) -> None:
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "language": "python", "display_name": "Python 3"}, "language_info": {"name": "python"}})
    nb.cells = [
        nbformat.v4.new_code_cell("tag = 'x'", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell("import os\nopen('where.txt', 'w').write(os.getcwd() + '|' + tag)"),
    ]
    source = tmp_path / "where.ipynb"
    nbformat.write(nb, source)
    jobs = []
    for la in ("A1", "B2", "C3", "D4"):
        folder = tmp_path / la
        folder.mkdir()
        jobs.append(NotebookJob(notebook=source, la_code=la, period_end="2026-03-31",
                                output_path=folder / "where.ipynb", parameters={"tag": la},
                                cwd=folder))
    before = os.getcwd()
    results = run_notebooks(jobs, max_workers=2, progress=None)
    assert os.getcwd() == before
    assert all(r.ok for r in results), [r.error for r in results]
    for la in ("A1", "B2", "C3", "D4"):
        where, tag = (tmp_path / la / "where.txt").read_text().split("|")
        assert Path(where).resolve() == (tmp_path / la).resolve()
        assert tag == la
