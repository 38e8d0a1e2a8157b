"""Certification and practice quizzes in the portal: the rules around `web.quiz.engine`.

Quizzes and banks come from the course directory (`course.toml` `[[quiz]]`, `quizzes/*.gift`),
read again when a file changes. An attempt's drawn questions and saved answers are rows
(`QuizAttempt`, `QuizSlot`); every read of an attempt first settles it — an attempt past its
deadline and grace is submitted with what was saved — and the worker's minute sweep settles the
ones nobody looks at (`settle_overdue`). Time comes from `now()`, which tests replace through the
app's `QUIZ_CLOCK`. Nothing a learner's browser receives before the review policy allows holds a
weight, a key or a feedback: answers are sent by display position only.
"""

from __future__ import annotations

import html
import secrets
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import nh3
from flask import current_app
from flask_babel import get_locale
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError

from web.errors import Conflict, Forbidden, NotFound, ServiceError, Unavailable
from web.extensions import db
from web.models import Course, QuizAttempt, QuizSlot, User
from web.models.certify import EssayGrade
from web.models.types import utcnow
from web.quiz import engine, scoring
from web.quiz.banks import CourseBanks, load_banks
from web.quiz.definition import Kind, QuizConfigError, QuizDefinition, load_quizzes
from web.quiz.engine import AttemptClosed, BadResponse, PastAttempt, Slot, StartRefused
from web.quiz.model import QType, Question, Text
from web.quiz.stats import AttemptMarks, QuizStats, quiz_stats, to_csv
from web.services import catalog, cohorts
from web.services.dashboard import audit_reason
from web.services.lessons import render_markdown
from web.services.progress import course_progress

START_TRIES = 8


def now() -> datetime:
    """The portal's clock (tests set `QUIZ_CLOCK` to a callable they control)."""
    clock = current_app.config.get("QUIZ_CLOCK")
    return clock() if clock else utcnow()


def language() -> str:
    """The bank language for this request: French for a French page, else English."""
    return "fr" if str(get_locale()).startswith("fr") else "en"


# ---- quizzes and banks ---------------------------------------------------------------------


@dataclass(frozen=True)
class CourseQuizzes:
    course_id: str
    quizzes: dict[str, QuizDefinition]
    banks: CourseBanks

    def quiz(self, quiz_id: str) -> QuizDefinition:
        quiz = self.quizzes.get(quiz_id)
        if quiz is None:
            raise NotFound(_("No such quiz."))
        return quiz

    def questions(self, lang: str) -> dict[str, Question]:
        return self.banks.index(lang)


_ROOTS: dict[tuple[str, str], Path] = {}
_LOADED: dict[Path, tuple[tuple, CourseQuizzes]] = {}


