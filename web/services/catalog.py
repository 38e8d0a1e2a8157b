"""Courses in the portal, loaded from `course.toml` (`lune portal sync-courses`).

Syncing builds each module's learner notebook with nbgrader (`lune course build`), then stores its
bytes, graded-cell ids and rendered lesson in the database: a portal or grading host reads the
course from there, and a module that disappears from course.toml is hidden, never deleted (its
submissions stay).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select

from grader.course.build import build_course, is_current, release_notebook
from grader.course.config import CourseConfig, CourseConfigError, load_course
from web.errors import NotFound, ServiceError
from web.extensions import db
from web.models import Course, Module
from web.models.types import utcnow
from web.services.lessons import grade_ids, render_lesson


def course_dirs(courses_dir: Path) -> list[Path]:
    return sorted(p.parent for p in Path(courses_dir).glob("*/course.toml"))


def _late(policy) -> dict:
    return {
        "per": policy.per,
        "percent": policy.percent,
        "floor": policy.floor,
        "grace_minutes": policy.grace_minutes,
    }


def sync_course(config: CourseConfig, echo: Callable[[str], None] | None = None) -> Course:
    """Create or update one course and its modules from its validated course.toml."""
    stale = [m.id for m in config.modules if not is_current(config, m.id)]
    if stale:
        build_course(config, stale, echo=echo)
    course = db.session.get(Course, config.id) or Course(id=config.id)
    course.title = config.title
    course.pass_mark = float(config.pass_mark)
    course.resubmission = config.resubmission
    course.late_policy = _late(config.late_policy)
    course.synced_at = utcnow()
    db.session.add(course)
    existing = {
        m.slug: m for m in db.session.scalars(select(Module).where(Module.course_id == config.id))
    }
    for position, mc in enumerate(config.modules):
        module = existing.pop(mc.id, None) or Module(course_id=config.id, slug=mc.id)
        notebook = release_notebook(config, mc.id).read_bytes()
        module.position = position
        module.title = mc.title
        module.goals = list(mc.goals)
        module.minutes = int(mc.minutes)
        module.points = float(mc.points)
        module.prerequisites = list(mc.prerequisites)
        module.late_policy = _late(mc.late_policy) if mc.late_policy else None
        module.release_notebook = notebook
        module.grade_ids = grade_ids(notebook)
        module.lesson_html = render_lesson(notebook)
        module.active = True
        db.session.add(module)
    for gone in existing.values():
        gone.active = False
    db.session.commit()
    if echo:
        echo(f"synced {config.id}: {len(config.modules)} modules")
    return course


def sync_courses(courses_dir: Path, echo: Callable[[str], None] | None = None) -> list[str]:
    dirs = course_dirs(courses_dir)
    if not dirs:
        raise ServiceError(f"no course (a folder with course.toml) under {courses_dir}")
    synced = []
    for d in dirs:
        try:
            config = load_course(d)
        except CourseConfigError as exc:
            raise ServiceError(str(exc)) from None
        synced.append(sync_course(config, echo).id)
    return synced


def courses() -> list[Course]:
    return list(db.session.scalars(select(Course).order_by(Course.id)))


def get_course(course_id: str) -> Course:
    course = db.session.get(Course, course_id)
    if course is None:
        raise NotFound(f"No course {course_id}.")
    return course


def get_module(course_id: str, slug: str) -> Module:
    module = db.session.scalar(
        select(Module).where(Module.course_id == course_id, Module.slug == slug, Module.active)
    )
    if module is None:
        raise NotFound(f"No module {slug} in {course_id}.")
    return module


def active_modules(course: Course) -> list[Module]:
    return [m for m in course.modules if m.active]


def course_root(courses_dir: Path, course_id: str) -> Path:
    """The course directory a grading worker reads (course.toml, source, checks)."""
    for d in course_dirs(courses_dir):
        try:
            if load_course(d).id == course_id:
                return d
        except CourseConfigError:
            continue
    raise ServiceError(f"course {course_id} not found under {courses_dir}")
