"""Reading the structure of an nbgrader notebook: graded cells, exercises, outputs, errors.

An exercise (see docs/instructor-guide.md) is a top-level function defined in an nbgrader
solution cell, followed by a visible test cell `<fn>_visible` and a hidden test cell
`<fn>_hidden` whose tests sit inside `### BEGIN HIDDEN TESTS` / `### END HIDDEN TESTS`.
Cell metadata follows nbgrader's schema version 3.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbformat import NotebookNode

HIDDEN_BEGIN = "### BEGIN HIDDEN TESTS"
HIDDEN_END = "### END HIDDEN TESTS"
SOLUTION_BEGIN = "### BEGIN SOLUTION"


class NotebookError(Exception):
    """A notebook that cannot be read or whose nbgrader structure is broken (one line)."""


@dataclass(frozen=True)
class GradedCell:
    grade_id: str
    points: float
    source: str
    index: int


@dataclass(frozen=True)
class Exercise:
    function: str
    solution_cell: str  # grade_id of the solution cell defining it


def read_notebook(path: Path) -> NotebookNode:
    """Parse a notebook file; any nbformat/JSON failure becomes one NotebookError line."""
    try:
        return nbformat.read(str(path), as_version=4)
    except Exception as exc:  # nbformat raises many unrelated types on bad input
        raise NotebookError(f"{path.name}: not a readable notebook: {exc}") from None


def nbgrader_meta(cell: NotebookNode) -> dict:
    meta = cell.get("metadata", {}).get("nbgrader")
    return meta if isinstance(meta, dict) else {}


def is_graded(cell: NotebookNode) -> bool:
    return bool(nbgrader_meta(cell).get("grade"))


def is_solution(cell: NotebookNode) -> bool:
    meta = nbgrader_meta(cell)
    return bool(meta.get("solution")) and not meta.get("grade")


def graded_cells(nb: NotebookNode) -> list[GradedCell]:
    out = []
    for i, cell in enumerate(nb.cells):
        if is_graded(cell):
            meta = nbgrader_meta(cell)
            points = meta.get("points", 0)
            out.append(GradedCell(str(meta.get("grade_id", "")), points, cell.source, i))
    return out


def exercises(nb: NotebookNode) -> list[Exercise]:
    """Top-level functions defined in solution cells, in notebook order."""
    found = []
    for cell in nb.cells:
        if cell.cell_type != "code" or not is_solution(cell):
            continue
        try:
            tree = ast.parse(cell.source)
        except SyntaxError as exc:
            grade_id = nbgrader_meta(cell).get("grade_id", "?")
            raise NotebookError(f"solution cell {grade_id}: syntax error: {exc.msg}") from None
        for node in tree.body:
            if isinstance(node, ast.FunctionDef):
                found.append(Exercise(node.name, str(nbgrader_meta(cell).get("grade_id", ""))))
    return found


def structure_problems(nb: NotebookNode, expected_points: float | None = None) -> list[str]:
    """Everything wrong with the nbgrader structure of a SOURCE notebook (empty = fine)."""
    problems: list[str] = []
    ids: dict[str, int] = {}
    for cell in nb.cells:
        meta = nbgrader_meta(cell)
        if not meta:
            continue
        grade_id = meta.get("grade_id")
        if not grade_id:
            problems.append("an nbgrader cell has no grade_id")
            continue
        ids[grade_id] = ids.get(grade_id, 0) + 1
    problems += [f"grade_id {g!r} is used {n} times" for g, n in ids.items() if n > 1]
    graded = graded_cells(nb)
    for g in graded:
        if isinstance(g.points, bool) or not isinstance(g.points, int | float) or g.points <= 0:
            problems.append(f"graded cell {g.grade_id!r} has no points")
    try:
        exs = exercises(nb)
    except NotebookError as exc:
        return problems + [str(exc)]
    if not exs:
        problems.append("no exercise (no function defined in a solution cell)")
    names = [e.function for e in exs]
    problems += [
        f"exercise {n!r} is defined twice" for n in sorted(set(names)) if names.count(n) > 1
    ]
    by_id = {g.grade_id: g for g in graded}
    for ex in exs:
        visible = by_id.get(f"{ex.function}_visible")
        hidden = by_id.get(f"{ex.function}_hidden")
        if visible is None:
            problems.append(f"exercise {ex.function!r} has no visible test {ex.function}_visible")
        elif HIDDEN_BEGIN in visible.source:
            problems.append(f"{ex.function}_visible contains hidden tests")
        if hidden is None:
            problems.append(f"exercise {ex.function!r} has no hidden test {ex.function}_hidden")
        elif HIDDEN_BEGIN not in hidden.source or HIDDEN_END not in hidden.source:
            problems.append(f"{ex.function}_hidden has no {HIDDEN_BEGIN} region")
    for cell in nb.cells:
        if cell.cell_type == "code" and is_solution(cell):
            problems += _exercise_form_problems(cell.source)
    known = {f"{e.function}_{kind}" for e in exs for kind in ("visible", "hidden")}
    for g in graded:
        if g.grade_id not in known:
            problems.append(f"graded cell {g.grade_id!r} belongs to no exercise")
    total = sum(g.points for g in graded if isinstance(g.points, int | float))
    if expected_points is not None and graded and total != expected_points:
        problems.append(f"notebook has {total:g} points but course.toml says {expected_points:g}")
    return problems


def _exercise_form_problems(source: str) -> list[str]:
    """An exercise keeps a docstring and step comments; only the body is the learner's."""
    lines = source.splitlines()
    begins = [n for n, line in enumerate(lines, start=1) if line.strip() == SOLUTION_BEGIN]
    problems = []
    for node in ast.parse(source).body:
        if not isinstance(node, ast.FunctionDef):
            continue
        name = node.name
        if not ast.get_docstring(node):
            problems.append(f"exercise {name!r} has no docstring")
            continue
        inside = [n for n in begins if node.lineno <= n <= (node.end_lineno or node.lineno)]
        if not inside:
            problems.append(f"exercise {name!r} has no {SOLUTION_BEGIN} region in its body")
            continue
        between = lines[(node.body[0].end_lineno or node.lineno) : inside[0] - 1]
        if not any(line.strip().startswith("#") for line in between):
            problems.append(f"exercise {name!r} has no step comments before its solution")
    return problems


def stored_outputs(nb: NotebookNode) -> list[int]:
    """Indexes of code cells that carry outputs or an execution count."""
    return [
        i
        for i, cell in enumerate(nb.cells)
        if cell.cell_type == "code" and (cell.get("outputs") or cell.get("execution_count"))
    ]


def cell_label(nb: NotebookNode, index: int) -> str:
    grade_id = nbgrader_meta(nb.cells[index]).get("grade_id")
    return f"cell {index}" + (f" ({grade_id})" if grade_id else "")


def cell_errors(cell: NotebookNode) -> list[str]:
    """Exception names of the error outputs of an executed cell."""
    return [o.get("ename", "?") for o in cell.get("outputs", []) if o.get("output_type") == "error"]


def cell_stderr(cell: NotebookNode) -> str:
    return "".join(
        o.get("text", "")
        for o in cell.get("outputs", [])
        if o.get("output_type") == "stream" and o.get("name") == "stderr"
    )
