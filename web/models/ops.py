"""What operators watch: grading workers announce themselves here."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from web.extensions import db
from web.models.types import UTCDateTime, utcnow


class WorkerHeartbeat(db.Model):
    __tablename__ = "worker_heartbeat"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)  # host:pid
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    jobs_done: Mapped[int] = mapped_column(default=0)
