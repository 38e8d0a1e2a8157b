"""The certify area end to end through the test client, with a clock the test moves:
time limit and grace, autosubmission with saved answers, resume, concurrent starts, bad input
(forged answers, late answers, another learner's attempt), what the browser may see before
review, practice checks, the French bank, statistics, essay grading with its audit trail."""

from __future__ import annotations

import json
import re
import threading

import pytest
from certifykit import Clock, course_copy, make_eligible, right_answer
from quizkit import pool_gift

from web.extensions import db
from web.models import QuizAttempt, QuizSlot
from web.quiz.model import QType
from web.services import certify


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def portal(app_factory, clock, world):
    """The app with the test's clock; its context is the current one (pushed after `world`'s)."""
    app = app_factory(QUIZ_CLOCK=clock, RATELIMIT_ENABLED=False)
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def people(portal, world):
    make_eligible(world.learner_a)
    make_eligible(world.learner_b)
    return world


def csrf_token(client, path: str) -> str:
    """The CSRF token of the client's session, read from a page's form."""
    html = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


@pytest.fixture
def signed_in(auth):
    """`signed_in(app, email)`: a new browser (test client) of `app`, signed in as `email`."""

    def sign_in(app, email):
        client = app.test_client()
        assert auth.login(email, client=client).status_code == 302
        return client

    return sign_in


def start(client, quiz="certification"):
    token = csrf_token(client, "/certify/lune-101/")
    r = client.post(f"/certify/lune-101/{quiz}/start", data={"csrf_token": token})
    return r


def attempt_of(r) -> QuizAttempt:
    assert r.status_code == 303, r.get_data(as_text=True)[:500]
    attempt_id = int(r.headers["Location"].rsplit("/", 1)[1])
    db.session.expire_all()
    return db.session.get(QuizAttempt, attempt_id)


def post_json(client, attempt, answers, page=None):
    token = csrf_token(client, page or f"/certify/attempts/{attempt.id}")
    return client.post(
        f"/certify/attempts/{attempt.id}/answers",
        data=json.dumps({"answers": answers}),
        headers={"Content-Type": "application/json", "X-CSRFToken": token},
    )


def set_language(user, lang):
    from web.models import User

    db.session.get(User, user.id).language = lang
    db.session.commit()


def bank_question(slot: QuizSlot, lang="en"):
    return certify.course_quizzes("lune-101").questions(lang)[slot.question_id]


def right(slot: QuizSlot):
    return right_answer(bank_question(slot), slot.answer_order, slot.stem_order)


def test_timed_attempt_is_submitted_with_saved_answers_when_time_runs_out(
    portal, people, clock, signed_in
):
    a = signed_in(portal, "a@lune.test")
    attempt = attempt_of(start(a))
    assert (
        attempt.deadline
        == clock.now + certify.course_quizzes("lune-101").quiz("certification").time_limit
    )
    page = a.get(f"/certify/attempts/{attempt.id}")
    assert page.status_code == 200 and 'id="timer"' in page.get_data(as_text=True)
    first, second = attempt.slots[0], attempt.slots[1]
    clock.advance(minutes=5)
    assert post_json(a, attempt, {"0": right(first)}).status_code == 200
    assert post_json(a, attempt, {"1": right(second)}).status_code == 200
    # The learner closes the page. 45 minutes + the 30 s grace later, the attempt is over.
    clock.advance(minutes=40, seconds=31)
    db.session.expire_all()
    assert certify.settle_overdue() == 1  # the worker's minute sweep, no browser involved
    attempt = db.session.get(QuizAttempt, attempt.id)
    assert attempt.finished and attempt.autosubmitted
    assert attempt.submitted_at == attempt.deadline
    assert attempt.score == 2.0 and attempt.max_score == len(attempt.slots)
    assert attempt.passed is False
    html = a.get(f"/certify/attempts/{attempt.id}").get_data(as_text=True)
    assert "Time ran out" in html and 'id="score"' in html


