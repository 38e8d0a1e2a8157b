"""Certificates the portal issued, and every change of their status (revocation, suspension).

The credential itself (Open Badges 3.0 JSON, as last written: signed, then anchored) is stored
whole, so `/verify/<id>` serves the very bytes the learner holds. A certificate keeps no personal
field of its own: the learner is a link (`user_id`, set to NULL when the account is deleted) and,
inside the credential, a salted hash of their email. The status changes are the versioned log
the published Bitstring Status Lists are rebuilt from (their order is the list version).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from web.extensions import db
from web.models.types import UTCDateTime, utcnow


class Certificate(db.Model):
    __tablename__ = "certificate"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # the credential's UUID
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL"), index=True
    )
    course_id: Mapped[str] = mapped_column(ForeignKey("course.id"), index=True)
    status_index: Mapped[int] = mapped_column(unique=True)
    credential: Mapped[str] = mapped_column(Text)  # JSON, exactly as served
    target_hash: Mapped[str] = mapped_column(String(64))  # its Merkle leaf (hex)
    exam_score: Mapped[float]
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    anchor_txid: Mapped[str | None] = mapped_column(String(64), index=True)
    anchored_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    changes: Mapped[list[CertificateStatusChange]] = relationship(
        back_populates="certificate", order_by="CertificateStatusChange.id"
    )


class CertificateStatusChange(db.Model):
    """One revoke / suspend / reinstate: the status lists' version is the number of rows."""

    __tablename__ = "certificate_status_change"

    id: Mapped[int] = mapped_column(primary_key=True)  # order = status-list version
    certificate_id: Mapped[str] = mapped_column(ForeignKey("certificate.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(12))  # "revocation" | "suspension"
    value: Mapped[bool]
    reason: Mapped[str] = mapped_column(Text)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    certificate: Mapped[Certificate] = relationship(back_populates="changes")
