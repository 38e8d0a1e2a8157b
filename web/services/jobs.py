"""The grading queue (huey) and the grading job.

The queue carries only a submission id. `grade` is idempotent: a submission already graded is
skipped, and the unique key on `grading_result.submission_id` makes a second concurrent run store
nothing. An infrastructure failure (sandbox, kernel, a killed worker) is never a score: the row
goes to "retrying" and huey runs the job again; after `GRADING_ATTEMPTS` the sweep picks it up.
The sweep (in `lune worker`, every third of `SWEEP_SECONDS`) re-queues whatever waited longer
than `SWEEP_SECONDS`, so losing the queue's contents loses no submission.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask, current_app
from huey import RedisHuey, SqliteHuey
from huey.api import Huey, TaskWrapper
from huey.exceptions import RetryTask
from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from grader.policy import LatePolicy
from web.extensions import db
from web.logs import grading_log
from web.models import Course, DueDate, GradingResult, Submission, WorkerHeartbeat
from web.models.types import utcnow

WORKER_NAME = f"{socket.gethostname()}:{os.getpid()}"
_APP: Flask | None = None  # the app a worker process grades with (set before huey forks)


def worker_name() -> str:
    return os.environ.get("LUNE_WORKER_NAME") or WORKER_NAME


@dataclass(frozen=True)
class JobQueue:
    huey: Huey
    grade: TaskWrapper  # calling it with a submission id enqueues the job


def build_queue(config: dict[str, Any]) -> JobQueue:
    """huey's RedisHuey when REDIS_URL is set, else SqliteHuey in the instance folder."""
    if config.get("REDIS_URL"):
        huey: Huey = RedisHuey("lune", url=config["REDIS_URL"])
    else:
        path = Path(config["INSTANCE_PATH"]) / "queue.db"
        huey = SqliteHuey("lune", filename=str(path))
    attempts = max(1, int(config.get("GRADING_ATTEMPTS", 5)))
    grade_job = huey.task(name="grade", retries=attempts - 1, retry_delay=5)(grade_task)
    return JobQueue(huey, grade_job)


def queue(app: Flask | None = None) -> JobQueue:
    """The app's queue, built on first use (building it opens the queue's storage)."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    jobs = app.extensions.get("lune_queue")
    if jobs is None:
        jobs = app.extensions["lune_queue"] = build_queue(app.config)
    return jobs


def enqueue(sub: Submission) -> bool:
    """Put the submission's id on the queue; False (and the row stays queued) if it is down."""
    sub.enqueued_at = utcnow()
    db.session.commit()
    try:
        queue().grade(sub.id)
    except Exception as exc:  # a down queue must not lose or refuse the upload
        current_app.logger.error("queue unavailable for submission %s: %s", sub.id, exc)
        return False
    return True


def pending_count() -> int:
    try:
        return len(queue().huey)
    except Exception:
        return -1


# --- what runs in the worker ------------------------------------------------------------------


def set_worker_app(app: Flask) -> None:
    global _APP
    _APP = app


def _worker_app() -> Flask:
    global _APP
    if _APP is None:  # a worker started without `lune worker` (e.g. huey's own consumer)
        from web import create_app

        _APP = create_app()
    return _APP


def grade_task(submission_id: int) -> str:
    """huey task: grade one submission (runs in a worker process)."""
    with _worker_app().app_context():
        outcome = grade(submission_id)
    if outcome == "retry":
        raise RetryTask()
    return outcome


def _late_policy(sub: Submission) -> LatePolicy:
    table = sub.module.late_policy or db.session.get(Course, sub.module.course_id).late_policy
    return LatePolicy(**table) if table else LatePolicy()


def _due(sub: Submission):
    if sub.cohort_id is None:
        return None
    row = db.session.scalar(
        select(DueDate).where(
            DueDate.cohort_id == sub.cohort_id, DueDate.module_id == sub.module_id
        )
    )
    return row.due_at if row else None


