"""Cohorts: creation, invite codes and links, CSV import, enrolment, due dates, who teaches whom."""

from __future__ import annotations

import csv
import io
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime

from flask import current_app, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from web.errors import Forbidden, NotFound, ServiceError
from web.extensions import db
from web.models import Cohort, CohortInstructor, Course, DueDate, Enrollment, Module, User
from web.services import accounts, mail

MAX_CSV_ROWS = 2000


def new_invite_code() -> str:
    # 10 characters of an unambiguous alphabet: easy to dictate in a classroom.
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _ in range(10))


def create_cohort(instructor: User, course_id: str, name: str) -> Cohort:
    course = db.session.get(Course, course_id)
    if course is None:
        raise NotFound(_("No course %(course)s.", course=course_id))
    name = (name or "").strip()
    if not name or len(name) > 120:
        raise ServiceError(_("Please give the cohort a name of 1 to 120 characters."))
    cohort = Cohort(course_id=course.id, name=name, invite_code=new_invite_code())
    cohort.instructors.append(CohortInstructor(user_id=instructor.id))
    db.session.add(cohort)
    db.session.commit()
    return cohort


def cohort_for_code(code: str) -> Cohort:
    cohort = db.session.scalar(select(Cohort).where(Cohort.invite_code == code.strip().upper()))
    if cohort is None:
        raise ServiceError(_("No cohort has the invite code %(code)s.", code=code[:32]))
    return cohort


def enroll(user: User, cohort: Cohort) -> Enrollment:
    """Put `user` in `cohort`; a learner is in at most one cohort of a course."""
    existing = db.session.scalar(
        select(Enrollment).where(
            Enrollment.user_id == user.id, Enrollment.course_id == cohort.course_id
        )
    )
    if existing is not None:
        if existing.cohort_id == cohort.id:
            return existing
        raise ServiceError(
            _(
                "You are already in another cohort of this course (%(name)s).",
                name=existing.cohort.name,
            ),
            status=409,
        )
    row = Enrollment(cohort_id=cohort.id, course_id=cohort.course_id, user_id=user.id)
    db.session.add(row)
    db.session.flush()
    return row


def join(user: User, code: str) -> Cohort:
    cohort = cohort_for_code(code)
    enroll(user, cohort)
    db.session.commit()
    return cohort


def teaches(user: User, cohort: Cohort) -> bool:
    if user.is_admin:
        return True
    return any(ci.user_id == user.id for ci in cohort.instructors)


def cohort_for_instructor(user: User, cohort_id: int) -> Cohort:
    """The cohort, if `user` teaches it (or is an admin); 404 otherwise, 403 for a learner."""
    if not user.is_instructor:
        raise Forbidden(_("Only instructors can see cohorts."))
    cohort = db.session.get(Cohort, cohort_id)
    if cohort is None or not teaches(user, cohort):
        raise NotFound(_("No such cohort."))
    return cohort


def cohorts_taught(user: User) -> list[Cohort]:
    query = select(Cohort).order_by(Cohort.created_at.desc())
    if not user.is_admin:
        query = query.join(CohortInstructor).where(CohortInstructor.user_id == user.id)
    return list(db.session.scalars(query))


def enrollment_of(user: User, course_id: str) -> Enrollment | None:
    return db.session.scalar(
        select(Enrollment)
        .where(Enrollment.user_id == user.id, Enrollment.course_id == course_id)
        .options(joinedload(Enrollment.cohort))
    )


def learners(cohort: Cohort) -> list[User]:
    return sorted((e.user for e in cohort.enrollments), key=lambda u: (u.name.lower(), u.id))


def invite_link(cohort: Cohort) -> str:
    return current_app.config["BASE_URL"].rstrip("/") + url_for(
        "auth.register", code=cohort.invite_code
    )


def regenerate_code(cohort: Cohort) -> None:
    cohort.invite_code = new_invite_code()
    db.session.commit()


# --- due dates ---------------------------------------------------------------------------------


def parse_due(value: str) -> datetime | None:
    """A due date from a form: ISO date-time (local time of the form is UTC) or empty = none."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise ServiceError(
            _("“%(value)s” is not a date and time (YYYY-MM-DDTHH:MM).", value=value[:40])
        ) from None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def set_due_date(cohort: Cohort, module: Module, due: datetime | None) -> None:
    if module.course_id != cohort.course_id:
        raise ServiceError(_("That module is not part of this cohort's course."))
    row = db.session.scalar(
        select(DueDate).where(DueDate.cohort_id == cohort.id, DueDate.module_id == module.id)
    )
    if due is None:
        if row is not None:
            db.session.delete(row)
    elif row is None:
        db.session.add(DueDate(cohort_id=cohort.id, module_id=module.id, due_at=due))
    else:
        row.due_at = due
    db.session.commit()


def due_dates(cohort_id: int | None) -> dict[int, datetime]:
    """module id → due date for a cohort (none for a learner outside any cohort)."""
    if cohort_id is None:
        return {}
    rows = db.session.scalars(select(DueDate).where(DueDate.cohort_id == cohort_id))
    return {r.module_id: r.due_at for r in rows}


# --- CSV import --------------------------------------------------------------------------------


@dataclass
class ImportReport:
    invited: list[str] = field(default_factory=list)  # new accounts, mailed an invitation
    enrolled: list[str] = field(default_factory=list)  # existing accounts added to the cohort
    skipped: list[str] = field(default_factory=list)  # "line N: why"


def import_csv(cohort: Cohort, data: bytes) -> ImportReport:
    """Rows of name,email (a header row `name,email` is optional); each line's fate is reported."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ServiceError(_("The CSV file is not UTF-8 text.")) from None
    rows = list(csv.reader(io.StringIO(text)))
    if len(rows) > MAX_CSV_ROWS:
        raise ServiceError(_("At most %(n)d rows per import.", n=MAX_CSV_ROWS))
    report = ImportReport()
    for number, row in enumerate(rows, start=1):
        cells = [c.strip() for c in row]
        if not any(cells):
            continue
        if number == 1 and [c.lower() for c in cells[:2]] == ["name", "email"]:
            continue
        if len(cells) < 2:
            report.skipped.append(_("line %(n)d: expected name,email", n=number))
            continue
        name, email = cells[0], cells[1]
        try:
            address = accounts.normalize_email(email)
            user = accounts.find_user(address)
            if user is None:
                user = accounts.create_user(address, name, None)
                enroll(user, cohort)
                db.session.commit()
                _send_invitation(user, cohort)
                report.invited.append(address)
            else:
                enroll(user, cohort)
                db.session.commit()
                report.enrolled.append(address)
        except ServiceError as exc:
            db.session.rollback()
            report.skipped.append(_("line %(n)d: %(why)s", n=number, why=exc.message))
    return report


def _send_invitation(user: User, cohort: Cohort) -> None:
    token = accounts.issue_link_token(user, "invite")
    link = current_app.config["BASE_URL"].rstrip("/") + url_for("auth.invite_accept", token=token)
    mail.send(
        user.email,
        _("You are invited to %(cohort)s on Lune Academy", cohort=cohort.name),
        _(
            "Hello %(name)s,\n\nYou are invited to the cohort %(cohort)s (%(course)s) on Lune "
            "Academy. Choose your password here (valid %(days)s days, once):\n%(link)s\n",
            name=user.name,
            cohort=cohort.name,
            course=cohort.course.title,
            days=current_app.config["INVITE_TOKEN_DAYS"],
            link=link,
        ),
    )
