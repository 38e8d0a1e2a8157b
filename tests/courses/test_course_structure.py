"""Fast checks of course content and of the checker's static rules (no kernels).

Bad notebooks are built in temporary directories to prove each rule catches what it should:
stored outputs, an exercise without a hidden test, a hidden test outside its region, missing
points, duplicate grade ids, a checks file that misses an exercise.
"""

from __future__ import annotations

import json

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
from nbformat.v4 import new_code_cell, new_notebook, new_output

from grader.course import notebooks as nbs
from grader.course.checkfile import (
    ChecksFileError,
    decode_value,
    encode_value,
    load_checks,
    values_equal,
)
from grader.course.config import CourseConfigError, load_course
from web.cli import main

CONTRACT_IDS = [
    "00-onboarding",
    "01-hashing",
    "02-blocks-pow",
    "03-merkle",
    "04-keys-signatures",
    "05-addresses",
    "06-transactions-utxo",
    "07-nodes-consensus",
    "08-wallets",
    "09-custody-security",
    "10-regulation-fr-eu",
    "11-careers-capstone",
]


def test_course_toml_lists_the_contract_modules_in_order():
    course = load_course(COURSE)
    assert course.id == "lune-101"
    assert [m.id for m in course.modules] == CONTRACT_IDS
    assert 0 < course.pass_mark <= 100
    for m in course.modules:
        assert m.goals and m.minutes > 0 and m.points > 0


@pytest.mark.parametrize("module_id", CONTRACT_IDS)
def test_every_module_notebook_is_clean_and_well_formed(module_id):
    course = load_course(COURSE)
    nb = nbs.read_notebook(course.source_notebook(module_id))
    assert nbs.stored_outputs(nb) == [], "source notebooks are stored without outputs"
    assert nbs.structure_problems(nb, course.module(module_id).points) == []
    assert len(nbs.exercises(nb)) >= 3
    checks = load_checks(course.checks_file(module_id), module_id)
    assert {c.function for c in checks} == {e.function for e in nbs.exercises(nb)}


def test_checks_files_never_live_where_learner_code_runs():
    for path in (COURSE / "source").rglob("*.json"):
        pytest.fail(f"{path} looks like a checks file inside source/")


# --- the static rules catch broken notebooks ----------------------------------------------


def _nb(cells):
    return new_notebook(cells=cells)


def test_a_stored_output_is_found():
    cells = good_cells()
    cells[1].outputs = [new_output("stream", name="stdout", text="hi\n")]
    cells[1].execution_count = 3
    assert nbs.stored_outputs(_nb(cells)) == [1]
    assert nbs.stored_outputs(_nb(good_cells())) == []


def test_an_exercise_without_hidden_test_is_a_problem():
    cells = good_cells()[:-1]
    assert nbs.structure_problems(_nb(cells)) == [
        "exercise 'double' has no hidden test double_hidden"
    ]


def test_a_hidden_test_outside_its_region_is_a_problem():
    cells = good_cells()
    cells[-1] = graded_cell("double_hidden", "assert double(21) == 42", 2)
    assert nbs.structure_problems(_nb(cells)) == [
        "double_hidden has no ### BEGIN HIDDEN TESTS region"
    ]


def test_duplicate_ids_missing_points_and_orphan_tests_are_problems():
    cells = [
        solution_cell("double", DOUBLE),
        graded_cell("double_visible", "assert double(2) == 4", 0),
        graded_cell("double_hidden", HIDDEN, 2),
        graded_cell("double_hidden", HIDDEN, 2),
        graded_cell("triple_visible", "assert True", 1),
    ]
    problems = nbs.structure_problems(_nb(cells), expected_points=3)
    assert "grade_id 'double_hidden' is used 2 times" in problems
    assert "graded cell 'double_visible' has no points" in problems
    assert "graded cell 'triple_visible' belongs to no exercise" in problems
    assert "notebook has 5 points but course.toml says 3" in problems


