"""An upload's whole life in the portal, graded for real (nbgrader, sandbox, trusted checks).

The job runs in this process here (`jobs.grade`); the browser tests run it in a real
`lune worker`.
"""

from __future__ import annotations

import json

import pytest
from portalkit import csrf_token, forged, solved

from web.extensions import db
from web.models import Submission
from web.services import jobs

pytestmark = [pytest.mark.notebook, pytest.mark.slow]


def _upload(client, module: str, data: bytes, name: str | None = None):
    from io import BytesIO

    token = csrf_token(client, f"/learn/lune-101/{module}")
    return client.post(
        f"/learn/lune-101/{module}/submit",
        data={"csrf_token": token, "notebook": (BytesIO(data), name or f"{module}.ipynb")},
        content_type="multipart/form-data",
    )


def test_a_solved_notebook_gets_full_marks_and_feedback(client, world, auth):
    auth.login("a@lune.test")
    r = _upload(client, "01-hashing", solved("01-hashing"))
    assert r.status_code == 303
    sub = db.session.scalars(db.select(Submission)).one()
    assert sub.status == "queued" and sub.size == len(solved("01-hashing"))
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "position 1" in page

    assert jobs.grade(sub.id) == "graded"
    db.session.expire_all()
    assert sub.result.score == sub.result.max_score == 12
    page = client.get(f"/submissions/{sub.id}").get_data(as_text=True)
    assert "12 / 12" in page and "sha256_hex" in page
    progress = client.get("/learn/lune-101/progress").get_data(as_text=True)
    assert "12 / 12" in progress and "<svg" in progress
    # A second run of the same job stores nothing new.
    assert jobs.grade(sub.id) == "skipped"


def test_an_always_equal_object_scores_zero_and_no_hidden_test_leaks(client, world, auth):
    auth.login("b@lune.test")
    _upload(client, "01-hashing", forged())
    sub = db.session.scalars(db.select(Submission)).one()
    assert jobs.grade(sub.id) == "graded"
    db.session.expire_all()
    by_function = {ex["function"]: ex for ex in sub.result.exercises}
    assert by_function["sha256_hex"]["score"] == 0
    assert by_function["bit_difference"]["score"] == by_function["bit_difference"]["max_score"]
    page = client.get(f"/submissions/{sub.id}").get_data(as_text=True)
    status = client.get(f"/submissions/{sub.id}/status").get_data(as_text=True)
    for text in (page, status, json.dumps(sub.result.exercises)):
        # The visible test's own traceback may show; nothing of a hidden test ever does.
        assert "BEGIN HIDDEN TESTS" not in text and "SHA256ShortMsg" not in text
        assert "NIST CAVP" not in text


def test_a_late_submission_loses_the_course_penalty(client, world, auth):
    from datetime import timedelta

    from web.models import Module
    from web.models.types import utcnow
    from web.services import cohorts

    module = db.session.scalars(db.select(Module).filter_by(slug="00-onboarding")).one()
    # Due 30 hours ago: two started days late, 10 % a day (course.toml), 15 min grace.
    cohorts.set_due_date(world.cohort1, module, utcnow() - timedelta(hours=30))
    auth.login("a@lune.test")
    _upload(client, "00-onboarding", solved("00-onboarding"))
    sub = db.session.scalars(db.select(Submission)).one()
    assert jobs.grade(sub.id) == "graded"
    db.session.expire_all()
    r = sub.result
    assert r.raw_score == r.max_score
    assert r.late_penalty == pytest.approx(0.2 * r.raw_score)
    assert r.score == pytest.approx(0.8 * r.raw_score)
    course = client.get("/learn/lune-101/").get_data(as_text=True)
    assert "late" in course


def test_an_infrastructure_failure_is_retried_never_scored(app, client, world, auth):
    auth.login("a@lune.test")
    _upload(client, "01-hashing", solved("01-hashing"))
    sub = db.session.scalars(db.select(Submission)).one()
    app.config["COURSES_DIR"] = "/nonexistent"  # the grading host lost its course files
    assert jobs.grade(sub.id) == "retry"
    db.session.expire_all()
    assert sub.status == "retrying" and sub.result is None
    page = client.get(f"/submissions/{sub.id}").get_data(as_text=True)
    assert "Nothing is counted against you" in page
    from portalkit import COURSES

    app.config["COURSES_DIR"] = str(COURSES)
    assert jobs.grade(sub.id) == "graded"
