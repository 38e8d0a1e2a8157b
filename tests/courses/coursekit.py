"""Helpers for the course tests: the real course, and small throwaway courses built on purpose
(good or with one defect each) to prove `lune course check` can fail."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ROOT = Path(__file__).resolve().parents[2]
COURSE = ROOT / "courses" / "lune-101"


def solution_cell(grade_id: str, source: str):
    cell = new_code_cell(source)
    cell.metadata["nbgrader"] = {
        "grade": False,
        "grade_id": grade_id,
        "locked": False,
        "schema_version": 3,
        "solution": True,
        "task": False,
    }
    return cell


def graded_cell(grade_id: str, source: str, points: float = 1):
    cell = new_code_cell(source)
    cell.metadata["nbgrader"] = {
        "grade": True,
        "grade_id": grade_id,
        "locked": True,
        "points": points,
        "schema_version": 3,
        "solution": False,
        "task": False,
    }
    return cell


DOUBLE = '''def double(x: int) -> int:
    """Return twice x."""
    # Step 1: multiply by two
    ### BEGIN SOLUTION
    return 2 * x
    ### END SOLUTION
'''
HIDDEN = "### BEGIN HIDDEN TESTS\nassert double(21) == 42\n### END HIDDEN TESTS"


def good_cells() -> list:
    """A minimal correct module: one exercise `double`, 3 points."""
    return [
        new_markdown_cell("# Doubling\nA tiny module."),
        new_code_cell("import math"),
        solution_cell("double", DOUBLE),
        graded_cell("double_visible", "assert double(2) == 4", 1),
        graded_cell("double_hidden", HIDDEN, 2),
    ]


def good_checks(module_id: str) -> dict:
    return {
        "module": module_id,
        "exercises": [
            {
                "function": "double",
                "cells": ["double_visible", "double_hidden"],
                "cases": [
                    {"args": [1], "kwargs": {}, "expected": 2, "source": "arithmetic"},
                    {"args": [0], "kwargs": {}, "expected": 0, "source": "arithmetic"},
                    {"args": [-5], "kwargs": {}, "expected": -10, "source": "arithmetic"},
                ],
            }
        ],
    }


def write_course(root: Path, modules: dict[str, tuple[list, dict | None]], points=3) -> Path:
    """A course directory with one module per entry: id -> (cells, checks or None)."""
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy(COURSE / "nbgrader_config.py", root / "nbgrader_config.py")
    lines = ['id = "toy-course"', 'title = "Toy"', "pass_mark = 50", ""]
    previous: list[str] = []
    for module_id, (cells, checks) in modules.items():
        lines += [
            "[[module]]",
            f'id = "{module_id}"',
            f'title = "Module {module_id}"',
            'goals = ["double numbers"]',
            "minutes = 5",
            f"points = {points}",
            f"prerequisites = {json.dumps(previous[-1:])}",
            "",
        ]
        previous.append(module_id)
        nb = new_notebook(cells=cells)
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
        target = root / "source" / module_id / f"{module_id}.ipynb"
        target.parent.mkdir(parents=True)
        nbformat.write(nb, str(target))
        if checks is not None:
            (root / "checks").mkdir(exist_ok=True)
            (root / "checks" / f"{module_id}.json").write_text(json.dumps(checks))
    (root / "course.toml").write_text("\n".join(lines))
    return root
