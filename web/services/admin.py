"""Administration: users and roles, and the platform's status (queue, workers, node)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select

from web.errors import NotFound, ServiceError
from web.extensions import db
from web.models import Submission, User, WorkerHeartbeat
from web.models.types import utcnow
from web.models.users import ROLES
from web.services import jobs
from web.services.node import NodeClient, NodeSettings, NodeUnavailable, RPCError


def users(query: str = "") -> list[User]:
    stmt = select(User).order_by(User.id)
    if query:
        like = f"%{query.strip().lower()[:100]}%"
        stmt = stmt.where((func.lower(User.email).like(like)) | (func.lower(User.name).like(like)))
    return list(db.session.scalars(stmt.limit(500)))


def set_role(admin: User, user_id: int, role: str) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(_("No such user."))
    if role not in ROLES:
        raise ServiceError(_("Unknown role %(role)s.", role=role[:20]))
    if user.id == admin.id and role != "admin":
        raise ServiceError(_("You cannot remove your own admin role."))
    user.role = role
    db.session.commit()
    return user


def set_active(admin: User, user_id: int, active: bool) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(_("No such user."))
    if user.id == admin.id:
        raise ServiceError(_("You cannot deactivate your own account."))
    user.active = active
    if not active:
        from web.security import end_all_sessions

        end_all_sessions(user)
    db.session.commit()
    return user


@dataclass
class Status:
    queued: int
    retrying: int
    grading: int
    queue_length: int  # messages in huey's queue (-1: queue unreachable)
    oldest_pending: datetime | None
    workers: list[WorkerHeartbeat]
    node_height: int | None
    node_error: str


def status() -> Status:
    counts = dict(
        db.session.execute(
            select(Submission.status, func.count()).group_by(Submission.status)
        ).all()
    )
    oldest = db.session.scalar(
        select(func.min(Submission.received_at)).where(
            Submission.status.in_(("queued", "retrying", "grading"))
        )
    )
    if isinstance(oldest, str):  # SQLite's min() hands back the stored text
        oldest = datetime.fromisoformat(oldest).replace(tzinfo=utcnow().tzinfo)
    elif oldest is not None and oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=utcnow().tzinfo)
    recent = list(
        db.session.scalars(
            select(WorkerHeartbeat)
            .where(WorkerHeartbeat.last_seen >= utcnow() - timedelta(minutes=1))
            .order_by(WorkerHeartbeat.name)
        )
    )
    height, error = _node_height()
    return Status(
        queued=int(counts.get("queued", 0)),
        retrying=int(counts.get("retrying", 0)),
        grading=int(counts.get("grading", 0)),
        queue_length=jobs.pending_count(),
        oldest_pending=oldest,
        workers=recent,
        node_height=height,
        node_error=error,
    )


def _node_height() -> tuple[int | None, str]:
    try:
        with NodeClient(NodeSettings.from_config(current_app.config)) as client:
            return int(client.call("getblockcount")), ""
    except (NodeUnavailable, RPCError) as exc:
        return None, str(exc)
