"""Helpers for the portal's quiz tests: a clock the test moves, eligibility from real graded
rows, the right answer to a drawn question in display positions, and a small course copy."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

from web.quiz.model import QType, Question

ROOT = Path(__file__).resolve().parents[3]
COURSE = ROOT / "courses" / "lune-101"


class Clock:
    """`QUIZ_CLOCK` for the app: returns `self.now`, moved by the test."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)


def make_eligible(user) -> None:
    """Graded submissions with full marks for every module (what the grader would store)."""
    from web.extensions import db
    from web.models import GradingResult, Module, Submission

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
            status="graded", raw_score=module.points, score=module.points, max_score=module.points
        )
        db.session.add(sub)
    db.session.commit()


def right_answer(q: Question, answer_order: list[int], stem_order: list[int]) -> object:
    """What a learner who knows the answer sends for this slot (display positions)."""
    if q.qtype is QType.MULTICHOICE:
        if q.single:
            best = max(c.fraction for c in q.choices)
            index = next(i for i, c in enumerate(q.choices) if c.fraction == best)
            return str(answer_order.index(index))
        return [str(answer_order.index(i)) for i, c in enumerate(q.choices) if c.fraction > 0]
    if q.qtype is QType.TRUEFALSE:
        return "true" if q.correct else "false"
    if q.qtype is QType.SHORTANSWER:
        best = max(a.fraction for a in q.alternatives)
        return next(a.text for a in q.alternatives if a.fraction == best).replace("*", "x")
    if q.qtype is QType.NUMERICAL:
        best = max((n for n in q.numbers if n.value is not None), key=lambda n: n.fraction)
        return repr(best.value)
    if q.qtype is QType.MATCH:
        choices = q.match_choices
        return {
            str(spos): str(answer_order.index(choices.index(q.pairs[stem].answer)))
            for spos, stem in enumerate(stem_order)
        }
    return "An essay answer."


def course_copy(tmp_path: Path, quizzes_toml: str, banks: dict[str, str]) -> Path:
    """courses/lune-101 with other [[quiz]] tables and banks: a COURSES_DIR for the app."""
    courses = tmp_path / "courses"
    target = courses / "lune-101"
    (target / "quizzes").mkdir(parents=True)
    text = (COURSE / "course.toml").read_text()
    modules = text[: text.index("[[quiz]]")]
    (target / "course.toml").write_text(modules + quizzes_toml)
    for name, body in banks.items():
        (target / "quizzes" / name).write_text(body)
    return courses