def test_answer_within_grace_counts_and_after_it_is_refused(portal, people, clock, signed_in):
    a = signed_in(portal, "a@lune.test")
    attempt = attempt_of(start(a))
    page = f"/certify/attempts/{attempt.id}"
    token_page = page
    clock.advance(minutes=45, seconds=20)  # past the deadline, within the grace
    assert post_json(a, attempt, {"0": right(attempt.slots[0])}, token_page).status_code == 200
    clock.advance(seconds=15)
    r = post_json(a, attempt, {"1": right(attempt.slots[1])}, "/certify/lune-101/")
    assert r.status_code == 409
    db.session.expire_all()
    slots = db.session.get(QuizAttempt, attempt.id).slots
    assert slots[0].response is not None and slots[1].response is None
    assert db.session.get(QuizAttempt, attempt.id).score == 1.0


def test_resume_keeps_the_attempt_and_the_remaining_time(portal, people, clock, signed_in):
    a = signed_in(portal, "a@lune.test")
    attempt = attempt_of(start(a))
    clock.advance(minutes=10)
    assert attempt_of(start(a)).id == attempt.id  # "start" again resumes
    state = a.get(f"/certify/attempts/{attempt.id}/state").get_json()
    assert state == {"finished": False, "remaining_seconds": 35 * 60}


def test_bad_input_is_refused_and_changes_nothing(portal, people, clock, signed_in):
    a = signed_in(portal, "a@lune.test")
    b = signed_in(portal, "b@lune.test")
    attempt = attempt_of(start(a))
    mc = next(s for s in attempt.slots if bank_question(s).qtype is QType.MULTICHOICE)
    n = len(mc.answer_order)
    assert post_json(a, attempt, {"99": "0"}).status_code == 400  # no such question
    assert post_json(a, attempt, {str(mc.position): str(n)}).status_code == 400  # forged answer
    assert post_json(a, attempt, {str(mc.position): {"x": "1"}}).status_code == 400
    assert post_json(a, attempt, {}).status_code == 400
    # B, signed in with a valid CSRF token of B's own, cannot see or touch A's attempt.
    assert b.get(f"/certify/attempts/{attempt.id}").status_code == 404
    assert post_json(b, attempt, {"0": "0"}, "/certify/lune-101/").status_code == 404
    token = csrf_token(b, "/certify/lune-101/")
    assert (
        b.post(f"/certify/attempts/{attempt.id}/submit", data={"csrf_token": token}).status_code
        == 404
    )
    db.session.expire_all()
    attempt = db.session.get(QuizAttempt, attempt.id)
    assert all(s.response is None for s in attempt.slots) and not attempt.finished


