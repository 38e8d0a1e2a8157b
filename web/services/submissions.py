"""Uploads: checked, stored (one committed row: bytes, SHA-256, size, server time), then queued.

Nothing is graded on the request path. The row is the source of truth: if the queue is down the
upload is still accepted and the worker's sweep queues it later. Which attempt counts follows the
course's `resubmission` rule ("best" or "latest").
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from grader.errors import SubmissionRejected
from grader.job import parse_notebook
from web.errors import Forbidden, NotFound, ServiceError
from web.extensions import db
from web.models import Module, Submission, User
from web.models.submissions import FINAL
from web.services import cohorts, jobs
from web.services.lessons import grade_ids

PENDING = ("queued", "grading", "retrying")
# What a score needs, loaded with the submissions in two queries instead of two per row.
SCORE_LOADS = (selectinload(Submission.result), selectinload(Submission.overrides))


def check_upload(module: Module, data: bytes) -> None:
    """Refuse what can never be graded, with a message naming the problem (nothing is stored)."""
    limit = int(current_app.config["UPLOAD_MAX_BYTES"])
    if len(data) > limit:
        raise ServiceError(_("The notebook is larger than %(n)s MiB.", n=limit // 2**20), 413)
    if not data:
        raise ServiceError(_("The file is empty."))
    try:
        parse_notebook(data)
    except SubmissionRejected as exc:
        raise ServiceError(
            _("This is not a notebook we can grade: %(why)s.", why=str(exc))
        ) from None
    ids = set(grade_ids(data))
    if not ids:
        raise ServiceError(
            _(
                "This notebook has no graded cells: upload the module's notebook "
                "(the one you downloaded from this page or opened with lune lab)."
            )
        )
    if not ids & set(module.grade_ids):
        other = _module_with(ids, module.course_id)
        if other is not None:
            raise ServiceError(
                _(
                    "This is the notebook of module “%(other)s”, not of “%(this)s”.",
                    other=other.title,
                    this=module.title,
                )
            )
        raise ServiceError(_("This notebook belongs to no module of this course."))


def _module_with(ids: set[str], course_id: str) -> Module | None:
    for m in db.session.scalars(select(Module).where(Module.course_id == course_id, Module.active)):
        if ids & set(m.grade_ids):
            return m
    return None


def accept_upload(
    user: User, module: Module, filename: str, data: bytes, via: str = "web"
) -> Submission:
    check_upload(module, data)
    enrollment = cohorts.enrollment_of(user, module.course_id)
    sub = Submission(
        user_id=user.id,
        module_id=module.id,
        cohort_id=enrollment.cohort_id if enrollment else None,
        filename=(filename or f"{module.slug}.ipynb")[-255:],
        notebook=data,
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        via=via,
    )
    db.session.add(sub)
    db.session.commit()  # acknowledged only once this row is durable
    jobs.enqueue(sub)
    return sub


def visible_to(user: User, sub: Submission) -> bool:
    if sub.user_id == user.id or user.is_admin:
        return True
    if user.is_instructor and sub.cohort_id is not None:
        from web.models import Cohort

        cohort = db.session.get(Cohort, sub.cohort_id)
        return cohort is not None and cohorts.teaches(user, cohort)
    return False


def get_for(user: User, submission_id: int) -> Submission:
    sub = db.session.get(Submission, submission_id)
    if sub is None or not visible_to(user, sub):
        raise NotFound(_("No such submission."))
    return sub


def queue_position(sub: Submission) -> int | None:
    """1 = next to be graded; None once it is being graded or done."""
    if sub.status not in ("queued", "retrying"):
        return None
    ahead = db.session.scalar(
        select(func.count())
        .select_from(Submission)
        .where(Submission.status.in_(("queued", "retrying")), Submission.id < sub.id)
    )
    return int(ahead or 0) + 1


def attempts(user_id: int, module_id: int) -> list[Submission]:
    return list(
        db.session.scalars(
            select(Submission)
            .where(Submission.user_id == user_id, Submission.module_id == module_id)
            .options(*SCORE_LOADS)
            .order_by(Submission.id)
        )
    )


def counting(subs: list[Submission], rule: str) -> Submission | None:
    """The attempt that counts: the best effective score, or the latest graded one."""
    graded = [s for s in subs if s.status == "graded" and s.effective_score is not None]
    if not graded:
        return None
    if rule == "best":
        return max(graded, key=lambda s: (s.effective_score or 0.0, -s.id))
    return graded[-1]


@dataclass(frozen=True)
class StatusView:
    id: int
    status: str
    position: int | None
    score: float | None
    max_score: float | None
    final: bool

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "status": self.status,
            "queue_position": self.position,
            "score": self.score,
            "max_score": self.max_score,
            "final": self.final,
        }


def status_of(sub: Submission) -> StatusView:
    result = sub.result
    return StatusView(
        id=sub.id,
        status=sub.status,
        position=queue_position(sub),
        score=sub.effective_score,
        max_score=result.max_score if result is not None else None,
        final=sub.status in FINAL,
    )


def require_owner(user: User, sub: Submission) -> None:
    if sub.user_id != user.id:
        raise Forbidden(_("Only the learner who uploaded it can do this."))
