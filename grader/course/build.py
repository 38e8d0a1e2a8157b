"""`lune course build`: the learner (release) version of every module of a course.

Runs nbgrader's `generate_assignment` through its Python API (one process, one API object):
`source/<id>/` → `release/<id>/`, with solution regions replaced by
`raise NotImplementedError()` and hidden-test regions removed. The gradebook nbgrader needs for
this is a throwaway in a temporary directory: building never touches a grading database.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from grader.course.assignments import NbgraderError, create_gradebook, generate, make_api
from grader.course.config import CourseConfig, CourseConfigError


@dataclass(frozen=True)
class BuiltModule:
    id: str
    notebook: Path  # release/<id>/<id>.ipynb


def release_dir(course: CourseConfig) -> Path:
    return course.root / "release"


def release_notebook(course: CourseConfig, module_id: str) -> Path:
    return release_dir(course) / module_id / f"{module_id}.ipynb"


def is_current(course: CourseConfig, module_id: str) -> bool:
    """True when the release notebook exists and is newer than everything in source/<id>/."""
    built = release_notebook(course, module_id)
    src = course.source_dir / module_id
    if not built.is_file() or not src.is_dir():
        return False
    newest = max((p.stat().st_mtime for p in src.rglob("*") if p.is_file()), default=0.0)
    return built.stat().st_mtime >= newest


def build_course(
    course: CourseConfig,
    module_ids: Iterable[str] | None = None,
    echo: Callable[[str], None] | None = None,
) -> list[BuiltModule]:
    """Generate the release version of the given modules (default: all, in course order)."""
    ids = list(module_ids) if module_ids is not None else [m.id for m in course.modules]
    for module_id in ids:
        course.module(module_id)  # unknown id → one-line CourseConfigError
        if not course.source_notebook(module_id).is_file():
            raise CourseConfigError(
                f"{module_id}: source notebook {course.source_notebook(module_id)} is missing"
            )
    built = []
    with tempfile.TemporaryDirectory(prefix="lune-build-") as tmp:
        db = Path(tmp) / "gradebook.db"
        create_gradebook(db, course.id)
        api = make_api(course.root, db)
        for module_id in ids:
            generate(api, module_id)
            notebook = release_notebook(course, module_id)
            if not notebook.is_file():
                raise NbgraderError(f"generate_assignment {module_id} wrote no {notebook.name}")
            built.append(BuiltModule(module_id, notebook))
            if echo:
                echo(f"built {module_id} → {notebook}")
    return built
