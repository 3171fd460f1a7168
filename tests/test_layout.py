"""The package tree reads as the flow, and the gates that keep it so.

The kit's steps run one way: synth -> ingest -> warehouse -> measures -> published ->
stats -> reporting -> research -> commands. A module may import from the foundation
(``paths``, ``atomic``, ``calendar``, ``keys``) and from its own or an earlier step,
never from a later one, so that each step can be read (and tested) knowing only what
comes before it. These tests read the source with ``ast``; they import nothing.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "lib" / "csc_outcomes"

FOUNDATION = ("paths", "atomic", "calendar", "keys", "stopping")
#: The steps of the flow, in order. ``cli`` and ``__main__`` gather the commands.
STEPS = ("synth", "ingest", "warehouse", "measures", "published", "stats", "reporting",
         "research", "commands", "cli", "__main__")
#: The longest a function may be (lines, decorators and docstring included).
MAX_FUNCTION_LINES = 80


def module_name(path: Path) -> str:
    """``lib/csc_outcomes/ingest/read.py`` -> ``csc_outcomes.ingest.read``."""
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def rank(module: str) -> int:
    """The step a ``csc_outcomes`` module belongs to: 0 foundation, then 1, 2, ..."""
    parts = module.split(".")
    if len(parts) == 1:
        return 0  # the package itself: __version__ only
    top = parts[1]
    if top in FOUNDATION:
        return 0
    if top not in STEPS:
        raise ValueError(f"{module} belongs to no step: add it to STEPS or FOUNDATION "
                         "(and to docs/architecture.md)")
    return STEPS.index(top) + 1


def sources() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """Every ``csc_outcomes`` module ``path`` imports (at any depth), with its line."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    here = module_name(path).split(".")
    package = here if path.name == "__init__.py" else here[:-1]
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package[: len(package) - node.level + 1] + ([base] if base else []))
            found.append((node.lineno, base))
            found += [(node.lineno, f"{base}.{a.name}") for a in node.names
                      if (PACKAGE.parent / f"{base}.{a.name}".replace(".", "/")).exists()
                      or (PACKAGE.parent / (f"{base}.{a.name}".replace(".", "/") + ".py")).exists()]
    return [(line, m) for line, m in found if m.split(".")[0] == "csc_outcomes"]


def test_every_module_belongs_to_a_step() -> None:
    for path in sources():
        rank(module_name(path))  # raises for a module outside the flow


def test_no_module_imports_from_a_later_step() -> None:
    problems = []
    for path in sources():
        mine = rank(module_name(path))
        for line, target in imported_modules(path):
            if rank(target) > mine:
                problems.append(f"{path.relative_to(ROOT)}:{line} imports {target} "
                                f"(step {STEPS[rank(target) - 1]}, later than its own)")
    assert not problems, "\n".join(problems)


def test_the_layering_check_catches_a_backward_import(tmp_path: Path) -> None:
    """The check above is not vacuous: an ingest module importing reporting is caught."""
    assert rank("csc_outcomes.reporting.run") > rank("csc_outcomes.ingest.pipeline")
    assert rank("csc_outcomes.measures.table") > rank("csc_outcomes.warehouse")
    assert rank("csc_outcomes.calendar") == 0
    with pytest.raises(ValueError, match="no step"):
        rank("csc_outcomes.misc")


def test_functions_are_at_most_a_screen_or_two() -> None:
    long = []
    for path in sources():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                length = (node.end_lineno or node.lineno) - first + 1
                if length > MAX_FUNCTION_LINES:
                    long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} {length}")
    assert not long, "functions over 80 lines (split where the split names a step):\n" + \
        "\n".join(long)


def test_no_private_name_is_imported_from_another_module() -> None:
    problems = []
    for path in sources():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("csc_outcomes"):
                problems += [f"{path.relative_to(ROOT)}:{node.lineno} {node.module}.{a.name}"
                             for a in node.names
                             if a.name.startswith("_") and not a.name.startswith("__")]
    assert not problems, "private names used across modules (make them public):\n" + \
        "\n".join(problems)


def test_checks_raise_errors_not_asserts() -> None:
    """``assert`` vanishes under ``python -O``; a check in lib raises an error instead."""
    found = [f"{p.relative_to(ROOT)}:{n.lineno}" for p in sources()
             for n in ast.walk(ast.parse(p.read_text(encoding="utf-8"))) if isinstance(n, ast.Assert)]
    assert not found, found


def test_project_folders_are_found_in_one_place() -> None:
    climbing = [str(p.relative_to(ROOT)) for p in sources()
                if p.name != "paths.py" and re.search(r"__file__\)?\.\w*\(?\)?\.?parents",
                                                      p.read_text(encoding="utf-8"))]
    assert not climbing, f"use csc_outcomes.paths instead of climbing from __file__: {climbing}"


def test_every_step_package_says_what_comes_in_and_goes_out() -> None:
    for init in PACKAGE.glob("*/__init__.py"):
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
        assert doc and len(doc.split()) >= 12, f"{init.relative_to(ROOT)} needs a docstring"


def tree_paths(block: str) -> set[str]:
    """Paths of the ``.py`` files an indented tree names (two spaces a level).

    Each line is ``<indent><name>[  description]``; a name ending in ``/`` is a folder
    holding the lines indented under it.
    """
    stack: list[tuple[int, str]] = []
    found = set()
    for line in block.splitlines():
        m = re.match(r"^( *)([\w.]+/?)(\s|$)", line)
        if not m:
            continue
        indent, name = len(m.group(1)), m.group(2)
        while stack and stack[-1][0] >= indent:
            stack.pop()
        path = "".join(n for _, n in stack) + name
        if name.endswith("/"):
            stack.append((indent, name))
        elif name.endswith(".py"):
            found.add(path)
    return found


def test_tree_paths_reads_nesting() -> None:
    block = "a/\n  b.py  the b\n  c/\n    d.py\n  e.py\nf.py\n"
    assert tree_paths(block) == {"a/b.py", "a/c/d.py", "a/e.py", "f.py"}


def test_architecture_doc_lists_exactly_the_modules() -> None:
    """``docs/architecture.md`` shows the tree: every module, and no module that is gone."""
    doc = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    block = doc.split("<!-- tree -->")[1].split("<!-- /tree -->")[0]
    shown = tree_paths(block)
    real = {p.relative_to(PACKAGE.parent).as_posix() for p in sources()}
    assert not real - shown, f"modules missing from docs/architecture.md: {sorted(real - shown)}"
    assert not shown - real, f"docs/architecture.md names modules that do not exist: {sorted(shown - real)}"


def test_readme_layout_names_every_package() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("## Layout")[1].split("```")[1]
    for pkg in PACKAGE.iterdir():
        if pkg.is_dir() and (pkg / "__init__.py").exists():
            assert f"{pkg.name}/" in block, f"README's layout block does not show {pkg.name}/"


def test_docs_cite_only_files_in_the_repository() -> None:
    texts = [*ROOT.glob("docs/*.md"), ROOT / "README.md", *sources()]
    bad = [str(p.relative_to(ROOT)) for p in texts if "../shared" in p.read_text(encoding="utf-8")]
    assert not bad, f"these point at ../shared/, which users do not have: {bad}"
