"""Submissions (the uploaded bytes, committed before the 202), their grading result, overrides."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, LargeBinary, String, Text, func
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from web.extensions import db
from web.models.types import UTCDateTime

# queued → grading → graded | rejected; "retrying" after an infrastructure failure.
STATUSES = ("queued", "grading", "retrying", "graded", "rejected")
FINAL = ("graded", "rejected")


class Submission(db.Model):
    __tablename__ = "submission"
    __table_args__ = (Index("ix_submission_status_received", "status", "received_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    module_id: Mapped[int] = mapped_column(ForeignKey("module.id"), index=True)
    cohort_id: Mapped[int | None] = mapped_column(ForeignKey("cohort.id", ondelete="SET NULL"))
    filename: Mapped[str] = mapped_column(String(255))
    notebook: Mapped[bytes] = deferred(mapped_column(LargeBinary))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int]
    # Server time, from the database's clock (one clock for every portal host).
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, server_default=func.now())
    status: Mapped[str] = mapped_column(String(12), default="queued")
    via: Mapped[str] = mapped_column(String(10), default="web")  # "web" | "api"
    attempts: Mapped[int] = mapped_column(default=0)  # grading runs started
    enqueued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Why the last run failed on our side (never shown as the learner's fault).
    infra_error: Mapped[str] = mapped_column(Text, default="")

    user = relationship("User")
    module = relationship("Module")
    result: Mapped[GradingResult | None] = relationship(
        back_populates="submission", uselist=False, cascade="all, delete-orphan"
    )
    overrides: Mapped[list[ScoreOverride]] = relationship(
        back_populates="submission", order_by="ScoreOverride.id", cascade="all, delete-orphan"
    )

    @property
    def effective_score(self) -> float | None:
        """The score that counts: the last override, else the graded score."""
        if self.overrides:
            return self.overrides[-1].after
        if self.result is not None and self.status == "graded":
            return self.result.score
        return None


class GradingResult(db.Model):
    """At most one per submission (the unique key makes a repeated job store nothing new)."""

    __tablename__ = "grading_result"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(
        ForeignKey("submission.id", ondelete="CASCADE"), unique=True
    )
    status: Mapped[str] = mapped_column(String(12))  # "graded" | "rejected"
    raw_score: Mapped[float] = mapped_column(default=0.0)
    late_penalty: Mapped[float] = mapped_column(default=0.0)  # points taken off
    score: Mapped[float] = mapped_column(default=0.0)
    max_score: Mapped[float] = mapped_column(default=0.0)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    exercises: Mapped[list] = mapped_column(JSON, default=list)
    feedback: Mapped[str] = deferred(mapped_column(Text, default=""))  # Markdown, learner-safe
    message: Mapped[str] = mapped_column(Text, default="")  # why a notebook was rejected
    seconds: Mapped[float] = mapped_column(default=0.0)
    graded_at: Mapped[datetime] = mapped_column(UTCDateTime, server_default=func.now())
    worker: Mapped[str] = mapped_column(String(120), default="")

    submission: Mapped[Submission] = relationship(back_populates="result")


class ScoreOverride(db.Model):
    """An instructor's manual score, with the required reason: the audit trail of a grade."""

    __tablename__ = "score_override"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(
        ForeignKey("submission.id", ondelete="CASCADE"), index=True
    )
    instructor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    before: Mapped[float | None]
    after: Mapped[float]
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, server_default=func.now())

    submission: Mapped[Submission] = relationship(back_populates="overrides")
    instructor = relationship("User")
