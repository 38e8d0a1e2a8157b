"""Quiz attempts: the drawn questions with their saved answers, and the essay-grading trail.

The attempt limit is the database's to enforce: (learner, course, quiz, number) is unique and
`number` may not exceed the `max_attempts` recorded when the attempt started, so however many
"start" requests race, no learner gets more attempts than the quiz allows.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, Text, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from web.extensions import db
from web.models.types import UTCDateTime


class QuizAttempt(db.Model):
    __tablename__ = "quiz_attempt"
    __table_args__ = (
        UniqueConstraint("user_id", "course_id", "quiz_id", "number"),
        CheckConstraint(
            "number >= 1 AND (max_attempts IS NULL OR number <= max_attempts)",
            name="attempt_number_allowed",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    course_id: Mapped[str] = mapped_column(ForeignKey("course.id"), index=True)
    quiz_id: Mapped[str] = mapped_column(String(120))
    number: Mapped[int]
    max_attempts: Mapped[int | None]  # the quiz's limit when this attempt started
    seed: Mapped[str] = mapped_column(String(64))  # the draw is reproducible from it
    language: Mapped[str] = mapped_column(String(5), default="en")  # at start
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    deadline: Mapped[datetime | None] = mapped_column(UTCDateTime)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    autosubmitted: Mapped[bool] = mapped_column(default=False)
    # Set at submission (and again when an essay is graded): marks out of `max_score`.
    score: Mapped[float | None]
    max_score: Mapped[int] = mapped_column(default=0)
    pending: Mapped[int] = mapped_column(default=0)  # essays waiting for an instructor
    passed: Mapped[bool | None]

    user = relationship("User")
    slots: Mapped[list[QuizSlot]] = relationship(
        back_populates="attempt", order_by="QuizSlot.position", cascade="all, delete-orphan"
    )

    @property
    def finished(self) -> bool:
        return self.submitted_at is not None

    @property
    def percent(self) -> float | None:
        if self.score is None or not self.max_score:
            return None
        return round(100.0 * self.score / self.max_score, 2)  # as engine.Result.percent


class QuizSlot(db.Model):
    """One drawn question of an attempt, in display order, with the learner's saved answer."""

    __tablename__ = "quiz_slot"
    __table_args__ = (UniqueConstraint("attempt_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(
        ForeignKey("quiz_attempt.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int]  # 0-based display position
    draw_index: Mapped[int] = mapped_column(default=0)  # the slot, for the statistics
    question_id: Mapped[str] = mapped_column(String(200), index=True)
    pool: Mapped[str] = mapped_column(String(64))
    answer_order: Mapped[list] = mapped_column(JSON, default=list)
    stem_order: Mapped[list] = mapped_column(JSON, default=list)
    # The response in the question's own terms (engine.read_response), JSON-encoded.
    response: Mapped[dict | None] = mapped_column(JSON)
    saved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # practice: "Check"
    mark: Mapped[float | None]  # fraction of the question's mark, once scored

    attempt: Mapped[QuizAttempt] = relationship(back_populates="slots")
    grades: Mapped[list[EssayGrade]] = relationship(
        back_populates="slot", order_by="EssayGrade.id", cascade="all, delete-orphan"
    )


class EssayGrade(db.Model):
    """An instructor's mark for an essay answer, with the required reason: the audit trail, as
    `ScoreOverride` is for notebooks. The last row is the mark that counts."""

    __tablename__ = "essay_grade"

    id: Mapped[int] = mapped_column(primary_key=True)
    slot_id: Mapped[int] = mapped_column(ForeignKey("quiz_slot.id", ondelete="CASCADE"), index=True)
    instructor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    before: Mapped[float | None]
    after: Mapped[float]
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, server_default=func.now())

    slot: Mapped[QuizSlot] = relationship(back_populates="grades")
    instructor = relationship("User")
