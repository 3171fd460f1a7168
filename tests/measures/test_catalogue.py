"""The measure registry: complete, checked, the one place measure metadata is written."""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import pytest

from csc_outcomes import paths
from csc_outcomes.measures import catalogue
from csc_outcomes.measures.base import Context
from csc_outcomes.measures.catalogue import CATALOGUE, Measure, catalogue_frame
from csc_outcomes.measures.periods import make_periods

LIB = paths.repo_root() / "lib" / "csc_outcomes"
REGISTRY = LIB / "measures" / "catalogue.py"


def test_every_catalogue_measure_is_registered_in_order():
    ids = list(CATALOGUE)
    assert len(ids) == 26 and len(set(ids)) == 26
    documented = (paths.repo_root() / "docs" / "measures.md").read_text(encoding="utf-8")
    assert all(f"{m}" in documented for m in ids), "docs/measures.md lists every measure"
    frame = catalogue_frame()
    assert list(frame["measure_id"]) == ids
    assert list(frame["order"]) == list(range(26))
    assert set(frame["group"]) == set(catalogue.GROUPS)
    assert set(frame["level"]) == set(catalogue.LEVELS)
    for m in CATALOGUE.values():
        assert "Catalogue" in (m.function.__doc__ or ""), m.measure_id
        assert m.function.__name__ == m.measure_id
    assert CATALOGUE["cla_long_term_stability"].group == "outcome"
    assert CATALOGUE["cla_3plus_placements"].group == "performance"
    assert CATALOGUE["cla_missing"].group == "outcome"
    assert CATALOGUE["contacts_to_referrals"].kind == "ratio"


def declaration(**changes: object) -> dict[str, object]:
    """The keywords of a valid declaration (``referrals``), with ``changes``."""
    fields = {f.name: getattr(CATALOGUE["referrals"], f.name)
              for f in dataclasses.fields(Measure)}
    return {**fields, **changes}


def test_a_measure_is_declared_with_keywords_only():
    assert Measure(**declaration()) == CATALOGUE["referrals"]
    with pytest.raises(TypeError):
        Measure(*declaration().values())  # type: ignore[misc]


@pytest.mark.parametrize(("field", "value"), [
    ("kind", "percentage"), ("level", "at_school"), ("group", "context"),
    ("polarity", "up"), ("requires", ("cin_episodes", "nope")), ("feeds", ("cin", "nope")),
    ("family", "nope"),
])
def test_bad_metadata_raises_value_error_naming_the_measure(field, value):
    with pytest.raises(ValueError, match=rf"measure 'referrals': {field} \S+ not one of"):
        Measure(**declaration(**{field: value}))


def test_execution_order_runs_families_together_in_catalogue_order_within():
    order = catalogue.execution_order(list(reversed(CATALOGUE)))
    assert sorted(order) == sorted(CATALOGUE)
    families = [CATALOGUE[m].family for m in order]
    runs = [f for i, f in enumerate(families) if i == 0 or f != families[i - 1]]
    assert runs == list(catalogue.FAMILIES)  # each family once, in declared order
    for family in catalogue.FAMILIES:
        members = [m for m in order if CATALOGUE[m].family == family]
        assert members == [m for m in CATALOGUE if m in members]


@pytest.mark.parametrize("measure_id", list(CATALOGUE))
def test_uses_names_every_frame_a_measure_caches(measure_id):
    """What a measure leaves in the context is declared (``Measure.uses``): an
    undeclared frame would be released while its family still needs it."""
    measure = CATALOGUE[measure_id]
    ctx = Context({})
    measure.function(ctx, make_periods(["2024-03-31", "2024-09-30"]))
    assert ctx.cached_names() - {Context.LA_CODES} <= measure.uses


# --------------------------------------------------------------------------- no copies


def other_modules() -> list[Path]:
    return sorted(p for p in LIB.rglob("*.py") if p != REGISTRY)


def string_constants(node: ast.AST) -> set[str]:
    return {n.value for n in ast.walk(node) if isinstance(n, ast.Constant)
            and isinstance(n.value, str)}


IDS = set(CATALOGUE)
LABELS = {m.label for m in CATALOGUE.values()}
VOCABULARIES = [catalogue.LEVELS, catalogue.GROUPS, catalogue.POLARITIES]
WORDS = {k for v in VOCABULARIES for k in v}
DISPLAY = {label for v in VOCABULARIES for label in v.values()}


def metadata_copies(tree: ast.AST, where: str) -> list[str]:
    """Measure metadata in a module's source: a measure's label, a vocabulary's display
    label, a dict keyed by measure ids holding labels or vocabulary words, a dict keyed
    by a vocabulary's words (two or more of one), or a tuple, list or call holding a measure id and such a word."""
    found = string_constants(tree)
    problems = [f"{where}: label {s!r}" for s in sorted(found & (LABELS | DISPLAY))]
    for node in ast.walk(tree):
        here = string_constants(node)
        if isinstance(node, ast.Dict):
            keys = {k.value for k in node.keys if isinstance(k, ast.Constant)}
            vocabulary = any(len(keys & set(v)) > 1 for v in VOCABULARIES)
            if (keys & IDS and here & (WORDS | LABELS)) or vocabulary:
                problems.append(f"{where}:{node.lineno}: a copy of measure metadata")
        elif isinstance(node, ast.Tuple | ast.List | ast.Call) and here & IDS and here & WORDS:
            problems.append(f"{where}:{node.lineno}: a measure id beside {sorted(here & WORDS)}")
    return problems


def test_measure_metadata_is_written_only_in_the_registry():
    """No module but ``catalogue.py`` holds measure metadata (as the fallback catalogue
    ``reporting.plots`` once had, which disagreed with the registry)."""
    problems = []
    for path in other_modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        problems += metadata_copies(tree, str(path.relative_to(LIB.parent)))
    assert not problems, "measure metadata outside the registry:\n" + "\n".join(problems)


@pytest.mark.parametrize("source", [
    'FALLBACK = {"cla_missing": ("in_care", "performance", "Missing", "rate")}',
    'LEVELS = {"at_risk": "At risk", "in_care": "In care"}',
    'POLARITY = "Higher is better"',
    'LABEL = "Children looked after who went missing"',
    'ROW = ("cla_missing", "in_care", "outcome")',
])
def test_the_copy_check_catches_copies(source):
    assert metadata_copies(ast.parse(source), "example.py")


def test_the_copy_check_passes_plain_uses_of_ids_and_words():
    assert not metadata_copies(ast.parse('WANTED = ["referrals", "cla_missing"]'), "x.py")
    assert not metadata_copies(ast.parse('ROW = {"contact_id": 1, "outcome": "NFA"}'), "x.py")


def test_reports_label_from_the_registry():
    from csc_outcomes.reporting import context, plots

    assert context.LEVELS is catalogue.LEVELS and context.GROUPS is catalogue.GROUPS
    assert plots.LEVELS is catalogue.LEVELS and plots.GROUPS is catalogue.GROUPS
    assert not hasattr(plots, "_FALLBACK_CATALOGUE") and not hasattr(context, "POLARITY_WORDS")
    info = context.measure_info()
    assert info.set_index("measure_id")["label"].to_dict() == {
        m.measure_id: m.label for m in CATALOGUE.values()}
