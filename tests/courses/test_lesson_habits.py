"""Teaching habits of the Lune 101 notebooks that `lune course check` does not look at.

A learner whose visible test fails is told what was expected and what came back; every exercise
is announced by a heading that gives its number and its points (the sum of its two test cells);
every module ends with a "What you learned" recap. Static checks, no kernels.
"""

from __future__ import annotations

import ast
import re

import nbformat
import pytest
from coursekit import COURSE

MODULES = sorted(p.name for p in (COURSE / "source").iterdir() if p.is_dir())
HEADING = re.compile(r"^### Exercise (\d+) — `(\w+)` \((\d+) points?\)$", re.MULTILINE)


def _notebook(module: str):
    return nbformat.read(COURSE / "source" / module / f"{module}.ipynb", as_version=4)


def _grading(cell) -> dict:
    return cell.metadata.get("nbgrader", {})


def bare_asserts(source: str) -> list[int]:
    """Line numbers of the `assert` statements of `source` that carry no message."""
    return [
        node.lineno
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Assert) and node.msg is None
    ]


def exercise_headings(cells) -> list[tuple[int, str, int, int]]:
    """(number, function, points announced, index of the first cell after the heading)."""
    found = []
    for index, cell in enumerate(cells):
        if cell.cell_type == "markdown":
            for match in HEADING.finditer(cell.source):
                found.append((int(match[1]), match[2], int(match[3]), index + 1))
    return found


def exercises(cells) -> list[tuple[str, int, int]]:
    """(function, points of its visible + hidden test cells, index of its solution cell)."""
    points: dict[str, float] = {}
    for cell in cells:
        grading = _grading(cell)
        if grading.get("grade"):
            function = grading["grade_id"].rsplit("_", 1)[0]
            points[function] = points.get(function, 0) + grading.get("points", 0)
    return [
        (_grading(cell)["grade_id"], int(points[_grading(cell)["grade_id"]]), index)
        for index, cell in enumerate(cells)
        if _grading(cell).get("solution") and cell.cell_type == "code"
    ]


def test_bare_asserts_finds_an_assert_without_message():
    assert bare_asserts("assert f(1) == 2\nassert f(2) == 4, 'f(2) should be 4, got 5'") == [1]


def test_headings_are_read_with_their_number_and_points():
    cells = [
        nbformat.v4.new_markdown_cell("Intro\n\n### Exercise 2 — `double` (3 points)"),
        nbformat.v4.new_code_cell("def double(x): ..."),
    ]
    assert exercise_headings(cells) == [(2, "double", 3, 1)]


@pytest.mark.parametrize("module", MODULES)
def test_visible_tests_say_what_was_expected_and_what_came_back(module):
    for cell in _notebook(module).cells:
        grade_id = _grading(cell).get("grade_id", "")
        if grade_id.endswith("_visible"):
            lines = bare_asserts(cell.source)
            assert not lines, f"{module}: {grade_id}: assert without a message on line(s) {lines}"


@pytest.mark.parametrize("module", MODULES)
def test_each_exercise_has_a_numbered_heading_with_its_points(module):
    cells = _notebook(module).cells
    headings = exercise_headings(cells)
    wanted = exercises(cells)
    assert [(n, f, p) for n, f, p, _ in headings] == [
        (number, function, points) for number, (function, points, _) in enumerate(wanted, 1)
    ], f"{module}: exercise headings do not match the exercises (in order, with points)"
    for (_, function, _, after), (_, _, solution_at) in zip(headings, wanted, strict=True):
        assert after <= solution_at, f"{module}: the heading of {function} comes after it"


@pytest.mark.parametrize("module", MODULES)
def test_each_module_ends_with_a_recap(module):
    last_markdown = [c for c in _notebook(module).cells if c.cell_type == "markdown"][-1]
    assert "## What you learned" in last_markdown.source, f"{module}: no closing recap"


REVIEWED = [m for m in MODULES if m < "07"]


@pytest.mark.parametrize("module", REVIEWED)
def test_notebooks_import_the_stable_surface_of_sandbox_chain(module):
    """`from sandbox_chain import X` survives a module moving inside the library."""
    for cell in _notebook(module).cells:
        if cell.cell_type == "code":
            deep = re.findall(r"^\s*(?:from|import) sandbox_chain\.\w+", cell.source, re.M)
            assert not deep, f"{module}: imports a sandbox_chain submodule: {deep}"


@pytest.mark.parametrize("module", REVIEWED)
def test_hidden_test_cells_say_they_run_only_at_grading(module):
    for cell in _notebook(module).cells:
        if _grading(cell).get("grade_id", "").endswith("_hidden"):
            first = cell.source.splitlines()[0]
            assert first.startswith("# HIDDEN TEST — it runs only when your notebook is graded"), (
                f"{module}: {_grading(cell)['grade_id']} does not open with the hidden-test note"
            )