def test_twenty_concurrent_starts_make_exactly_the_allowed_attempts(
    portal, people, clock, signed_in
):
    clients = [signed_in(portal, "a@lune.test") for _ in range(20)]
    tokens = [csrf_token(c, "/certify/lune-101/") for c in clients]

    def burst():
        statuses: list[int] = []

        def go(client, token):
            r = client.post("/certify/lune-101/certification/start", data={"csrf_token": token})
            statuses.append(r.status_code)

        threads = [threading.Thread(target=go, args=ct) for ct in zip(clients, tokens, strict=True)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        return statuses

    def count():
        db.session.expire_all()
        return db.session.query(QuizAttempt).filter_by(user_id=people.learner_a.id).count()

    assert burst() == [303] * 20 and count() == 1  # one open attempt, resumed by the others
    attempt = db.session.query(QuizAttempt).filter_by(user_id=people.learner_a.id).one()
    token = csrf_token(clients[0], f"/certify/attempts/{attempt.id}")
    clients[0].post(f"/certify/attempts/{attempt.id}/submit", data={"csrf_token": token})
    clock.advance(days=1, minutes=1)  # the delay between attempts
    assert burst() == [303] * 20 and count() == 2  # the quiz allows 2
    db.session.expire_all()
    second = max(
        db.session.query(QuizAttempt).filter_by(user_id=people.learner_a.id), key=lambda x: x.number
    )
    clients[0].post(f"/certify/attempts/{second.id}/submit", data={"csrf_token": token})
    clock.advance(days=2)
    assert set(burst()) == {403} and count() == 2


def test_the_database_refuses_an_attempt_beyond_the_limit(portal, people, clock, signed_in):
    from sqlalchemy.exc import IntegrityError

    db.session.add(
        QuizAttempt(
            user_id=people.learner_a.id,
            course_id="lune-101",
            quiz_id="certification",
            number=3,
            max_attempts=2,
            seed="x",
            started_at=clock.now,
        )
    )
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def _secrets_of(question) -> list[str]:
    """Texts of a question that only a review may show: feedback, general feedback, keys."""
    out = [question.general_feedback.text]
    out += [c.feedback.text for c in question.choices]
    out += [question.feedback_right.text, question.feedback_wrong.text]
    out += [a.feedback.text for a in question.alternatives] + [
        a.text for a in question.alternatives
    ]
    out += [n.feedback.text for n in question.numbers]
    return [t for t in out if len(t) > 12]


def _shown(question) -> list[str]:
    """Texts a question shows while it is answered (a key may legitimately be one of them)."""
    out = [question.text.text] + [c.text.text for c in question.choices]
    return out + [p.question.text for p in question.pairs] + [p.answer for p in question.pairs]


def _leaks(secrets: list[str], shown: list[str], body: str) -> list[str]:
    return [
        s
        for s in secrets
        if (s in body or json.dumps(s)[1:-1] in body) and not any(s in t for t in shown)
    ]


def test_no_key_reaches_the_browser_before_review(portal, people, clock, signed_in):
    a = signed_in(portal, "a@lune.test")
    b = signed_in(portal, "b@lune.test")
    attempt = attempt_of(start(a))
    secrets = [s for slot in attempt.slots for s in _secrets_of(bank_question(slot))]
    shown = [t for slot in attempt.slots for t in _shown(bank_question(slot))]
    assert secrets
    raw = [
        a.get(f"/certify/attempts/{attempt.id}").get_data(as_text=True),
        a.get(f"/certify/attempts/{attempt.id}/state").get_data(as_text=True),
        post_json(a, attempt, {"0": right(attempt.slots[0])}).get_data(as_text=True),
    ]
    for body in raw:
        leaked = _leaks(secrets, shown, body)
        assert not leaked, leaked
    # B's own attempt shows none of A's questions' keys either (and A's attempt is a 404).
    b_attempt = attempt_of(start(b))
    b_page = b.get(f"/certify/attempts/{b_attempt.id}").get_data(as_text=True)
    b_shown = [t for slot in b_attempt.slots for t in _shown(bank_question(slot))]
    assert not _leaks(secrets, shown + b_shown, b_page)
    # After submission the review policy (after_attempt) shows the feedback.
    token = csrf_token(a, f"/certify/attempts/{attempt.id}")
    a.post(f"/certify/attempts/{attempt.id}/submit", data={"csrf_token": token})
    review = a.get(f"/certify/attempts/{attempt.id}").get_data(as_text=True)
    assert "The correct answer is" in review


def test_practice_check_shows_that_question_only_and_locks_it(portal, people, signed_in):
    a = signed_in(portal, "a@lune.test")
    attempt = attempt_of(start(a, "practice-01-hashing"))
    first, second = attempt.slots[0], attempt.slots[1]
    secrets_second = _secrets_of(bank_question(second))
    assert post_json(a, attempt, {"0": right(first)}).status_code == 200
    token = csrf_token(a, f"/certify/attempts/{attempt.id}")
    r = a.post(f"/certify/attempts/{attempt.id}/check/0", data={"csrf_token": token})
    assert r.status_code == 303
    page = a.get(f"/certify/attempts/{attempt.id}").get_data(as_text=True)
    assert "Mark: 1 / 1" in page and "The correct answer is" in page
    shown = [t for slot in attempt.slots for t in _shown(bank_question(slot))]
    assert not _leaks(secrets_second, shown + _secrets_of(bank_question(first)), page)
    assert post_json(a, attempt, {"0": right(first)}).status_code == 409


def test_a_french_learner_gets_the_french_bank(portal, people, signed_in):
    set_language(people.learner_a, "fr")
    a = signed_in(portal, "a@lune.test")
    attempt = attempt_of(start(a))
    html = a.get(f"/certify/attempts/{attempt.id}").get_data(as_text=True)
    fr = [str(certify.render_text(bank_question(s, "fr").text)) for s in attempt.slots]
    en = [str(certify.render_text(bank_question(s, "en").text)) for s in attempt.slots]
    missing = [t for t in fr if t not in html]
    assert not missing, missing
    assert not [t for t, f in zip(en, fr, strict=True) if t != f and t in html]
    assert "Temps restant" in html


def test_statistics_merge_languages_and_export_csv(portal, people, clock, signed_in):
    set_language(people.learner_b, "fr")
    for email in ("a@lune.test", "b@lune.test"):
        client = signed_in(portal, email)
        attempt = attempt_of(start(client))
        post_json(client, attempt, {"0": right(attempt.slots[0])})
        token = csrf_token(client, f"/certify/attempts/{attempt.id}")
        client.post(f"/certify/attempts/{attempt.id}/submit", data={"csrf_token": token})
    teacher = signed_in(portal, "inst1@lune.test")
    page = teacher.get("/certify/lune-101/certification/stats")
    assert page.status_code == 200 and "2 finished attempts" in page.get_data(as_text=True)
    assert "very hard (facility below 10%)" in page.get_data(as_text=True)  # unanswered ones
    csv_text = teacher.get("/certify/lune-101/certification/stats.csv").get_data(as_text=True)
    assert csv_text.startswith("question_id,type,attempts,facility_percent")
    other = signed_in(portal, "inst2@lune.test")  # cohort 2 has no attempt
    assert "0 finished attempts" in other.get("/certify/lune-101/certification/stats").get_data(
        as_text=True
    )
    learner = signed_in(portal, "c@lune.test")
    assert learner.get("/certify/lune-101/certification/stats").status_code == 403


ESSAY_QUIZ = """
[[quiz]]
id = "written"
title = "Written exam"
title_fr = "Examen écrit"
time_limit_minutes = 10
attempts = 1
pass_mark = 50
review = "never"
pools = [{ module = "00-onboarding", draw = 2 }]
"""


def essay_bank(lang: str) -> str:
    word = "Explain" if lang == "en" else "Expliquez"
    return (
        "$CATEGORY: $course$/top/lune-101/00-onboarding\n\n"
        "// [id:w-essay]\n// [tag:t]\n// source: https://bitcoin.org/bitcoin.pdf\n"
        f"::w-essay::{word} why a block hash is shown reversed.{{####Byte order secret.}}\n\n"
        "// [id:w-mc]\n// [tag:t]\n// source: https://bitcoin.org/bitcoin.pdf\n"
        "::w-mc::Pick the right one.{=right#Right answer feedback here ~wrong#Wrong answer"
        " feedback here}\n"
    )


@pytest.fixture
def written(app_factory, clock, tmp_path, world):
    banks = {f"00-onboarding.{lang}.gift": essay_bank(lang) for lang in ("en", "fr")}
    banks.update({"01-hashing.en.gift": pool_gift("01-hashing", 3)})
    courses = course_copy(tmp_path / "custom", ESSAY_QUIZ, banks)
    certify._ROOTS.clear()
    app = app_factory(QUIZ_CLOCK=clock, COURSES_DIR=str(courses), RATELIMIT_ENABLED=False)
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()
    certify._ROOTS.clear()


def test_review_never_shows_the_score_only_and_essays_are_graded_with_a_reason(
    written, world, signed_in
):
    a = signed_in(written, "a@lune.test")
    attempt = attempt_of(start(a, "written"))
    by_id = {s.question_id: s for s in attempt.slots}
    essay, mc = by_id["w-essay"], by_id["w-mc"]
    post_json(a, attempt, {str(essay.position): "Bitcoin shows hashes little-endian reversed."})
    post_json(a, attempt, {str(mc.position): str(mc.answer_order.index(0))})
    token = csrf_token(a, f"/certify/attempts/{attempt.id}")
    a.post(f"/certify/attempts/{attempt.id}/submit", data={"csrf_token": token})
    page = a.get(f"/certify/attempts/{attempt.id}").get_data(as_text=True)
    assert "Awaiting grading" in page
    assert "Right answer feedback here" not in page and "Byte order secret" not in page

    teacher = signed_in(written, "inst1@lune.test")
    essays_page = teacher.get("/certify/lune-101/written/essays")
    assert "little-endian reversed" in essays_page.get_data(as_text=True)
    token = csrf_token(teacher, "/certify/lune-101/written/essays")
    url = f"/certify/slots/{essay.id}/grade"
    assert (
        teacher.post(url, data={"csrf_token": token, "mark": "1", "reason": "ok"}).status_code
        == 400
    )
    assert (
        teacher.post(
            url, data={"csrf_token": token, "mark": "2", "reason": "Too generous"}
        ).status_code
        == 400
    )
    db.session.expire_all()
    assert not db.session.get(QuizSlot, essay.id).grades  # nothing stored for bad input
    stranger = signed_in(written, "inst2@lune.test")
    token2 = csrf_token(stranger, "/certify/lune-101/written/essays")
    assert (
        stranger.post(
            url, data={"csrf_token": token2, "mark": "1", "reason": "Not mine"}
        ).status_code
        == 404
    )
    r = teacher.post(url, data={"csrf_token": token, "mark": "0,5", "reason": "Half: no example"})
    assert r.status_code == 303
    r = teacher.post(
        url, data={"csrf_token": token, "mark": "1", "reason": "Regraded: example given"}
    )
    db.session.expire_all()
    slot = db.session.get(QuizSlot, essay.id)
    assert [(g.before, g.after, g.reason) for g in slot.grades] == [
        (None, 0.5, "Half: no example"),
        (0.5, 1.0, "Regraded: example given"),
    ]
    assert slot.grades[-1].instructor_id == world.instructor1.id
    attempt = db.session.get(QuizAttempt, attempt.id)
    assert attempt.pending == 0 and attempt.score == 2.0 and attempt.passed is True
    page = a.get(f"/certify/attempts/{attempt.id}").get_data(as_text=True)
    assert 'id="score"' in page and "Right answer feedback here" not in page


def test_passing_the_certification_issues_the_certificate(portal, people, signed_in):
    from web.models import Certificate
    from web.services import certificates

    certificates.init_issuer("Lune Academy")
    a = signed_in(portal, "a@lune.test")
    attempt = attempt_of(start(a))
    answers = {str(s.position): right(s) for s in attempt.slots}
    assert post_json(a, attempt, answers).status_code == 200
    token = csrf_token(a, f"/certify/attempts/{attempt.id}")
    a.post(f"/certify/attempts/{attempt.id}/submit", data={"csrf_token": token})
    db.session.expire_all()
    attempt = db.session.get(QuizAttempt, attempt.id)
    wrong = [(s.question_id, s.response, s.mark) for s in attempt.slots if s.mark != 1.0]
    assert attempt.passed is True and attempt.percent == 100.0, wrong
    held = db.session.query(Certificate).filter_by(user_id=people.learner_a.id).all()
    assert len(held) == 1 and held[0].exam_score == 100.0
