"""The instructor's tools: invitations (code, link, CSV), due dates, grid filters, overrides,
regrades and exports — through the pages, as an instructor uses them."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path

import pytest
from portalkit import csrf_token

from web.extensions import db
from web.models import DueDate, GradingResult, Module, ScoreOverride, Submission, User


def _graded(user, module_slug: str, score: float, cohort) -> Submission:
    module = db.session.scalars(db.select(Module).filter_by(slug=module_slug)).one()
    sub = Submission(
        user_id=user.id,
        module_id=module.id,
        cohort_id=cohort.id,
        filename="x.ipynb",
        notebook=b"{}",
        sha256="0" * 64,
        size=2,
        status="graded",
    )
    sub.result = GradingResult(
        status="graded",
        raw_score=score,
        score=score,
        max_score=module.points,
        exercises=[
            {
                "function": "f",
                "score": score,
                "max_score": module.points,
                "checks_passed": 1,
                "checks_total": 2,
            }
        ],
    )
    db.session.add(sub)
    db.session.commit()
    return sub


def test_csv_import_invites_new_learners_and_reports_bad_lines(app, client, world, auth):
    auth.login("inst1@lune.test")
    data = (
        "name,email\nZoé Nouvelle,zoe@lune.test\nAlice Martin,a@lune.test\n"
        "broken line\nC Other,c@lune.test\n,not-an-email\n"
    ).encode()
    token = csrf_token(client, f"/instruct/cohorts/{world.cohort1.id}")
    r = client.post(
        f"/instruct/cohorts/{world.cohort1.id}/import",
        data={"csrf_token": token, "csv_file": (BytesIO(data), "people.csv")},
        content_type="multipart/form-data",
    )
    page = r.get_data(as_text=True)
    assert r.status_code == 200
    assert "1 invited" in page and "1 existing accounts added" in page
    assert "line 4: expected name,email" in page
    assert "line 5" in page and "another cohort" in page  # C is in cohort 2 already
    zoe = db.session.scalars(db.select(User).filter_by(email="zoe@lune.test")).one()
    assert zoe.password_hash == ""  # chooses it from the mailed link
    mails = list((Path(app.config["INSTANCE_PATH"]) / "outbox").glob("*.eml"))
    assert len(mails) == 1 and "/invite/" in mails[0].read_text()


def test_joining_with_an_invite_code(client, world, auth):
    auth.user("new@lune.test", "New Learner")
    auth.login("new@lune.test")
    token = csrf_token(client, "/learn/")
    r = client.post("/learn/join", data={"csrf_token": token, "code": world.cohort2.invite_code})
    assert r.status_code == 303
    assert "Lyon 2027" in client.get("/learn/lune-101/").get_data(as_text=True)
    r = client.post("/learn/join", data={"csrf_token": token, "code": "NOSUCHCODE"})
    assert r.status_code == 400 and "NOSUCHCODE" in r.get_data(as_text=True)


def test_due_dates_all_or_nothing(client, world, auth):
    auth.login("inst1@lune.test")
    url = f"/instruct/cohorts/{world.cohort1.id}/due-dates"
    token = csrf_token(client, f"/instruct/cohorts/{world.cohort1.id}")
    r = client.post(
        url,
        data={
            "csrf_token": token,
            "due-00-onboarding": "2027-01-15T18:00",
            "due-01-hashing": "next tuesday",
        },
    )
    assert r.status_code == 400 and "next tuesday" in r.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count()).select_from(DueDate)) == 0
    r = client.post(url, data={"csrf_token": token, "due-00-onboarding": "2027-01-15T18:00"})
    assert r.status_code == 303
    due = db.session.scalars(db.select(DueDate)).one()
    assert due.due_at == datetime(2027, 1, 15, 18, 0, tzinfo=UTC)


def test_grid_filters_sorts_and_rejects_unknown_values(client, world, auth):
    _graded(world.learner_a, "01-hashing", 6.0, world.cohort1)
    _graded(world.learner_b, "01-hashing", 12.0, world.cohort1)
    auth.login("inst1@lune.test")
    base = f"/instruct/cohorts/{world.cohort1.id}"
    page = client.get(base + "?sort=total").get_data(as_text=True)
    assert page.index("Bruno Petit") < page.index("Alice Martin")
    page = client.get(base + "?module=01-hashing&state=missing").get_data(as_text=True)
    assert "No learner matches" in page
    page = client.get(base + "?module=00-onboarding&state=missing").get_data(as_text=True)
    assert "Alice Martin" in page and "Bruno Petit" in page
    assert client.get(base + "?sort=shoe-size").status_code == 400
    assert client.get(base + "?state=sleeping").status_code == 400
    stats = client.get(base + "/modules/01-hashing").get_data(as_text=True)
    assert "<svg" in stats and "50%" in stats  # one of two learners failed exercise f


@pytest.mark.parametrize(
    "score,reason,words",
    [
        ("13", "valid reason", "between 0 and 12"),
        ("abc", "valid reason", "is not a number"),
        ("5", "no", "at least 5 characters"),
    ],
)
def test_override_needs_a_valid_score_and_a_reason(client, world, auth, score, reason, words):
    sub = _graded(world.learner_a, "01-hashing", 6.0, world.cohort1)
    auth.login("inst1@lune.test")
    url = f"/instruct/cohorts/{world.cohort1.id}/submissions/{sub.id}"
    token = csrf_token(client, url)
    r = client.post(url + "/override", data={"csrf_token": token, "score": score, "reason": reason})
    assert r.status_code == 400 and words in r.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count()).select_from(ScoreOverride)) == 0


def test_override_is_audited_and_counts_everywhere(client, world, auth):
    sub = _graded(world.learner_a, "01-hashing", 6.0, world.cohort1)
    auth.login("inst1@lune.test")
    url = f"/instruct/cohorts/{world.cohort1.id}/submissions/{sub.id}"
    token = csrf_token(client, url)
    r = client.post(
        url + "/override",
        data={"csrf_token": token, "score": "10,5", "reason": "Re-read by hand: right idea."},
    )
    assert r.status_code == 303
    row = db.session.scalars(db.select(ScoreOverride)).one()
    assert (row.before, row.after, row.instructor_id) == (6.0, 10.5, world.instructor1.id)
    rows = list(
        csv.DictReader(
            io.StringIO(
                client.get(f"/instruct/cohorts/{world.cohort1.id}/grades.csv").get_data(
                    as_text=True
                )
            )
        )
    )
    alice = next(r for r in rows if r["email"] == "a@lune.test" and r["assignment"] == "01-hashing")
    assert float(alice["score"]) == 10.5 and float(alice["raw_score"]) == 6.0
    data = json.loads(client.get(f"/instruct/cohorts/{world.cohort1.id}/grades.json").data)
    assert any(g["overridden"] and g["score"] == 10.5 for g in data["grades"])
    auth.logout()
    auth.login("a@lune.test")
    page = client.get(f"/submissions/{sub.id}").get_data(as_text=True)
    assert "Re-read by hand" in page and "10.5" in page


def test_regrade_queues_the_chosen_submissions_again(client, world, auth):
    a1 = _graded(world.learner_a, "01-hashing", 6.0, world.cohort1)
    a2 = _graded(world.learner_a, "00-onboarding", 6.0, world.cohort1)
    b1 = _graded(world.learner_b, "01-hashing", 6.0, world.cohort1)
    auth.login("inst1@lune.test")
    url = f"/instruct/cohorts/{world.cohort1.id}/regrade"
    token = csrf_token(client, f"/instruct/cohorts/{world.cohort1.id}")
    assert (
        client.post(
            url, data={"csrf_token": token, "target": f"learner:{world.learner_a.id}"}
        ).status_code
        == 303
    )
    db.session.expire_all()
    assert [s.status for s in (a1, a2, b1)] == ["queued", "queued", "graded"]
    assert a1.result is None and b1.result is not None
    assert (
        client.post(url, data={"csrf_token": token, "target": "module:01-hashing"}).status_code
        == 303
    )
    db.session.expire_all()
    assert b1.status == "queued"
    # Cohort 2's instructor cannot touch cohort 1.
    auth.logout()
    auth.login("inst2@lune.test")
    token = csrf_token(client, f"/instruct/cohorts/{world.cohort2.id}")
    assert (
        client.post(url, data={"csrf_token": token, "target": "module:01-hashing"}).status_code
        == 404
    )