@pytest.mark.parametrize(
    "source, problem",
    [
        (
            DOUBLE.replace('    """Return twice x."""\n', ""),
            "exercise 'double' has no docstring",
        ),
        (
            DOUBLE.replace("    # Step 1: multiply by two\n", ""),
            "exercise 'double' has no step comments before its solution",
        ),
        (
            "### BEGIN SOLUTION\n" + DOUBLE.replace("    ### BEGIN SOLUTION\n", ""),
            "exercise 'double' has no ### BEGIN SOLUTION region in its body",
        ),
    ],
)
def test_an_exercise_keeps_docstring_and_step_comments(source, problem):
    cells = good_cells()
    cells[2] = solution_cell("double", source)
    assert nbs.structure_problems(_nb(cells)) == [problem]


def test_a_notebook_without_exercises_is_a_problem():
    assert nbs.structure_problems(_nb([new_code_cell("x = 1")])) == [
        "no exercise (no function defined in a solution cell)"
    ]


# --- checks files ---------------------------------------------------------------------------


def test_values_encode_and_compare_exactly():
    value = {"h": b"\x00\xff", "t": (1, [b"a"]), "n": None}
    encoded = encode_value(value)
    assert encoded == {"h": {"$bytes": "00ff"}, "t": [1, [{"$bytes": "61"}]], "n": None}
    assert json.loads(json.dumps(encoded)) == encoded
    assert decode_value(encoded) == {"h": b"\x00\xff", "t": [1, [b"a"]], "n": None}
    assert values_equal(1, 1) and not values_equal(True, 1) and not values_equal(1, 1.0)
    assert values_equal(0.30000000000000004, 0.3, tolerance=1e-9)
    assert not values_equal([1, 2], [1, 2, 3])
    with pytest.raises(TypeError):
        encode_value(object())


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda d: d.update(module="other"), "\"module\" must be 'm1'"),
        (lambda d: d.update(exercises=[]), '"exercises" must be a non-empty list'),
        (lambda d: d["exercises"][0]["cases"].pop(), "needs at least 3 cases"),
        (lambda d: d["exercises"][0].update(cells=["double_visible"]), '"cells" must be'),
        (lambda d: d["exercises"][0]["cases"][0].pop("source"), 'must name its "source"'),
        (lambda d: d["exercises"][0]["cases"][1].pop("expected"), 'has no "expected"'),
        (lambda d: d["exercises"].append(d["exercises"][0]), "listed twice: double"),
    ],
)
def test_malformed_checks_files_are_one_line_errors(tmp_path, mutate, message):
    data = good_checks("m1")
    mutate(data)
    path = tmp_path / "m1.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ChecksFileError) as err:
        load_checks(path, "m1")
    assert message in str(err.value) and "\n" not in str(err.value)


def test_missing_or_invalid_checks_file(tmp_path):
    with pytest.raises(ChecksFileError, match="m1.json: missing"):
        load_checks(tmp_path / "m1.json", "m1")
    (tmp_path / "m1.json").write_text("{not json")
    with pytest.raises(ChecksFileError, match="not valid JSON"):
        load_checks(tmp_path / "m1.json", "m1")


# --- course.toml validation -----------------------------------------------------------------

GOOD_MODULE = """
[[module]]
id = "m1"
title = "One"
goals = ["learn"]
minutes = 10
points = 3
prerequisites = []
"""


