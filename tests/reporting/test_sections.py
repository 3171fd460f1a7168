"""Report sections: worked out ahead by the run, shown by the notebook, the same either way.

A notebook shows a prepared section only from a file that is this user's alone and was
made for its own parameters; anything else and it works the section out itself.
"""

from __future__ import annotations

import base64
import json
import os
import re
from pathlib import Path

import nbformat
import pytest
from IPython.display import Image, Markdown

from csc_outcomes.reporting import outputs
from csc_outcomes.reporting.sections import Report, prepared, show
from csc_outcomes.reporting.sections.report import as_json

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
SHOWN = re.compile(r"^show\(report, sections\.(\w+)\)$")
PARAMS = {"la_code": "SYN01", "period_end": "2026-03-31", "comparators": ["SYN02"],
          "suppression_threshold": 5, "model_keys": {"rereferral": "ab12"}}
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
       b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8"
       b"N\x00\x00\x00\x00IEND\xaeB`\x82")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_each_notebook_shows_every_section_of_its_module_once_in_order(path: Path) -> None:
    module = prepared.sections_of(path.stem)
    assert module is not None, f"no sections module for {path.name}"
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert "parameters" in code[0].metadata.get("tags", [])
    assert re.search(r'^prepared = ""', code[0].source, re.MULTILINE), "the run passes `prepared`"
    assert f"from csc_outcomes.reporting.sections import {path.stem} as sections" in code[1].source
    shown = []
    for cell in code[2:]:
        lines = [ln for ln in cell.source.splitlines() if not ln.startswith("#|")]
        match = SHOWN.match("\n".join(lines))
        assert match, f"{path.name}: a cell that is not one section: {cell.source!r}"
        shown.append(match.group(1))
    assert shown == [f.__name__ for f in module.SECTIONS]


def test_a_notebook_without_a_module_of_sections_has_none() -> None:
    assert prepared.sections_of("an_las_own_notebook") is None


def marker(text: str) -> outputs.Bundle:
    return {"data": {"text/markdown": text, "text/plain": "<md>"}, "metadata": {}}


def headlines(r: Report) -> None:
    """A section worked out here: says so."""
    outputs.show(Markdown(f"worked out here for {r.la_code}"))


@pytest.fixture
def published(monkeypatch) -> list[outputs.Bundle]:
    """What ``show`` publishes to the notebook."""
    seen: list[outputs.Bundle] = []
    monkeypatch.setattr(outputs, "publish", seen.extend)
    return seen


def write_prepared(path: Path, parameters: dict, sections: dict, **extra) -> Path:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.write_text(json.dumps({"format": prepared.FORMAT, "notebook": "rereferrals",
                                "parameters": as_json(parameters), "sections": sections, **extra}))
    path.chmod(0o600)
    return path


def test_a_prepared_section_is_shown_as_the_run_worked_it_out(tmp_path, published) -> None:
    path = write_prepared(tmp_path / "p" / "SYN01" / "rereferrals.json", PARAMS,
                          {"headlines": [marker("from the prepare stage")]})
    show(Report(dict(PARAMS), str(path)), headlines)
    assert [b["data"]["text/markdown"] for b in published] == ["from the prepare stage"]


def spoil_parameters(path: Path) -> None:
    record = json.loads(path.read_text())
    record["parameters"]["comparators"] = ["SYN03"]
    path.write_text(json.dumps(record))


def truncate(path: Path) -> None:
    path.write_text(path.read_text()[:40])


def another_format(path: Path) -> None:
    record = json.loads(path.read_text())
    record["format"] = prepared.FORMAT + 1
    path.write_text(json.dumps(record))


def malformed(path: Path) -> None:
    record = json.loads(path.read_text())
    record["sections"]["headlines"] = ["<b>not a bundle</b>"]
    path.write_text(json.dumps(record))


@pytest.mark.parametrize("spoil", [spoil_parameters, truncate, another_format, malformed,
                                   lambda p: p.chmod(0o666), lambda p: p.parent.chmod(0o777),
                                   lambda p: p.unlink()],
                         ids=["other parameters", "damaged", "another format", "not bundles",
                              "others can write it", "others can write its folder", "gone"])
def test_a_prepared_file_not_made_for_this_notebook_is_not_shown(tmp_path, published,
                                                                  spoil) -> None:
    path = write_prepared(tmp_path / "p" / "SYN01" / "rereferrals.json", PARAMS,
                          {"headlines": [marker("planted")]})
    spoil(path)
    show(Report(dict(PARAMS), str(path)), headlines)
    assert [b["data"]["text/markdown"] for b in published] == ["worked out here for SYN01"]


def test_without_a_prepared_file_each_section_is_worked_out_when_shown(published) -> None:
    report = Report(dict(PARAMS))
    show(report, headlines)
    show(report, headlines)
    assert [b["data"]["text/markdown"] for b in published] == ["worked out here for SYN01"] * 2


def test_a_captured_output_is_the_bundle_display_would_publish() -> None:
    with outputs.captured() as kept:
        outputs.show(Markdown("**2** of 7"))
        outputs.show(Image(data=PNG, format="png"), metadata={"image/png": {"alt": "A chart"}})
    md, img = kept
    assert md["data"]["text/markdown"] == "**2** of 7"
    assert img["data"]["image/png"] == base64.b64encode(PNG).decode("ascii")
    assert img["metadata"]["image/png"]["alt"] == "A chart"
    json.dumps(kept)  # a prepared file is JSON


def test_outside_a_capture_an_output_is_published_at_once(published) -> None:
    outputs.show(Markdown("now"))
    assert [b["data"]["text/markdown"] for b in published] == ["now"]


def test_a_notebooks_parameters_are_read_from_its_namespace() -> None:
    namespace = {**PARAMS, "prepared": "/x/y.json", "pd": object(), "report": None}
    report = Report.from_namespace(namespace)
    assert report.parameters == PARAMS and report.prepared == "/x/y.json"


def test_prepare_writes_an_owner_only_file_of_every_section(tmp_path, monkeypatch) -> None:
    from csc_outcomes.reporting.sections import rereferrals

    names = [f.__name__ for f in rereferrals.SECTIONS]
    fakes = []
    for name in names:
        fake = (lambda r, n=name: outputs.show(Markdown(f"{n} for {r.la_code}")))
        fake.__name__ = name
        fakes.append(fake)
    monkeypatch.setattr(rereferrals, "SECTIONS", tuple(fakes))
    path = prepared.prepare("rereferrals", PARAMS, tmp_path / "shared" / "prepared" / "SYN01" / "r.json")
    assert oct(os.stat(path).st_mode & 0o777) == "0o600"
    record = json.loads(path.read_text())
    assert record["parameters"] == as_json(PARAMS)
    assert list(record["sections"]) == names
    assert record["sections"]["headlines"][0]["data"]["text/markdown"] == "headlines for SYN01"
