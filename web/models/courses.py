"""Courses and modules (synced from course.toml), cohorts, enrolments, per-cohort due dates."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from web.extensions import db
from web.models.types import UTCDateTime, utcnow


class Course(db.Model):
    __tablename__ = "course"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # course.toml `id`
    title: Mapped[str] = mapped_column(String(200))
    pass_mark: Mapped[float]  # percent of all points
    resubmission: Mapped[str] = mapped_column(String(10))  # "best" | "latest"
    # course.toml's late policy: per, percent, floor, grace_minutes.
    late_policy: Mapped[dict] = mapped_column(JSON, default=dict)
    synced_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    modules: Mapped[list[Module]] = relationship(
        back_populates="course", order_by="Module.position", cascade="all, delete-orphan"
    )

    @property
    def total_points(self) -> float:
        return sum(m.points for m in self.modules if m.active)


class Module(db.Model):
    """One nbgrader assignment. The release notebook's bytes live here, so a grading host or a
    second portal needs no shared filesystem for them."""

    __tablename__ = "module"
    __table_args__ = (UniqueConstraint("course_id", "slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[str] = mapped_column(ForeignKey("course.id"), index=True)
    slug: Mapped[str] = mapped_column(String(64))  # the module id in course.toml
    position: Mapped[int]
    title: Mapped[str] = mapped_column(String(200))
    goals: Mapped[list] = mapped_column(JSON, default=list)
    minutes: Mapped[int] = mapped_column(default=0)
    points: Mapped[float] = mapped_column(default=0.0)
    prerequisites: Mapped[list] = mapped_column(JSON, default=list)
    late_policy: Mapped[dict | None] = mapped_column(JSON)
    # The graded cells' ids, to recognise a notebook of another module at upload.
    grade_ids: Mapped[list] = mapped_column(JSON, default=list)
    release_notebook: Mapped[bytes] = deferred(mapped_column(LargeBinary))
    lesson_html: Mapped[str] = deferred(mapped_column(Text, default=""))
    # False once a sync no longer finds it in course.toml (its submissions are kept).
    active: Mapped[bool] = mapped_column(default=True)

    course: Mapped[Course] = relationship(back_populates="modules")


class Cohort(db.Model):
    __tablename__ = "cohort"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[str] = mapped_column(ForeignKey("course.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    invite_code: Mapped[str] = mapped_column(String(32), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    course: Mapped[Course] = relationship()
    instructors: Mapped[list[CohortInstructor]] = relationship(
        back_populates="cohort", cascade="all, delete-orphan"
    )
    enrollments: Mapped[list[Enrollment]] = relationship(
        back_populates="cohort", cascade="all, delete-orphan"
    )
    due_dates: Mapped[list[DueDate]] = relationship(
        back_populates="cohort", cascade="all, delete-orphan"
    )


class CohortInstructor(db.Model):
    __tablename__ = "cohort_instructor"

    cohort_id: Mapped[int] = mapped_column(
        ForeignKey("cohort.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user.id", ondelete="CASCADE"), primary_key=True
    )

    cohort: Mapped[Cohort] = relationship(back_populates="instructors")
    user = relationship("User")


class Enrollment(db.Model):
    """A learner in a cohort; one cohort per learner per course."""

    __tablename__ = "enrollment"
    __table_args__ = (UniqueConstraint("user_id", "course_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohort.id", ondelete="CASCADE"), index=True)
    course_id: Mapped[str] = mapped_column(ForeignKey("course.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    cohort: Mapped[Cohort] = relationship(back_populates="enrollments")
    user = relationship("User")


class DueDate(db.Model):
    __tablename__ = "due_date"
    __table_args__ = (UniqueConstraint("cohort_id", "module_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohort.id", ondelete="CASCADE"))
    module_id: Mapped[int] = mapped_column(ForeignKey("module.id"))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)

    cohort: Mapped[Cohort] = relationship(back_populates="due_dates")
    module: Mapped[Module] = relationship()
