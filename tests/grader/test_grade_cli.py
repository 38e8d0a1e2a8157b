"""`lune grade` end to end on an LMS zip, with resubmissions counted by the "best" policy."""

from __future__ import annotations

import csv
import io
import json
import shutil
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader.cohort import grade_submission
from web.cli import main

pytestmark = [pytest.mark.notebook, pytest.mark.slow]

FIXTURE = Path(__file__).parent / "fixtures" / "tiny-course"
MODULE = "01-tiny"


@pytest.fixture()
def best_course(tmp_path) -> Path:
    course = tmp_path / "course"
    shutil.copytree(FIXTURE, course)
    toml = course / "course.toml"
    toml.write_text(toml.read_text().replace('resubmission = "latest"', 'resubmission = "best"'))
    return course


def test_grade_zip_counts_the_best_attempt_and_skips_unchanged_on_rerun(best_course, tmp_path):
    good = (FIXTURE / "source" / MODULE / f"{MODULE}.ipynb").read_text()
    half = good.replace("return bytes.fromhex(h)[::-1].hex()", "return h")
    assert half != good
    archive = tmp_path / "cohort.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr(f"{MODULE}_dana_attempt_2026-01-08-10-00-00_{MODULE}.ipynb", good)
        z.writestr(f"{MODULE}_dana_attempt_2026-01-09-10-00-00_{MODULE}.ipynb", half)
        z.writestr(f"{MODULE}_erin_attempt_2026-01-09-11-00-00_{MODULE}.ipynb", half)
    workdir, csv_out, json_out = tmp_path / "work", tmp_path / "g.csv", tmp_path / "g.json"
    args = ["grade", MODULE, "--course", str(best_course), "--submissions", str(archive)]
    args += ["--workdir", str(workdir), "--csv", str(csv_out), "--json", str(json_out)]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 0, res.output
    assert "median" in res.output and "3 graded, 0 unchanged" in res.output
    rows = {r["student_id"]: r for r in csv.DictReader(io.StringIO(csv_out.read_text()))}
    # dana's first attempt (6) beats her later one (3): "best" counts it.
    assert float(rows["dana"]["score"]) == 6 and float(rows["erin"]["score"]) == 3
    assert rows["dana"]["timestamp"].startswith("2026-01-08")
    data = json.loads(json_out.read_text())
    assert len(data["attempts"]) == 3 and len(data["results"]) == 2
    feedback = (workdir / "feedback" / MODULE / "dana.md").read_text()
    assert "Score: **6 / 6**" in feedback
    again = CliRunner().invoke(main, args)
    assert again.exit_code == 0, again.output
    assert "0 graded, 3 unchanged" in again.output


def test_grade_submission_api(tmp_path):
    nb = (FIXTURE / "source" / MODULE / f"{MODULE}.ipynb").read_bytes()
    result = grade_submission(
        FIXTURE,
        MODULE,
        "fay",
        nb,
        timestamp=datetime(2026, 1, 1, tzinfo=UTC),
        workdir=tmp_path / "w",
    )
    assert (result.status, result.score, result.max_score) == ("graded", 6, 6)
    assert [ex["checks_passed"] for ex in result.exercises] == [3, 3]


def test_unsafe_no_sandbox_grades_the_same(tmp_path):
    nb = (FIXTURE / "source" / MODULE / f"{MODULE}.ipynb").read_bytes()
    result = grade_submission(
        FIXTURE,
        MODULE,
        "gus",
        nb,
        timestamp=datetime(2026, 1, 1, tzinfo=UTC),
        workdir=tmp_path / "w",
        sandbox=False,
    )
    assert (result.status, result.score) == ("graded", 6)
