"""The real course through the sandboxed path: solved notebooks score full marks, untouched 0."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime
from pathlib import Path

import nbformat
import pytest

from grader.cohort import grade_cohort
from grader.course.config import load_course
from grader.job import Submission
from grader.workspace import prepare_module

pytestmark = [pytest.mark.notebook, pytest.mark.slow]

COURSE = Path(__file__).resolve().parents[2] / "courses" / "lune-101"


def _modules() -> list[str]:
    if not (COURSE / "course.toml").exists():
        return []
    data = tomllib.loads((COURSE / "course.toml").read_text())
    return [
        m["id"]
        for m in data.get("module", [])
        if (COURSE / "source" / m["id"] / f"{m['id']}.ipynb").exists()
        and (COURSE / "checks" / f"{m['id']}.json").exists()
    ]


@pytest.mark.parametrize("module", _modules())
def test_solved_scores_full_marks_and_untouched_scores_zero(module, tmp_path):
    course = load_course(COURSE)
    prepare_module(course, course.module(module), tmp_path)
    release = nbformat.read(tmp_path / "release" / module / f"{module}.ipynb", as_version=4)
    solved = (COURSE / "source" / module / f"{module}.ipynb").read_bytes()
    # Submitted a year before any due date, so no late penalty applies.
    when = datetime(2020, 1, 1, tzinfo=UTC)
    report = grade_cohort(
        COURSE,
        module,
        [
            Submission("solved", solved, when),
            Submission("untouched", nbformat.writes(release).encode(), when),
        ],
        workers=2,
        workdir=tmp_path,
        progress=False,
    )
    results = {r.learner: r for r in report.results}
    solved_result, untouched = results["solved"], results["untouched"]
    assert solved_result.status == "graded", solved_result.error
    assert solved_result.max_score > 0
    assert solved_result.score == solved_result.max_score, solved_result.exercises
    assert all(ex["checks_passed"] == ex["checks_total"] for ex in solved_result.exercises)
    assert untouched.score == 0, untouched.exercises
