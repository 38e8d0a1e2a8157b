"""The instructor's view of a cohort: the learners × modules grid, per-exercise failure rates,
score distributions, overrides with their audit trail, regrades and grade exports."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import select

from grader.report import CSV_COLUMNS
from web.errors import NotFound, ServiceError
from web.extensions import db
from web.models import Cohort, Module, ScoreOverride, Submission, User
from web.services import cohorts, jobs
from web.services.catalog import active_modules
from web.services.submissions import PENDING, SCORE_LOADS, counting

CELL_STATES = ("graded", "late", "missing", "pending", "error")


@dataclass
class Cell:
    state: str  # one of CELL_STATES
    score: float | None = None
    max_score: float = 0.0
    submission_id: int | None = None
    overridden: bool = False


@dataclass
class Row:
    learner: User
    cells: dict[int, Cell] = field(default_factory=dict)  # module id → cell

    @property
    def total(self) -> float:
        return round(sum(c.score or 0.0 for c in self.cells.values()), 4)


@dataclass
class Grid:
    cohort: Cohort
    modules: list[Module]
    rows: list[Row]


def _cell(subs: list[Submission], rule: str, module: Module) -> Cell:
    best = counting(subs, rule)
    if best is not None:
        late = best.result is not None and best.result.late_penalty > 0
        return Cell(
            "late" if late else "graded",
            best.effective_score,
            best.result.max_score if best.result else module.points,
            best.id,
            bool(best.overrides),
        )
    if any(s.status in PENDING for s in subs):
        return Cell("pending", None, module.points, subs[-1].id)
    if subs:
        return Cell("error", None, module.points, subs[-1].id)
    return Cell("missing", None, module.points)


def grid(cohort: Cohort, *, module_slug: str = "", state: str = "", sort: str = "name") -> Grid:
    modules = active_modules(cohort.course)
    learners = cohorts.learners(cohort)
    subs: dict[tuple[int, int], list[Submission]] = {}
    if learners:
        for s in db.session.scalars(
            select(Submission)
            .where(
                Submission.user_id.in_([u.id for u in learners]),
                Submission.module_id.in_([m.id for m in modules]),
            )
            .options(*SCORE_LOADS)
            .order_by(Submission.id)
        ):
            subs.setdefault((s.user_id, s.module_id), []).append(s)
    rows = [
        Row(
            u,
            {
                m.id: _cell(subs.get((u.id, m.id), []), cohort.course.resubmission, m)
                for m in modules
            },
        )
        for u in learners
    ]
    if module_slug:
        wanted = [m for m in modules if m.slug == module_slug]
        if not wanted:
            raise ServiceError(_("No module %(m)s in this course.", m=module_slug[:64]))
        if state:
            rows = [r for r in rows if r.cells[wanted[0].id].state == state]
    elif state:
        rows = [r for r in rows if any(c.state == state for c in r.cells.values())]
    if state and state not in CELL_STATES:
        raise ServiceError(_("Unknown state %(s)s.", s=state[:20]))
    if sort == "total":
        rows.sort(key=lambda r: (-r.total, r.learner.name.lower()))
    elif sort == "email":
        rows.sort(key=lambda r: r.learner.email)
    elif sort != "name":
        raise ServiceError(_("Unknown sort order %(s)s.", s=sort[:20]))
    return Grid(cohort, modules, rows)


@dataclass
class ExerciseStats:
    function: str
    attempts: int
    failures: int

    @property
    def failure_rate(self) -> float:
        return self.failures / self.attempts if self.attempts else 0.0


def module_stats(g: Grid, module: Module) -> tuple[list[ExerciseStats], list[float]]:
    """Which exercises fail most (from each learner's counting attempt), and score fractions."""
    stats: dict[str, ExerciseStats] = {}
    fractions = []
    for row in g.rows:
        cell = row.cells[module.id]
        if cell.submission_id is None or cell.state not in ("graded", "late"):
            continue
        sub = db.session.get(Submission, cell.submission_id)
        if sub is None or sub.result is None:
            continue
        fractions.append((cell.score or 0.0) / cell.max_score if cell.max_score else 0.0)
        for ex in sub.result.exercises:
            name = str(ex.get("function", "?"))
            item = stats.setdefault(name, ExerciseStats(name, 0, 0))
            item.attempts += 1
            passed_checks = ex.get("checks_passed", 0) >= ex.get("checks_total", 0)
            full = float(ex.get("score", 0.0)) >= float(ex.get("max_score", 0.0))
            if not (passed_checks and full):
                item.failures += 1
    ordered = sorted(stats.values(), key=lambda s: (-s.failure_rate, s.function))
    return ordered, fractions


def submission_in_cohort(cohort: Cohort, submission_id: int) -> Submission:
    sub = db.session.get(Submission, submission_id)
    members = {e.user_id for e in cohort.enrollments}
    if sub is None or sub.user_id not in members or sub.module.course_id != cohort.course_id:
        raise NotFound(_("No such submission in this cohort."))
    return sub


def audit_reason(reason: str | None) -> str:
    """The reason an instructor gives for a manual mark (notebook override, essay grade)."""
    reason = (reason or "").strip()
    if len(reason) < 5:
        raise ServiceError(
            _("Give a reason (at least 5 characters): it is kept in the audit trail.")
        )
    if len(reason) > 2000:
        raise ServiceError(_("The reason is longer than 2,000 characters."))
    return reason


def override(instructor: User, sub: Submission, score_text: str, reason: str) -> ScoreOverride:
    reason = audit_reason(reason)
    try:
        value = float((score_text or "").replace(",", "."))
    except ValueError:
        raise ServiceError(_("“%(v)s” is not a number.", v=(score_text or "")[:20])) from None
    top = sub.result.max_score if sub.result is not None else sub.module.points
    if not 0 <= value <= top:
        raise ServiceError(_("The score must be between 0 and %(max)s.", max=f"{top:g}"))
    if sub.status != "graded":
        raise ServiceError(_("Only a graded submission can be overridden."))
    row = ScoreOverride(
        submission_id=sub.id,
        instructor_id=instructor.id,
        before=sub.effective_score,
        after=value,
        reason=reason,
    )
    db.session.add(row)
    db.session.commit()
    return row


def regrade_cohort(
    cohort: Cohort,
    *,
    module: Module | None = None,
    learner_id: int | None = None,
    submission: Submission | None = None,
) -> int:
    members = {e.user_id for e in cohort.enrollments}
    if submission is not None:
        subs = [submission]
    else:
        query = (
            select(Submission)
            .join(Module)
            .where(
                Module.course_id == cohort.course_id,
                Submission.user_id.in_(members),
                Submission.status.in_(("graded", "rejected", "retrying")),
            )
        )
        if module is not None:
            query = query.where(Submission.module_id == module.id)
        if learner_id is not None:
            if learner_id not in members:
                raise NotFound(_("No such learner in this cohort."))
            query = query.where(Submission.user_id == learner_id)
        subs = list(db.session.scalars(query))
    return jobs.regrade(subs)


# nbgrader's `nbgrader export` columns, in its order (the grader's CSV has them too).
NBGRADER_COLUMNS = CSV_COLUMNS


def _split_name(name: str) -> tuple[str, str]:
    first, _sep, last = name.strip().rpartition(" ")
    return (last, first) if first else (name.strip(), "")


def export_rows(g: Grid) -> list[dict]:
    rows = []
    for row in g.rows:
        last, first = _split_name(row.learner.name)
        for m in g.modules:
            cell = row.cells[m.id]
            sub = db.session.get(Submission, cell.submission_id) if cell.submission_id else None
            result = sub.result if sub is not None and cell.state in ("graded", "late") else None
            rows.append(
                {
                    "assignment": m.slug,
                    "duedate": result.due_at.isoformat() if result and result.due_at else "",
                    "timestamp": sub.received_at.isoformat() if result and sub else "",
                    "student_id": f"learner-{row.learner.id}",
                    "last_name": last,
                    "first_name": first,
                    "email": row.learner.email,
                    "raw_score": result.raw_score if result else 0.0,
                    "late_submission_penalty": result.late_penalty if result else 0.0,
                    "score": cell.score if cell.score is not None else 0.0,
                    "max_score": cell.max_score,
                    "overridden": cell.overridden,
                    "state": cell.state,
                }
            )
    return rows


def export_csv(g: Grid) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=NBGRADER_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for r in export_rows(g):
        writer.writerow(r)
    return out.getvalue()


def export_json(g: Grid) -> str:
    return json.dumps(
        {"cohort": g.cohort.name, "course": g.cohort.course_id, "grades": export_rows(g)},
        indent=2,
        ensure_ascii=False,
    )
