"""The attempt engine: pure functions of a quiz, its banks, an attempt's state and `now`.

Nothing here reads a clock: every function that depends on time takes `now` (timezone-aware),
so the portal passes its clock and tests pass a controllable one.

* Draw (`draw`): per pool, the questions the learner has seen least often first, ties broken by
  a random order seeded by the attempt's seed — the same seed, banks and history give the same
  draw, and the draw is stored with the attempt anyway. Question and answer order are shuffled
  from the same seed when the quiz says so.
* Time (`deadline`, `accepts_answers`, `is_overdue`): the deadline is the start plus the time
  limit, or the quiz's closing time if earlier. Answers are accepted until the deadline plus the
  quiz's grace (default 30 s, for the last autosave in flight); after that the attempt is
  submitted with what was saved (`settle`), whether or not the browser comes back, and the
  submission time recorded is the deadline.
* Start (`refusal`): eligibility, opening and closing, the attempt limit and the delay between
  attempts; the database enforces the limit again with a unique constraint.
* Review (`review_options`): what a learner may see of a finished attempt, per policy.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from web.quiz import scoring
from web.quiz.definition import Kind, QuizDefinition, Review
from web.quiz.model import QType, Question
from web.quiz.scoring import Response


class QuizError(Exception):
    """Base class of the engine's refusals; `code` is stable, the message is for people."""

    code = "quiz-error"