def grade(submission_id: int) -> str:
    """Grade one submission: "graded" | "rejected" | "skipped" | "retry" (infrastructure)."""
    from grader.cohort import grade_submission
    from web.services.catalog import course_root

    if not _claim(submission_id):
        return "skipped"
    sub = db.session.get(Submission, submission_id)
    if sub is None:  # deleted (account erased) between the claim and now
        return "skipped"
    config = current_app.config
    try:
        root = course_root(Path(config["COURSES_DIR"]), sub.module.course_id)
        result = grade_submission(
            root,
            sub.module.slug,
            f"learner-{sub.user_id}",
            sub.notebook,
            timestamp=sub.received_at,
            sandbox=bool(config["SANDBOX"]),
        )
    except Exception as exc:  # our failure, never the learner's: retried
        grading_log.exception("grading failed", extra={"submission": submission_id})
        return _infrastructure(sub, f"{type(exc).__name__}: {exc}")
    if result.status not in ("graded", "rejected"):
        grading_log.warning(
            "infrastructure failure, will retry",
            extra={"submission": submission_id, "error": result.error[-500:]},
        )
        return _infrastructure(sub, result.error or result.status)
    due = _due(sub)
    raw = float(result.raw_score)
    penalty = 0.0
    if due is not None and result.status == "graded":
        late_seconds = (sub.received_at - due).total_seconds()
        penalty = round(raw * _late_policy(sub).penalty_fraction(late_seconds), 4)
    row = GradingResult(
        submission_id=sub.id,
        status=result.status,
        raw_score=raw,
        late_penalty=penalty,
        score=round(max(0.0, raw - penalty), 4) if result.status == "graded" else 0.0,
        max_score=float(result.max_score),
        due_at=due,
        exercises=result.exercises,
        feedback=_feedback_markdown(result),
        message=result.error if result.status == "rejected" else "",
        seconds=float(result.seconds),
        worker=worker_name(),
    )
    sub.status = result.status
    sub.infra_error = ""
    db.session.add(row)
    try:
        db.session.commit()
    except IntegrityError:  # another run stored it first: one result per submission
        db.session.rollback()
        grading_log.info("already graded elsewhere", extra={"submission": submission_id})
        return "skipped"
    _count_job()
    grading_log.info(
        result.status,
        extra={
            "submission": submission_id,
            "module": row.submission.module.slug,
            "score": row.score,
            "max_score": row.max_score,
            "seconds": row.seconds,
            "attempt": sub.attempts,
            "worker": row.worker,
        },
    )
    return result.status


def _orphaned_before():
    """A run started before this is presumed dead (its worker was killed)."""
    return utcnow() - timedelta(seconds=int(current_app.config["GRADING_TIMEOUT"]))


def _claim(submission_id: int) -> bool:
    """Take the submission for this run, atomically: one conditional UPDATE, so two workers
    handed the same id (a sweep's duplicate, a retried message) never grade it at once."""
    result = db.session.execute(
        update(Submission)
        .where(
            Submission.id == submission_id,
            or_(
                Submission.status.in_(("queued", "retrying")),
                (Submission.status == "grading") & (Submission.started_at < _orphaned_before()),
            ),
        )
        .values(status="grading", started_at=utcnow(), attempts=Submission.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    claimed = getattr(result, "rowcount", 0)  # a CursorResult for an UPDATE
    db.session.commit()
    return claimed == 1


def _feedback_markdown(result) -> str:
    from grader.feedback import render_markdown

    return render_markdown(result.to_dict())


def _infrastructure(sub: Submission, why: str) -> str:
    db.session.rollback()
    sub = db.session.get(Submission, sub.id)
    if sub is None:
        return "skipped"
    sub.status = "retrying"
    sub.infra_error = why[-2000:]
    db.session.commit()
    return "retry"


def _count_job() -> None:
    name = worker_name()
    beat = db.session.get(WorkerHeartbeat, name)
    if beat is not None:
        beat.jobs_done += 1
        beat.last_seen = utcnow()
        db.session.commit()


def sweep() -> int:
    """Re-queue what waited longer than SWEEP_SECONDS, and runs older than GRADING_TIMEOUT
    (their worker died mid-job)."""
    cutoff = utcnow() - timedelta(seconds=int(current_app.config["SWEEP_SECONDS"]))
    waiting = or_(Submission.enqueued_at.is_(None), Submission.enqueued_at < cutoff)
    stale = db.session.scalars(
        select(Submission).where(
            or_(
                Submission.status.in_(("queued", "retrying")) & waiting,
                (Submission.status == "grading") & (Submission.started_at < _orphaned_before()),
            )
        )
    ).all()
    for sub in stale:
        if sub.status == "grading":  # its worker died mid-job: graded again, never scored 0
            sub.status = "retrying"
        enqueue(sub)
        grading_log.info("re-queued by the sweep", extra={"submission": sub.id})
    return len(stale)


def heartbeat() -> None:
    name = worker_name()
    beat = db.session.get(WorkerHeartbeat, name)
    if beat is None:
        db.session.add(WorkerHeartbeat(name=name))
    else:
        beat.last_seen = utcnow()
    db.session.commit()


def regrade(subs: list[Submission]) -> int:
    """Drop the stored results of `subs` and queue them again (overrides are kept)."""
    for sub in subs:
        if sub.result is not None:
            db.session.delete(sub.result)
        sub.status = "queued"
        sub.infra_error = ""
    db.session.commit()
    for sub in subs:
        enqueue(sub)
    return len(subs)