@pytest.mark.parametrize(
    "toml, message",
    [
        ('title = "T"\npass_mark = 50\n' + GOOD_MODULE, "id: missing"),
        ('id = "c"\ntitle = "T"\npass_mark = 150\n' + GOOD_MODULE, "pass_mark: must be between"),
        ('id = "c"\ntitle = "T"\npass_mark = 50\n', "at least one [[module]]"),
        (
            'id = "c"\ntitle = "T"\npass_mark = 50\n' + GOOD_MODULE.replace("10", '"ten"'),
            "module[0]: minutes: must be a number",
        ),
        (
            'id = "c"\ntitle = "T"\npass_mark = 50\n' + GOOD_MODULE + GOOD_MODULE,
            "duplicate module id 'm1'",
        ),
        (
            'id = "c"\ntitle = "T"\npass_mark = 50\n' + GOOD_MODULE.replace("[]", '["m9"]'),
            "'m9' is not an earlier module",
        ),
        (
            'id = "c"\ntitle = "T"\npass_mark = 50\nresubmission = "first"\n' + GOOD_MODULE,
            "resubmission: must be one of latest, best",
        ),
        (
            'id = "c"\ntitle = "T"\npass_mark = 50\n' + GOOD_MODULE + 'due = "2026-12-01T10:00"\n',
            "due: must be an ISO-8601 datetime with a timezone",
        ),
        (
            'id = "c"\ntitle = "T"\npass_mark = 50\n[late_policy]\nper = "week"\n' + GOOD_MODULE,
            "late_policy: per: must be one of day, hour",
        ),
        ('id = "c"\ntitle = "T"\npass_mark = 50\nmodule = [\n', "not valid TOML"),
    ],
)
def test_course_toml_errors_are_one_line(tmp_path, toml, message):
    (tmp_path / "course.toml").write_text(toml)
    with pytest.raises(CourseConfigError) as err:
        load_course(tmp_path)
    assert message in str(err.value), str(err.value)
    assert "\n" not in str(err.value)


def test_module_with_due_date_and_late_policy_loads(tmp_path):
    text = 'id = "c"\ntitle = "T"\npass_mark = 50\n' + GOOD_MODULE
    text += 'due = 2026-12-01T18:00:00+01:00\n[module.late_policy]\nper = "hour"\npercent = 5\n'
    (tmp_path / "course.toml").write_text(text)
    module = load_course(tmp_path).module("m1")
    assert module.due.utcoffset().total_seconds() == 3600
    assert module.late_policy.per == "hour" and module.late_policy.percent == 5


def test_cli_reports_a_bad_course_in_one_line(tmp_path):
    runner = CliRunner()
    result = runner.invoke(main, ["course", "check", str(tmp_path / "nowhere")])
    assert result.exit_code != 0
    assert "no course" in result.output and result.output.count("\n") == 1
    (tmp_path / "course.toml").write_text('id = "c"\n')
    result = runner.invoke(main, ["course", "build", str(tmp_path)])
    assert result.exit_code != 0 and "title: missing" in result.output


def test_cli_rejects_an_unknown_module(toy_course):
    result = CliRunner().invoke(main, ["course", "check", str(toy_course), "--module", "m9"])
    assert result.exit_code != 0
    assert "no module 'm9' (modules: m1)" in result.output


def test_toy_course_helper_writes_what_the_checker_reads(toy_course):
    course = load_course(toy_course)
    assert [m.id for m in course.modules] == ["m1"]
    nb = nbs.read_notebook(course.source_notebook("m1"))
    assert nbs.structure_problems(nb, 3) == []
    write_course(toy_course.parent / "two", {"a": (good_cells(), None), "b": (good_cells(), None)})
    assert load_course(toy_course.parent / "two").module("b").prerequisites == ("a",)


def test_in_process_alembic_head_is_what_nbgrader_stamps(tmp_path):
    import sqlite3

    from nbgrader.api import get_alembic_version

    from grader.course.assignments import alembic_head, create_gradebook, ensure_venv_on_path

    ensure_venv_on_path()
    assert alembic_head() == get_alembic_version()  # the latter runs `alembic heads`
    create_gradebook(tmp_path / "g.db", "c")
    with sqlite3.connect(tmp_path / "g.db") as db:
        (version,) = db.execute("SELECT version_num FROM alembic_version").fetchone()
    assert version == alembic_head()
