"""A learner's progress: each module's status and counting score, the course total against the
pass mark, and what is left before certification eligibility."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from web.extensions import db
from web.models import Course, Module, Submission, User
from web.models.types import utcnow
from web.services import cohorts
from web.services.catalog import active_modules
from web.services.submissions import PENDING, SCORE_LOADS, counting


@dataclass
class ModuleProgress:
    module: Module
    status: str  # "not-started" | "submitted" | "graded" | "late" | "rejected" | "overdue"
    score: float | None
    max_score: float
    due: datetime | None
    attempts: int
    counting_id: int | None
    late_penalty: float = 0.0
    prerequisites_met: bool = True
    prerequisite_titles: list[str] = field(default_factory=list)

    @property
    def fraction(self) -> float:
        return (self.score or 0.0) / self.max_score if self.max_score else 0.0


@dataclass
class CourseProgress:
    course: Course
    modules: list[ModuleProgress] = field(default_factory=list)
    cohort_name: str | None = None

    @property
    def earned(self) -> float:
        return round(sum(m.score or 0.0 for m in self.modules), 4)

    @property
    def total(self) -> float:
        return round(sum(m.max_score for m in self.modules), 4)

    @property
    def percent(self) -> float:
        return round(100.0 * self.earned / self.total, 1) if self.total else 0.0

    @property
    def points_needed(self) -> float:
        """Points still to earn to reach the pass mark (0 once reached)."""
        return max(0.0, round(self.course.pass_mark / 100.0 * self.total - self.earned, 2))

    @property
    def missing(self) -> list[ModuleProgress]:
        return [m for m in self.modules if m.score is None]

    @property
    def eligible(self) -> bool:
        """Eligible for certification: the pass mark reached on the graded notebooks."""
        return self.total > 0 and self.percent >= self.course.pass_mark


def _status(subs: list[Submission], best: Submission | None, due: datetime | None) -> str:
    if best is not None:
        late = best.result is not None and best.result.late_penalty > 0
        return "late" if late else "graded"
    if any(s.status in PENDING for s in subs):
        return "submitted"
    if subs and all(s.status == "rejected" for s in subs):
        return "rejected"
    if due is not None and due < utcnow():
        return "overdue"
    return "not-started"


def course_progress(user: User, course: Course) -> CourseProgress:
    enrollment = cohorts.enrollment_of(user, course.id)
    dues = cohorts.due_dates(enrollment.cohort_id if enrollment else None)
    modules = active_modules(course)
    subs_by_module: dict[int, list[Submission]] = {m.id: [] for m in modules}
    rows = db.session.scalars(
        select(Submission)
        .where(Submission.user_id == user.id, Submission.module_id.in_(subs_by_module))
        .options(*SCORE_LOADS)
        .order_by(Submission.id)
    )
    for sub in rows:
        subs_by_module[sub.module_id].append(sub)
    progress = CourseProgress(course, cohort_name=enrollment.cohort.name if enrollment else None)
    done = set()
    titles = {m.slug: m.title for m in modules}
    for m in modules:
        subs = subs_by_module[m.id]
        best = counting(subs, course.resubmission)
        result = best.result if best is not None else None
        progress.modules.append(
            ModuleProgress(
                module=m,
                status=_status(subs, best, dues.get(m.id)),
                score=best.effective_score if best is not None else None,
                max_score=result.max_score if result is not None else m.points,
                due=dues.get(m.id),
                attempts=len(subs),
                counting_id=best.id if best is not None else None,
                late_penalty=result.late_penalty if result is not None else 0.0,
                prerequisites_met=all(p in done for p in m.prerequisites),
                prerequisite_titles=[titles.get(p, p) for p in m.prerequisites],
            )
        )
        if best is not None:
            done.add(m.slug)
    return progress
