"""`lune course build` / `lune course check` with real kernels and nbgrader.

The checker must be able to fail: a throwaway course holds one good module and one module per
defect; each defect must turn exactly its own column red. Then the real course must pass whole.
"""

from __future__ import annotations

import json

import nbformat
import pytest
from click.testing import CliRunner
from coursekit import (
    COURSE,
    DOUBLE,
    HIDDEN,
    good_cells,
    good_checks,
    graded_cell,
    solution_cell,
    write_course,
)
from nbformat.v4 import new_code_cell, new_output

from grader.course.build import release_notebook
from grader.course.check import CHECKS, check_course
from grader.course.config import load_course
from web.cli import main

pytestmark = [pytest.mark.notebook, pytest.mark.slow]


def _with_output():
    cells = good_cells()
    cells[1].outputs = [new_output("stream", name="stdout", text="stale\n")]
    cells[1].execution_count = 1
    return cells


def _hidden_passes_on_stub():
    cells = good_cells()
    cells[-1] = graded_cell("double_hidden", "### BEGIN HIDDEN TESTS\nassert 2 + 2 == 4\n"
                            "### END HIDDEN TESTS", 2)  # fmt: skip
    return cells


def _no_hidden_test():
    cells = good_cells()[:-1]
    cells[-1] = graded_cell("double_visible", "assert double(2) == 4", 3)
    return cells


def _example_calls_exercise():
    # An ordinary cell that calls the learner's function breaks the learner version.
    return [*good_cells(), new_code_cell("print(double(5))")]


def _wrong_solution():
    cells = good_cells()
    cells[2] = solution_cell("double", DOUBLE.replace("return 2 * x", "return x + x + 1"))
    return cells


def _visible_fails_otherwise():
    # A visible test that errors with something else than NotImplementedError on the stub.
    cells = good_cells()
    cells[3] = graded_cell("double_visible", "assert undefined_name(2) == 4", 1)
    return cells


def _bad_expected_value():
    checks = good_checks("checks-wrong")
    checks["exercises"][0]["cases"][2]["expected"] = -11
    return checks


DEFECTS = {
    # module id: (cells, checks, the one column that must fail)
    "outputs-stored": (_with_output, None, "outputs"),
    "hidden-passes": (_hidden_passes_on_stub, None, "hidden"),
    "no-hidden": (_no_hidden_test, None, "structure"),
    "example-breaks": (_example_calls_exercise, None, "learner"),
    "checks-wrong": (good_cells, _bad_expected_value, "checks"),
    "visible-other-error": (_visible_fails_otherwise, None, "learner"),
}


@pytest.fixture(scope="module")
def defect_reports(tmp_path_factory):
    modules = {"good": (good_cells(), good_checks("good"))}
    for module_id, (cells, checks, _) in DEFECTS.items():
        modules[module_id] = (cells(), checks() if checks else good_checks(module_id))
    modules["solution-wrong"] = (_wrong_solution(), good_checks("solution-wrong"))
    root = write_course(tmp_path_factory.mktemp("defects") / "course", modules)
    reports = check_course(load_course(root), workers=2)
    return {r.module: r for r in reports}


def test_a_good_module_passes_every_check(defect_reports):
    good = defect_reports["good"]
    assert good.ok, good.failures
    assert (good.exercises, good.points) == (1, 3)


@pytest.mark.parametrize("module_id", sorted(DEFECTS))
def test_each_defect_fails_its_own_check(defect_reports, module_id):
    report = defect_reports[module_id]
    expected = DEFECTS[module_id][2]
    assert expected in report.failures, report.failures
    assert "\n" not in report.failures[expected]


def test_the_defects_are_reported_precisely(defect_reports):
    # Each message carries the module's whole failure dict, so a failure explains itself.
    def failures(module_id: str) -> dict[str, str]:
        return defect_reports[module_id].failures

    assert set(failures("outputs-stored")) == {"outputs"}, failures("outputs-stored")
    assert set(failures("hidden-passes")) == {"hidden", "autograde"}, failures("hidden-passes")
    assert "passes on the untouched stub" in failures("hidden-passes")["hidden"]
    assert set(failures("checks-wrong")) == {"checks"}, failures("checks-wrong")
    assert "case 2: expected -11, got -10" in failures("checks-wrong")["checks"]
    assert "fails with NameError" in failures("visible-other-error")["learner"]
    assert "raises NotImplementedError" in failures("example-breaks")["learner"]
    wrong = defect_reports["solution-wrong"].failures
    assert {"source", "autograde", "checks"} <= set(wrong), wrong


def test_check_cli_prints_table_and_exits_nonzero_on_failure(tmp_path):
    root = write_course(
        tmp_path / "c",
        {"good": (good_cells(), good_checks("good")), "bad": (_with_output(), good_checks("bad"))},
    )
    result = CliRunner().invoke(main, ["course", "check", str(root), "--workers", "1"])
    assert result.exit_code == 1
    header = result.output.splitlines()[0].split()
    assert header == ["module", "exercises", "points", *CHECKS, "seconds"]
    assert "FAIL bad: outputs: outputs stored in 1 cell(s): cell 1" in result.output
    assert "1 check(s) failed" in result.output


def test_build_writes_learner_versions_without_solutions_or_hidden_tests(toy_course):
    result = CliRunner().invoke(main, ["course", "build", str(toy_course)])
    assert result.exit_code == 0, result.output
    course = load_course(toy_course)
    nb = nbformat.read(str(release_notebook(course, "m1")), as_version=4)
    text = "\n".join(cell.source for cell in nb.cells)
    assert "raise NotImplementedError()" in text
    assert '"""Return twice x."""' in text and "# Step 1: multiply by two" in text
    assert "return 2 * x" not in text and "BEGIN HIDDEN TESTS" not in text
    assert "double(21)" not in text
    assert [c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells][2:] == [
        "double",
        "double_visible",
        "double_hidden",
    ]
    assert not (toy_course / "gradebook.db").exists(), "build leaves no gradebook behind"


def test_build_and_check_refuse_a_module_without_notebook(tmp_path):
    root = write_course(tmp_path / "c", {"m1": (good_cells(), good_checks("m1"))})
    extra = '[[module]]\nid = "m2"\ntitle = "Two"\ngoals = ["x"]\nminutes = 5\npoints = 3\n'
    (root / "course.toml").write_text((root / "course.toml").read_text() + "\n" + extra)
    course = load_course(root)
    reports = check_course(course, ["m2"], workers=1)
    assert set(reports[0].failures) == set(CHECKS)
    assert "source notebook source/m2/m2.ipynb is missing" in reports[0].failures["outputs"]
    result = CliRunner().invoke(main, ["course", "build", str(root), "--module", "m2"])
    assert result.exit_code != 0 and "is missing" in result.output


def test_the_real_course_passes_lune_course_check():
    """What `make test` relies on: every module of lune-101 is gradable and correct."""
    result = CliRunner().invoke(main, ["course", "check"])
    assert "module(s) checked" in result.output
    assert result.exit_code == 0, result.output
    expected = [m.id for m in load_course(COURSE).modules]
    rows = result.output.splitlines()[2 : 2 + len(expected)]
    assert [row.split()[0] for row in rows] == expected
    assert all(row.count("✓") == 7 for row in rows)


def test_hidden_region_helper_is_what_nbgrader_strips():
    # The fixtures' hidden test uses nbgrader's exact markers (a typo would leak the test).
    assert HIDDEN.startswith("### BEGIN HIDDEN TESTS") and HIDDEN.endswith("### END HIDDEN TESTS")
    assert json.dumps(good_checks("x"))
