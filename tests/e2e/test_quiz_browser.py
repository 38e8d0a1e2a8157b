"""A timed certification attempt in Chromium: started, two answers given (saved by the page's
script as they change), the page closed, the time run out, the attempt submitted by the server
with the saved answers, the score shown; and a second learner who sees none of the first
learner's keys in any response.

The portal runs in this process (Werkzeug's threaded server on a loopback port) so the test owns
its clock (`QUIZ_CLOCK`): the 45 minutes pass in an instant. Screenshots: build/screenshots/quiz-*.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import socket
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from werkzeug.serving import make_server

pytestmark = [pytest.mark.browser, pytest.mark.network]

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "build" / "screenshots"
PASSWORD = "correct horse battery"


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now


def _shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"quiz-{name}.png"))  # the viewport: what a learner sees first


@pytest.fixture
def portal(template_db_e2e, tmp_path):
    """The portal on a copy of the template database, served on 127.0.0.1 with a test clock."""
    from web import create_app

    instance = tmp_path / "instance"
    instance.mkdir()
    shutil.copy(template_db_e2e, instance / "portal.db")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    clock = Clock()
    app = create_app(
        {
            "INSTANCE_PATH": str(instance),
            "SECRET_KEY": "quiz-browser-secret",
            "COURSES_DIR": str(ROOT / "courses"),
            "BASE_URL": f"http://127.0.0.1:{port}",
            "REDIS_URL": None,
            "QUIZ_CLOCK": clock,
        }
    )
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    app.test_url = f"http://127.0.0.1:{port}"
    app.clock = clock
    yield app
    server.shutdown()
    thread.join(10)
    with app.app_context():
        from web.extensions import db

        db.session.remove()
        db.engine.dispose()


def _learner(app, email: str, name: str):
    """A learner whose graded notebooks reach the pass mark (rows as the grader stores them)."""
    from web.extensions import db
    from web.models import GradingResult, Module, Submission
    from web.services import accounts

    with app.app_context():
        user = accounts.create_user(email, name, PASSWORD)
        db.session.commit()
        for module in db.session.query(Module).filter_by(course_id="lune-101", active=True):
            sub = Submission(
                user_id=user.id,
                module_id=module.id,
                filename=f"{module.slug}.ipynb",
                notebook=b"{}",
                sha256=hashlib.sha256(b"{}").hexdigest(),
                size=2,
                status="graded",
            )
            sub.result = GradingResult(
                status="graded",
                raw_score=module.points,
                score=module.points,
                max_score=module.points,
            )
            db.session.add(sub)
        db.session.commit()
        return user.id


def _sign_in(browser, app, email: str):
    context = browser.new_context(locale="en-GB")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{app.test_url}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/learn/")
    return context, page, errors


def _answer(page, position: int) -> None:
    """Give some answer to the question shown at `position`, as a learner would."""
    box = page.locator(f"#q{position}")
    kind = box.get_attribute("data-type")
    if kind == "multichoice" or kind == "truefalse":
        # Several-answer questions also carry a hidden field: choose among the visible choices.
        box.locator("input[type=radio], input[type=checkbox]").first.check()
    elif kind == "match":
        for select in box.locator("select").all():
            select.select_option(index=1)
    else:
        box.locator("input[type=text], textarea").first.fill("42")


def _saved(page) -> None:
    """Wait for the page's script to report the autosave (a selector: the CSP forbids eval)."""
    from playwright.sync_api import expect

    expect(page.locator("#save-status")).to_have_text("Saved", timeout=10_000)


def _secrets(question) -> list[str]:
    out = [
        question.general_feedback.text,
        question.feedback_right.text,
        question.feedback_wrong.text,
    ]
    out += [c.feedback.text for c in question.choices]
    out += [a.feedback.text for a in question.alternatives]
    out += [n.feedback.text for n in question.numbers]
    return [t for t in out if len(t) > 12]


def test_timed_attempt_runs_out_and_keys_stay_private(chromium, portal):
    from web.extensions import db
    from web.models import QuizAttempt
    from web.services import certify

    a_id = _learner(portal, "ana@lune.test", "Ana Lopez")
    _learner(portal, "ben@lune.test", "Ben Keller")

    context, page, errors = _sign_in(chromium, portal, "ana@lune.test")
    page.goto(f"{portal.test_url}/certify/lune-101/")
    _shot(page, "1-quizzes")
    page.locator("form[action$='/certification/start'] button").click()
    page.wait_for_selector("#timer")
    assert "45:00" in page.inner_text("#timer")
    _answer(page, 0)
    _saved(page)
    _answer(page, 1)
    page.wait_for_timeout(500)  # the script saves 0.4 s after the last change
    _saved(page)
    _shot(page, "2-attempt-two-answers")
    attempt_url = page.url
    context.close()  # the learner closes the page

    with portal.app_context():
        attempt = db.session.query(QuizAttempt).filter_by(user_id=a_id).one()
        saved = [s.response is not None for s in attempt.slots]
        assert saved[:2] == [True, True] and not any(saved[2:])
        portal.clock.now += timedelta(minutes=45, seconds=31)  # time and grace run out
        assert certify.settle_overdue() == 1  # the worker's sweep: no browser involved
        db.session.expire_all()
        attempt = db.session.get(QuizAttempt, attempt.id)
        assert attempt.autosubmitted and attempt.submitted_at == attempt.deadline
        expected = sum(s.mark or 0 for s in attempt.slots[:2])
        assert attempt.score == pytest.approx(expected)
        questions = certify.course_quizzes("lune-101").questions("en")
        secrets = [t for s in attempt.slots for t in _secrets(questions[s.question_id])]
        shown = [
            t
            for s in attempt.slots
            for q in [questions[s.question_id]]
            for t in [q.text.text, *(c.text.text for c in q.choices)]
        ]
        db.session.remove()

    context, page, errors_again = _sign_in(chromium, portal, "ana@lune.test")
    page.goto(attempt_url)
    score = page.inner_text("#score")
    assert "Score:" in score and f"/ {len(saved)}" in score
    assert "Time ran out" in page.inner_text("#result")
    _shot(page, "3-submitted-score")
    context.close()

    # Ben: his own attempt, every response he gets is free of Ana's questions' keys.
    context, page, errors_ben = _sign_in(chromium, portal, "ben@lune.test")
    bodies = []
    denied = context.request.get(attempt_url)
    assert denied.status == 404
    bodies.append(denied.text())
    bodies.append(context.request.get(attempt_url + "/state").text())
    page.goto(f"{portal.test_url}/certify/lune-101/")
    page.locator("form[action$='/certification/start'] button").click()
    page.wait_for_selector("#timer")
    bodies.append(page.content())
    bodies.append(context.request.get(page.url + "/state").text())
    _answer(page, 0)
    _saved(page)
    bodies.append(page.content())
    _shot(page, "4-second-learner")
    for body in bodies:
        leaked = [
            t
            for t in secrets
            if (t in body or json.dumps(t)[1:-1] in body) and not any(t in v for v in shown)
        ]
        assert not leaked, leaked
    context.close()
    assert not errors and not errors_again and not errors_ben, errors + errors_again + errors_ben