class StartRefused(QuizError):
    """An attempt may not start now (not eligible, closed, no attempts left, too soon)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class AttemptClosed(QuizError):
    """The attempt no longer accepts answers (submitted, or past its deadline and grace)."""

    code = "attempt-closed"


class BadResponse(QuizError):
    """A response that does not fit its question (unknown question, forged answer index...)."""

    code = "bad-response"


@dataclass(frozen=True)
class Slot:
    """One drawn question. `order` is the display order of answers (indices into the bank's
    choices, or for matching into `match_choices`); `stem_order` the order of matching stems;
    `draw_index` its place in the draw before questions are shuffled (the statistics' slot)."""

    question_id: str
    pool: str
    order: tuple[int, ...] = ()
    stem_order: tuple[int, ...] = ()
    draw_index: int = 0


@dataclass(frozen=True)
class AttemptState:
    """An attempt as the engine sees it; the portal stores exactly these fields."""

    quiz_id: str
    number: int
    seed: str
    started_at: datetime
    slots: tuple[Slot, ...]
    responses: Mapping[str, Response] = field(default_factory=dict)
    submitted_at: datetime | None = None
    autosubmitted: bool = False

    @property
    def finished(self) -> bool:
        return self.submitted_at is not None


@dataclass(frozen=True)
class PastAttempt:
    """What the start rules need to know of an earlier attempt."""

    number: int
    started_at: datetime
    submitted_at: datetime | None


def _rng(seed: str, *parts: str) -> random.Random:
    # random.Random seeded with a str hashes it with SHA-512: stable across runs and platforms.
    return random.Random(":".join((seed, *parts)))


def _answer_order(q: Question, rng: random.Random, shuffle: bool) -> tuple[tuple, tuple]:
    if q.qtype is QType.MULTICHOICE:
        order = list(range(len(q.choices)))
        if shuffle:
            rng.shuffle(order)
        return tuple(order), ()
    if q.qtype is QType.MATCH:
        # Moodle shuffles a matching question's answers always; its stems follow the quiz.
        choices = list(range(len(q.match_choices)))
        rng.shuffle(choices)
        stems = [i for i, p in enumerate(q.pairs) if p.question.text]
        if shuffle:
            rng.shuffle(stems)
        return tuple(choices), tuple(stems)
    return (), ()


def draw(
    quiz: QuizDefinition,
    pools: Mapping[str, Sequence[Question]],
    seed: str,
    seen: Mapping[str, int] | None = None,
) -> tuple[Slot, ...]:
    """The questions of a new attempt, least-seen first, reproducible from `seed`."""
    seen = seen or {}
    slots: list[Slot] = []
    for pool in quiz.pools:
        candidates = [q for q in pools.get(pool.pool, ()) if q.scored]
        if len(candidates) < pool.draw:
            raise StartRefused(
                "pool-too-small",
                f"pool {pool.pool} has {len(candidates)} questions for a draw of {pool.draw}",
            )
        rng = _rng(seed, "draw", pool.pool)
        tiebreak = {q.id: rng.random() for q in candidates}
        chosen = sorted(candidates, key=lambda q: (seen.get(q.id, 0), tiebreak[q.id]))[: pool.draw]
        if not quiz.shuffle_questions:
            position = {q.id: i for i, q in enumerate(candidates)}
            chosen.sort(key=lambda q: position[q.id])
        for q in chosen:
            order, stems = _answer_order(q, _rng(seed, "answers", q.id), quiz.shuffle_answers)
            slots.append(Slot(q.id, pool.pool, order, stems, len(slots)))
    if quiz.shuffle_questions:
        _rng(seed, "questions").shuffle(slots)
    return tuple(slots)


def deadline(quiz: QuizDefinition, started_at: datetime) -> datetime | None:
    """When the attempt's time is up: start + limit, or the quiz's close if that is sooner."""
    ends = [t for t in (quiz.closes,) if t is not None]
    if quiz.time_limit is not None:
        ends.append(started_at + quiz.time_limit)
    return min(ends) if ends else None


def remaining(quiz: QuizDefinition, state: AttemptState, now: datetime) -> timedelta | None:
    """Time left before the deadline (never negative); None when untimed."""
    end = deadline(quiz, state.started_at)
    if end is None:
        return None
    return max(end - now, timedelta(0))


def accepts_answers(quiz: QuizDefinition, state: AttemptState, now: datetime) -> bool:
    """Open, and not past deadline + grace."""
    if state.finished:
        return False
    end = deadline(quiz, state.started_at)
    return end is None or now <= end + quiz.grace


def is_overdue(quiz: QuizDefinition, state: AttemptState, now: datetime) -> bool:
    """Still open although its deadline and grace have passed: it must be submitted."""
    return not state.finished and not accepts_answers(quiz, state, now)


def settle(quiz: QuizDefinition, state: AttemptState, now: datetime) -> AttemptState:
    """Submit an overdue attempt with its saved answers, dated at its deadline."""
    if not is_overdue(quiz, state, now):
        return state
    end = deadline(quiz, state.started_at)
    return replace(state, submitted_at=end, autosubmitted=True)


def submit(quiz: QuizDefinition, state: AttemptState, now: datetime) -> AttemptState:
    """The learner submits. Past deadline + grace it is the automatic submission instead."""
    if state.finished:
        raise AttemptClosed("this attempt is already submitted")
    if is_overdue(quiz, state, now):
        return settle(quiz, state, now)
    return replace(state, submitted_at=now)


def save_response(
    quiz: QuizDefinition,
    state: AttemptState,
    question_id: str,
    response: Response,
    now: datetime,
) -> AttemptState:
    """Record one answer (already read by `read_response`); refused once the attempt is closed."""
    if not accepts_answers(quiz, state, now):
        if state.finished:
            raise AttemptClosed("this attempt is already submitted")
        raise AttemptClosed("the time for this attempt is over")
    if question_id not in {s.question_id for s in state.slots}:
        raise BadResponse(f"question {question_id!r} is not part of this attempt")
    responses = dict(state.responses)
    responses[question_id] = response
    return replace(state, responses=responses)


def _index(raw: object, size: int) -> int:
    try:
        i = int(str(raw))
    except ValueError:
        raise BadResponse(f"{raw!r} is not an answer number") from None
    if not 0 <= i < size:
        raise BadResponse(f"answer {i} does not exist")
    return i


def read_response(q: Question, slot: Slot, raw: object) -> Response:
    """What the browser sent, in the question's own terms; BadResponse for anything forged.

    The browser only knows display positions: `"2"` for the third answer shown (multichoice),
    a list of positions (several answers), `"true"`/`"false"`, text (short answer, numerical,
    essay), `{stem position: answer position}` (matching).
    """
    if raw is None or raw == "" or raw == []:
        return None
    if q.qtype is QType.MULTICHOICE:
        if q.single:
            if isinstance(raw, list):
                raise BadResponse("one answer only")
            return slot.order[_index(raw, len(slot.order))]
        items = raw if isinstance(raw, list) else [raw]
        return frozenset(slot.order[_index(x, len(slot.order))] for x in items)
    if q.qtype is QType.TRUEFALSE:
        if raw in ("true", "false"):
            return raw == "true"
        raise BadResponse("answer true or false")
    if q.qtype in (QType.SHORTANSWER, QType.NUMERICAL, QType.ESSAY):
        if not isinstance(raw, str):
            raise BadResponse("a text answer is expected")
        limit = 20_000 if q.qtype is QType.ESSAY else 500
        if len(raw) > limit:
            raise BadResponse(f"an answer of at most {limit} characters")
        return raw
    if q.qtype is QType.MATCH:
        if not isinstance(raw, Mapping):
            raise BadResponse("a matching answer maps questions to answers")
        out: dict[int, int] = {}
        for stem_pos, choice_pos in raw.items():
            stem = slot.stem_order[_index(stem_pos, len(slot.stem_order))]
            if choice_pos in (None, ""):
                continue
            out[stem] = slot.order[_index(choice_pos, len(slot.order))]
        return out or None
    raise BadResponse(f"{q.qtype} takes no answer")


def refusal(
    quiz: QuizDefinition,
    history: Sequence[PastAttempt],
    now: datetime,
    course_percent: float | None,
) -> StartRefused | None:
    """Why a new attempt may not start now, or None. An open attempt is resumed, not restarted."""
    if quiz.min_course_percent is not None and (
        course_percent is None or course_percent < quiz.min_course_percent
    ):
        return StartRefused(
            "not-eligible",
            f"this quiz needs {quiz.min_course_percent:g}% on the graded notebooks",
        )
    if quiz.opens and now < quiz.opens:
        return StartRefused("not-open", "this quiz is not open yet")
    if quiz.closes and now >= quiz.closes:
        return StartRefused("closed", "this quiz is closed")
    if any(a.submitted_at is None for a in history):
        return StartRefused("in-progress", "an attempt is already in progress")
    if quiz.attempts is not None and len(history) >= quiz.attempts:
        return StartRefused("no-attempts-left", f"all {quiz.attempts} attempts are used")
    if history and quiz.delay:
        last = max(a.submitted_at for a in history if a.submitted_at)
        if now < last + quiz.delay:
            opens = (last + quiz.delay).isoformat()
            return StartRefused("too-soon", f"the next attempt opens at {opens}")
    return None


def start(
    quiz: QuizDefinition,
    pools: Mapping[str, Sequence[Question]],
    history: Sequence[PastAttempt],
    now: datetime,
    seed: str,
    course_percent: float | None = None,
    seen: Mapping[str, int] | None = None,
) -> AttemptState:
    """A new attempt numbered after `history`, or StartRefused."""
    why = refusal(quiz, history, now, course_percent)
    if why is not None:
        raise why
    number = max((a.number for a in history), default=0) + 1
    return AttemptState(quiz.id, number, seed, now, draw(quiz, pools, seed, seen))


@dataclass(frozen=True)
class Result:
    """A scored attempt. `marks[qid]` is None for an essay not graded yet."""

    marks: Mapping[str, float | None]
    total: float
    maximum: int
    pending: int

    @property
    def percent(self) -> float:
        """The grade in percent with two decimals, as Moodle shows and compares quiz grades
        (three answers at 33.33333 % add up to 99.99999 %, which is 100.00 %)."""
        return round(100 * self.total / self.maximum, 2) if self.maximum else 0.0

    def passed(self, quiz: QuizDefinition) -> bool | None:
        """Passed, failed, or None while essays wait for grading."""
        if self.pending:
            return None
        return self.percent >= quiz.pass_mark


def score(
    state: AttemptState,
    questions: Mapping[str, Question],
    manual: Mapping[str, float] | None = None,
) -> Result:
    """Mark every slot: automatic marks, and `manual` fractions for essays an instructor graded."""
    manual = manual or {}
    marks: dict[str, float | None] = {}
    for slot in state.slots:
        q = questions[slot.question_id]
        value = scoring.mark(q, state.responses.get(slot.question_id))
        if q.qtype is QType.ESSAY:
            value = manual.get(slot.question_id)
            if value is None and state.responses.get(slot.question_id) is None and state.finished:
                value = 0.0  # nothing to grade: an unanswered essay earns nothing
        marks[slot.question_id] = value
    total = sum(v for v in marks.values() if v is not None)
    pending = sum(1 for v in marks.values() if v is None)
    return Result(marks, total, len(state.slots), pending)


@dataclass(frozen=True)
class ReviewOptions:
    """What a learner may see of an attempt now."""

    marks: bool
    feedback: bool
    right_answers: bool


def review_options(quiz: QuizDefinition, state: AttemptState, now: datetime) -> ReviewOptions:
    """Per the quiz's review policy; nothing at all while the attempt is open (except practice
    questions already checked: see `may_check`)."""
    if not state.finished:
        return ReviewOptions(False, False, False)
    show = {
        Review.NEVER: False,
        Review.AFTER_ATTEMPT: True,
        Review.IMMEDIATE: True,
        Review.AFTER_CLOSE: quiz.closes is not None and now >= quiz.closes,
    }[quiz.review]
    return ReviewOptions(marks=True, feedback=show, right_answers=show)


def may_check(quiz: QuizDefinition) -> bool:
    """Practice quizzes show a question's mark, feedback and right answer once it is checked."""
    return quiz.kind is Kind.PRACTICE and quiz.review is Review.IMMEDIATE