def _signature(root: Path) -> tuple:
    files = [root / "course.toml", *sorted((root / "quizzes").glob("*.gift"))]
    return tuple((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in files if p.exists())


def course_quizzes(course_id: str) -> CourseQuizzes:
    """The course's quizzes and banks, re-read when a file changed; 503 if they are broken."""
    courses_dir = str(current_app.config["COURSES_DIR"])
    key = (courses_dir, course_id)
    if key not in _ROOTS:
        _ROOTS[key] = catalog.course_root(Path(courses_dir), course_id)
    root = _ROOTS[key]
    signature = _signature(root)
    cached = _LOADED.get(root)
    if cached and cached[0] == signature:
        return cached[1]
    banks = load_banks(root)
    if banks.problems:
        current_app.logger.error("question banks of %s: %s", course_id, banks.problems[0])
        raise Unavailable(_("The question banks of this course are being fixed: try again later."))
    try:
        quizzes = load_quizzes(root, banks.modules)
    except QuizConfigError as exc:
        current_app.logger.error("quizzes of %s: %s", course_id, exc)
        raise Unavailable(
            _("The quizzes of this course are being fixed: try again later.")
        ) from None
    loaded = CourseQuizzes(course_id, {q.id: q for q in quizzes}, banks)
    _LOADED[root] = (signature, loaded)
    return loaded


def _pools(cq: CourseQuizzes, quiz: QuizDefinition) -> dict[str, tuple[Question, ...]]:
    return {p.pool: cq.banks.pool(p.pool, "en") for p in quiz.pools}


# ---- responses as stored -------------------------------------------------------------------


def encode(response: scoring.Response, lang: str) -> dict | None:
    """A response as JSON, with the language it was given in (scored with that bank)."""
    if response is None:
        return None
    if isinstance(response, bool):
        return {"lang": lang, "bool": response}
    if isinstance(response, int):
        return {"lang": lang, "choice": response}
    if isinstance(response, frozenset):
        return {"lang": lang, "choices": sorted(response)}
    if isinstance(response, str):
        return {"lang": lang, "text": response}
    return {"lang": lang, "pairs": {str(k): v for k, v in dict(response).items()}}


def decode(stored: Mapping | None) -> scoring.Response:
    if not stored:
        return None
    if "bool" in stored:
        return bool(stored["bool"])
    if "choice" in stored:
        return int(stored["choice"])
    if "choices" in stored:
        return frozenset(int(i) for i in stored["choices"])
    if "text" in stored:
        return str(stored["text"])
    return {int(k): int(v) for k, v in stored.get("pairs", {}).items()}


def _slot(row: QuizSlot) -> Slot:
    return Slot(
        row.question_id,
        row.pool,
        tuple(row.answer_order),
        tuple(row.stem_order),
        row.draw_index,
    )


def state_of(attempt: QuizAttempt) -> engine.AttemptState:
    return engine.AttemptState(
        quiz_id=attempt.quiz_id,
        number=attempt.number,
        seed=attempt.seed,
        started_at=attempt.started_at,
        slots=tuple(_slot(s) for s in attempt.slots),
        responses={s.question_id: decode(s.response) for s in attempt.slots if s.response},
        submitted_at=attempt.submitted_at,
        autosubmitted=attempt.autosubmitted,
    )


# ---- scoring and settling ------------------------------------------------------------------


def _question_for(cq: CourseQuizzes, row: QuizSlot) -> Question:
    lang = (row.response or {}).get("lang", "en")
    q = cq.questions(lang).get(row.question_id) or cq.questions("en").get(row.question_id)
    if q is None:
        raise Unavailable(_("A question of this attempt is no longer in the bank."))
    return q


def _essay_mark(row: QuizSlot) -> float | None:
    return row.grades[-1].after if row.grades else None


def rescore(attempt: QuizAttempt, cq: CourseQuizzes, quiz: QuizDefinition | None) -> None:
    """Marks of every slot, the total, essays pending and pass/fail (no commit)."""
    questions = {row.question_id: _question_for(cq, row) for row in attempt.slots}
    manual = {row.question_id: m for row in attempt.slots if (m := _essay_mark(row)) is not None}
    result = engine.score(state_of(attempt), questions, manual)
    for row in attempt.slots:
        row.mark = result.marks[row.question_id]
    attempt.score = result.total
    attempt.max_score = result.maximum
    attempt.pending = result.pending
    attempt.passed = result.passed(quiz) if quiz else None


def _certify_if_passed(attempt: QuizAttempt, quiz: QuizDefinition | None) -> None:
    """A passed certification attempt issues the course certificate (after the commit).

    A certificate that cannot be issued now (issuer not set up, say) never undoes the result:
    it is logged, and the next scoring of a passed attempt tries again.
    """
    if quiz is None or quiz.kind is not Kind.CERTIFICATION or not attempt.passed:
        return
    from web.services import certificates

    try:
        certificates.on_exam_passed(
            attempt.user, attempt.course_id, round(attempt.percent or 0.0, 2), quiz.title
        )
    except ServiceError as exc:
        current_app.logger.warning("certificate for attempt %s not issued: %s", attempt.id, exc)


def _settle(attempt: QuizAttempt, cq: CourseQuizzes, at: datetime) -> bool:
    """Submit the attempt if its time and grace are over; True if it changed."""
    if attempt.finished:
        return False
    quiz = cq.quizzes.get(attempt.quiz_id)
    grace = quiz.grace if quiz else timedelta(seconds=30)
    if attempt.deadline is None or at <= attempt.deadline + grace:
        return False
    attempt.submitted_at = attempt.deadline
    attempt.autosubmitted = True
    rescore(attempt, cq, quiz)
    db.session.commit()
    _certify_if_passed(attempt, quiz)
    return True


def settle_overdue() -> int:
    """Submit every attempt past its deadline and grace (`lune worker` runs this every 5 s)."""
    at = now()
    rows = db.session.scalars(
        select(QuizAttempt).where(
            QuizAttempt.submitted_at.is_(None), QuizAttempt.deadline.is_not(None)
        )
    ).all()
    settled = 0
    for attempt in rows:
        try:
            cq = course_quizzes(attempt.course_id)
        except ServiceError:
            continue
        settled += _settle(attempt, cq, at)
    db.session.commit()
    return settled


# ---- starting and finding attempts ---------------------------------------------------------


def attempts_of(user: User, course_id: str, quiz_id: str) -> list[QuizAttempt]:
    return list(
        db.session.scalars(
            select(QuizAttempt)
            .where(
                QuizAttempt.user_id == user.id,
                QuizAttempt.course_id == course_id,
                QuizAttempt.quiz_id == quiz_id,
            )
            .order_by(QuizAttempt.number)
        )
    )


def _seen(user: User, course_id: str) -> Counter:
    rows = db.session.scalars(
        select(QuizSlot.question_id)
        .join(QuizAttempt)
        .where(QuizAttempt.user_id == user.id, QuizAttempt.course_id == course_id)
    )
    return Counter(rows)


_REFUSALS = {
    "not-eligible": lambda quiz: _(
        "This quiz opens once you reach %(p)s%% on the graded notebooks.",
        p=f"{quiz.min_course_percent:g}",
    ),
    "not-open": lambda quiz: _("This quiz is not open yet."),
    "closed": lambda quiz: _("This quiz is closed."),
    "no-attempts-left": lambda quiz: _("You have used all your attempts at this quiz."),
    "too-soon": lambda quiz: _(
        "Your next attempt opens %(minutes)s minutes after the last one.",
        minutes=int(quiz.delay.total_seconds() // 60),
    ),
    "pool-too-small": lambda quiz: _("This quiz cannot draw its questions: tell an instructor."),
}


def start_attempt(user: User, course_id: str, quiz_id: str) -> QuizAttempt:
    """The learner's open attempt (resumed), or a new one if the rules allow; 403 if not.

    Concurrent requests race on the unique (learner, quiz, number) key: the loser rolls back,
    reads again and resumes the winner's attempt, so a double click never makes two attempts.
    """
    course = catalog.get_course(course_id)
    cq = course_quizzes(course_id)
    quiz = cq.quiz(quiz_id)
    for attempt_no in range(START_TRIES):
        at = now()
        history = attempts_of(user, course_id, quiz_id)
        for old in history:
            if _settle(old, cq, at):
                db.session.commit()
        open_one = next((a for a in history if not a.finished), None)
        if open_one is not None:
            return open_one
        percent = course_progress(user, course).percent if quiz.min_course_percent else None
        past = [PastAttempt(a.number, a.started_at, a.submitted_at) for a in history]
        seed = secrets.token_hex(16)
        try:
            state = engine.start(
                quiz, _pools(cq, quiz), past, at, seed, percent, _seen(user, course_id)
            )
        except StartRefused as why:
            message = _REFUSALS[why.code](quiz) if why.code in _REFUSALS else str(why)
            raise Forbidden(message) from None
        attempt = QuizAttempt(
            user_id=user.id,
            course_id=course_id,
            quiz_id=quiz_id,
            number=state.number,
            max_attempts=quiz.attempts,
            seed=seed,
            language=language(),
            started_at=at,
            deadline=engine.deadline(quiz, at),
            max_score=len(state.slots),
        )
        attempt.slots = [
            QuizSlot(
                position=i,
                draw_index=s.draw_index,
                question_id=s.question_id,
                pool=s.pool,
                answer_order=list(s.order),
                stem_order=list(s.stem_order),
            )
            for i, s in enumerate(state.slots)
        ]
        db.session.add(attempt)
        try:
            db.session.commit()
            return attempt
        except (IntegrityError, OperationalError):
            db.session.rollback()  # another request started one: resume it on the next turn
            time.sleep(0.01 * (attempt_no + 1))
    raise Unavailable(_("Too many requests at once: try again."))


def _visible(user: User, attempt: QuizAttempt) -> bool:
    if attempt.user_id == user.id or user.is_admin:
        return True
    if not user.is_instructor:
        return False
    enrollment = cohorts.enrollment_of(attempt.user, attempt.course_id)
    return enrollment is not None and cohorts.teaches(user, enrollment.cohort)


def get_attempt(user: User, attempt_id: int) -> tuple[QuizAttempt, CourseQuizzes]:
    """An attempt its learner, their instructors or an admin may see (settled first); else 404."""
    attempt = db.session.get(QuizAttempt, attempt_id)
    if attempt is None or not _visible(user, attempt):
        raise NotFound(_("No such attempt."))
    cq = course_quizzes(attempt.course_id)
    if _settle(attempt, cq, now()):
        db.session.commit()
    return attempt, cq


def _own_open_attempt(user: User, attempt_id: int) -> tuple[QuizAttempt, CourseQuizzes]:
    attempt, cq = get_attempt(user, attempt_id)
    if attempt.user_id != user.id:
        raise NotFound(_("No such attempt."))
    return attempt, cq


# ---- answering, checking, submitting -------------------------------------------------------


def _slot_at(attempt: QuizAttempt, position: object) -> QuizSlot:
    try:
        index = int(str(position))
    except ValueError:
        raise ServiceError(_("Unknown question.")) from None
    if not 0 <= index < len(attempt.slots):
        raise ServiceError(_("Unknown question."))
    return attempt.slots[index]


def save_answers(user: User, attempt_id: int, answers: Mapping[str, object]) -> QuizAttempt:
    """Save answers given as {display position: raw answer}; all or nothing, 4xx if refused."""
    attempt, cq = _own_open_attempt(user, attempt_id)
    quiz = cq.quiz(attempt.quiz_id)
    if not answers:
        raise ServiceError(_("No answer was sent."))
    at = now()
    lang = language()
    state = state_of(attempt)
    updates = []
    for position, raw in answers.items():
        row = _slot_at(attempt, position)
        if row.checked_at is not None:
            raise Conflict(_("This question was checked: its answer can no longer change."))
        question = cq.questions(lang)[row.question_id]
        try:
            response = engine.read_response(question, _slot(row), raw)
            state = engine.save_response(quiz, state, row.question_id, response, at)
        except AttemptClosed:
            raise Conflict(_("This attempt is over: answers can no longer change.")) from None
        except BadResponse:
            raise ServiceError(_("That answer does not fit the question.")) from None
        updates.append((row, encode(response, lang)))
    for row, stored in updates:
        row.response = stored
        row.saved_at = at
    db.session.commit()
    return attempt


def check_question(user: User, attempt_id: int, position: int) -> QuizSlot:
    """Practice: mark one answered question now and show its feedback; it cannot change after."""
    attempt, cq = _own_open_attempt(user, attempt_id)
    quiz = cq.quiz(attempt.quiz_id)
    if not engine.may_check(quiz):
        raise Forbidden(_("Questions are checked at the end of this quiz."))
    if attempt.finished:
        raise Conflict(_("This attempt is over: answers can no longer change."))
    row = _slot_at(attempt, position)
    if row.response is None:
        raise ServiceError(_("Answer the question before checking it."))
    if row.checked_at is None:
        row.checked_at = now()
        row.mark = scoring.mark(_question_for(cq, row), decode(row.response))
        db.session.commit()
    return row


def submit(user: User, attempt_id: int) -> QuizAttempt:
    """Finish the attempt and score it (an overdue one is dated at its deadline)."""
    attempt, cq = _own_open_attempt(user, attempt_id)
    if attempt.finished:
        return attempt  # settled just now, or a second click: nothing more to do
    quiz = cq.quiz(attempt.quiz_id)
    done = engine.submit(quiz, state_of(attempt), now())
    attempt.submitted_at = done.submitted_at
    attempt.autosubmitted = done.autosubmitted
    rescore(attempt, cq, quiz)
    db.session.commit()
    _certify_if_passed(attempt, quiz)
    return attempt


# ---- what a page shows ---------------------------------------------------------------------

_CLEAN_TAGS = nh3.ALLOWED_TAGS | {"pre", "code", "table", "thead", "tbody", "tr", "th", "td"}


def render_text(text: Text) -> Markup:
    """A bank text as safe HTML, per its GIFT format."""
    fmt = text.format.value
    if fmt == "markdown":
        return Markup(render_markdown(text.text))
    if fmt == "plain":
        return Markup(html.escape(text.text).replace("\n", "<br>\n"))
    body = text.text if fmt == "html" else text.text.replace("\n", "<br>\n")
    return Markup(nh3.clean(body, tags=_CLEAN_TAGS))


@dataclass
class QuestionView:
    """One question as a page shows it: only display positions, no key before review."""

    position: int
    qtype: str
    text: Markup
    choices: list[tuple[int, Markup]] = field(default_factory=list)
    single: bool = True
    stems: list[tuple[int, Markup]] = field(default_factory=list)
    match_choices: list[tuple[int, str]] = field(default_factory=list)
    selected: set[int] = field(default_factory=set)  # display positions chosen
    text_answer: str = ""
    truefalse: str = ""  # "true" | "false" | ""
    pairs: dict[int, int] = field(default_factory=dict)  # stem position → choice position
    checked: bool = False
    # Review only (None before the policy allows it):
    mark: float | None = None
    feedback: list[Markup] | None = None
    right_answer: str | None = None


def _view(row: QuizSlot, q: Question, reveal: bool, show_mark: bool) -> QuestionView:
    slot = _slot(row)
    response = decode(row.response)
    view = QuestionView(
        row.position, q.qtype.value, render_text(q.text), checked=bool(row.checked_at)
    )
    if q.qtype is QType.MULTICHOICE:
        view.single = q.single
        view.choices = [(pos, render_text(q.choices[i].text)) for pos, i in enumerate(slot.order)]
        chosen = (
            {response}
            if isinstance(response, int) and not isinstance(response, bool)
            else (set(response) if isinstance(response, frozenset) else set())
        )
        view.selected = {slot.order.index(i) for i in chosen if i in slot.order}
    elif q.qtype is QType.TRUEFALSE and isinstance(response, bool):
        view.truefalse = "true" if response else "false"
    elif q.qtype in (QType.SHORTANSWER, QType.NUMERICAL, QType.ESSAY):
        view.text_answer = response if isinstance(response, str) else ""
    elif q.qtype is QType.MATCH:
        choices = q.match_choices
        view.stems = [
            (pos, render_text(q.pairs[i].question)) for pos, i in enumerate(slot.stem_order)
        ]
        view.match_choices = [(pos, choices[i]) for pos, i in enumerate(slot.order)]
        given = response if isinstance(response, dict) else {}
        view.pairs = {
            slot.stem_order.index(stem): slot.order.index(choice)
            for stem, choice in given.items()
            if stem in slot.stem_order and choice in slot.order
        }
    if show_mark:
        view.mark = row.mark
    if reveal:
        fb = scoring.feedback(q, response)
        view.feedback = [render_text(t) for t in (*fb.specific, fb.general) if t.text]
        view.right_answer = scoring.right_answer(q, _("True"), _("False"))
    return view


@dataclass
class AttemptView:
    attempt: QuizAttempt
    quiz: QuizDefinition
    title: str
    questions: list[QuestionView]
    remaining_seconds: int | None
    review: engine.ReviewOptions
    can_check: bool


def attempt_view(user: User, attempt: QuizAttempt, cq: CourseQuizzes) -> AttemptView:
    """The attempt page's content in the reader's language, per the review policy."""
    quiz = cq.quiz(attempt.quiz_id)
    at = now()
    lang = language()
    review = engine.review_options(quiz, state_of(attempt), at)
    staff = attempt.user_id != user.id  # an instructor or admin reviewing: everything
    if staff:
        review = engine.ReviewOptions(True, True, True)
    can_check = engine.may_check(quiz) and not attempt.finished
    views = []
    questions = cq.questions(lang)
    for row in attempt.slots:
        q = questions[row.question_id]
        reveal = review.feedback or (can_check and row.checked_at is not None)
        views.append(_view(row, q, reveal, show_mark=reveal))
    remaining = engine.remaining(quiz, state_of(attempt), at) if not attempt.finished else None
    return AttemptView(
        attempt=attempt,
        quiz=quiz,
        title=quiz.localized_title(lang),
        questions=views,
        remaining_seconds=int(remaining.total_seconds()) if remaining is not None else None,
        review=review,
        can_check=can_check,
    )


@dataclass
class QuizEntry:
    quiz: QuizDefinition
    title: str
    attempts: list[QuizAttempt]

    @property
    def open_attempt(self) -> QuizAttempt | None:
        return next((a for a in self.attempts if not a.finished), None)

    @property
    def best(self) -> float | None:
        marks = [a.percent for a in self.attempts if a.percent is not None]
        return max(marks) if marks else None

    @property
    def attempts_left(self) -> int | None:
        if self.quiz.attempts is None:
            return None
        return max(0, self.quiz.attempts - len(self.attempts))


def quizzes_for(user: User, course: Course) -> tuple[list[QuizEntry], list[QuizEntry]]:
    """The course's certification quizzes and practice quizzes, with the user's attempts."""
    cq = course_quizzes(course.id)
    lang = language()
    at = now()
    cert, practice = [], []
    for quiz in cq.quizzes.values():
        mine = attempts_of(user, course.id, quiz.id)
        changed = [a for a in mine if _settle(a, cq, at)]
        if changed:
            db.session.commit()
        entry = QuizEntry(quiz, quiz.localized_title(lang), mine)
        (practice if quiz.kind is Kind.PRACTICE else cert).append(entry)
    return cert, practice


# ---- instructors ---------------------------------------------------------------------------


def _learners_for(user: User, course_id: str) -> set[int] | None:
    """Learner ids an instructor may see in a course (None: all, for an admin)."""
    if not user.is_instructor:
        raise Forbidden(_("Only instructors can see quiz statistics."))
    if user.is_admin:
        return None
    ids: set[int] = set()
    for cohort in cohorts.cohorts_taught(user):
        if cohort.course_id == course_id:
            ids.update(e.user_id for e in cohort.enrollments)
    return ids


def _finished_attempts(user: User, course_id: str, quiz_id: str) -> list[QuizAttempt]:
    allowed = _learners_for(user, course_id)
    query = select(QuizAttempt).where(
        QuizAttempt.course_id == course_id,
        QuizAttempt.quiz_id == quiz_id,
        QuizAttempt.submitted_at.is_not(None),
    )
    if allowed is not None:
        query = query.where(QuizAttempt.user_id.in_(allowed))
    return list(db.session.scalars(query.order_by(QuizAttempt.id)))


def statistics(user: User, course_id: str, quiz_id: str) -> tuple[QuizStats, dict[str, str]]:
    """Item statistics over the finished, fully graded attempts of the instructor's learners,
    merged across languages by question id; and each question's type."""
    cq = course_quizzes(course_id)
    cq.quiz(quiz_id)
    marks = []
    for a in _finished_attempts(user, course_id, quiz_id):
        if a.pending or any(s.mark is None for s in a.slots):
            continue
        rows = sorted(a.slots, key=lambda s: s.draw_index)
        marks.append(
            AttemptMarks(str(a.user_id), a.number, tuple((s.question_id, s.mark) for s in rows))
        )
    types = {qid: q.qtype.value for qid, q in cq.questions("en").items()}
    return quiz_stats(marks), types


def statistics_csv(user: User, course_id: str, quiz_id: str) -> str:
    stats, types = statistics(user, course_id, quiz_id)
    return to_csv(stats, types)


@dataclass
class EssayItem:
    slot: QuizSlot
    learner: User
    question: Markup
    answer: str
    mark: float | None


def essays(user: User, course_id: str, quiz_id: str) -> list[EssayItem]:
    """Essay answers of the instructor's learners, ungraded first."""
    cq = course_quizzes(course_id)
    questions = cq.questions(language())
    items = []
    for attempt in _finished_attempts(user, course_id, quiz_id):
        for row in attempt.slots:
            q = questions.get(row.question_id)
            if q is None or q.qtype is not QType.ESSAY:
                continue
            answer = decode(row.response)
            items.append(
                EssayItem(
                    row,
                    attempt.user,
                    render_text(q.text),
                    answer if isinstance(answer, str) else "",
                    _essay_mark(row),
                )
            )
    return sorted(items, key=lambda i: (i.mark is not None, i.slot.id))


def grade_essay(user: User, slot_id: int, mark_text: str, reason: str) -> EssayGrade:
    """An instructor marks an essay (0–1 of its mark) with a reason kept in the audit trail."""
    if not user.is_instructor:
        raise Forbidden(_("Only instructors grade essays."))
    row = db.session.get(QuizSlot, slot_id)
    if row is None or not _visible(user, row.attempt):
        raise NotFound(_("No such answer."))
    cq = course_quizzes(row.attempt.course_id)
    if _question_for(cq, row).qtype is not QType.ESSAY:
        raise ServiceError(_("Only essay answers are graded by hand."))
    if not row.attempt.finished:
        raise Conflict(_("The attempt is still in progress."))
    reason = audit_reason(reason)
    try:
        value = float((mark_text or "").replace(",", "."))
    except ValueError:
        raise ServiceError(_("“%(v)s” is not a number.", v=(mark_text or "")[:20])) from None
    if not 0 <= value <= 1:
        raise ServiceError(_("The score must be between 0 and %(max)s.", max="1"))
    grade = EssayGrade(
        slot_id=row.id, instructor_id=user.id, before=_essay_mark(row), after=value, reason=reason
    )
    db.session.add(grade)
    row.grades.append(grade)
    quiz = cq.quizzes.get(row.attempt.quiz_id)
    rescore(row.attempt, cq, quiz)
    db.session.commit()
    _certify_if_passed(row.attempt, quiz)
    return grade
