"""Loading and validating a course directory's `course.toml` — the one reader of that file.

The format is the course ↔ grader contract (docs/instructor-guide.md): course `id`, `title`,
`pass_mark` (percent), `resubmission`, a default `[late_policy]`, and one `[[module]]` table per
nbgrader assignment. Every problem is reported as one line naming the file and the field, so an
instructor can fix it without reading a traceback. `lune course check`, `lune course build` and
grading all read the course through `load_course`, so they can never read it differently.

Late policy: `per` = "day" | "hour", `percent` off per *started* period after the due date plus
`grace_minutes`, never below `floor` percent of the earned score. A module's
`[module.late_policy]` overrides the course's `[late_policy]` key by key: a key it does not
give is the course's.
"""

from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from grader.errors import GraderError

#: The course every `lune` command uses when none is given.
DEFAULT_COURSE = "lune-101"
# Module ids are nbgrader assignment names and directory names: keep them boring.
MODULE_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


class CourseConfigError(GraderError):
    """course.toml is missing, unreadable or breaks the format; the message is one line."""


@dataclass(frozen=True)
class LatePolicy:
    """Penalty for late submissions: `percent` off per started `per` after `due` + grace."""

    per: str = "day"  # "day" | "hour"
    percent: float = 0.0
    floor: float = 0.0  # the score never drops below this percent of what was earned
    grace_minutes: float = 0

    def penalty_fraction(self, seconds_late: float) -> float:
        """Fraction of the earned score taken away for a submission `seconds_late` late."""
        late = seconds_late - self.grace_minutes * 60
        if late <= 0:
            return 0.0
        periods = math.ceil(late / _PERIOD_SECONDS[self.per])
        off = min(periods * self.percent, 100.0 - self.floor)
        return max(0.0, off) / 100.0


_PERIOD_SECONDS = {"day": 86400, "hour": 3600}


@dataclass(frozen=True)
class ModuleConfig:
    """One module = one nbgrader assignment (`id` is the assignment name)."""

    id: str
    title: str
    goals: tuple[str, ...]
    minutes: int
    points: float
    prerequisites: tuple[str, ...]
    due: datetime | None = None
    late_policy: LatePolicy = LatePolicy()  # the course's, with this module's overrides


@dataclass(frozen=True)
class CourseConfig:
    """A course directory and its validated `course.toml`."""

    root: Path
    id: str
    title: str
    pass_mark: float
    resubmission: str
    late_policy: LatePolicy
    modules: tuple[ModuleConfig, ...] = field(default_factory=tuple)

    @property
    def source_dir(self) -> Path:
        return self.root / "source"

    @property
    def checks_dir(self) -> Path:
        return self.root / "checks"

    def module(self, module_id: str) -> ModuleConfig:
        """The module called `module_id`, or CourseConfigError listing the known ids."""
        for m in self.modules:
            if m.id == module_id:
                return m
        known = ", ".join(m.id for m in self.modules)
        raise CourseConfigError(f"{self.id}: no module {module_id!r} (modules: {known})")

    def source_notebook(self, module_id: str) -> Path:
        return self.source_dir / module_id / f"{module_id}.ipynb"

    def checks_file(self, module_id: str) -> Path:
        return self.checks_dir / f"{module_id}.json"


def resolve_course_dir(course: str | Path | None, courses_root: Path | None = None) -> Path:
    """A course given as a path (a directory holding course.toml) or as an id under courses/."""
    name = str(course) if course else DEFAULT_COURSE
    as_path = Path(name).expanduser()
    if (as_path / "course.toml").is_file():
        return as_path.resolve()
    root = courses_root if courses_root is not None else default_courses_root()
    candidate = root / name
    if (candidate / "course.toml").is_file():
        return candidate.resolve()
    raise CourseConfigError(
        f"no course {name!r}: not a directory with course.toml, nor a course under {root}"
    )


def default_courses_root() -> Path:
    """`courses/` of the project checkout (the course content is not part of the wheel)."""
    return Path(__file__).resolve().parents[2] / "courses"


def load_course(course: str | Path | None = None, courses_root: Path | None = None) -> CourseConfig:
    """Find, parse and validate a course's course.toml."""
    root = resolve_course_dir(course, courses_root)
    path = root / "course.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise CourseConfigError(f"{path}: not valid TOML: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CourseConfigError(f"{path}: cannot read: {exc}") from None
    return parse_course(data, root, where=str(path))


def parse_course(data: dict, root: Path, where: str = "course.toml") -> CourseConfig:
    """Validate the parsed TOML `data` of the course at `root` (one-line CourseConfigError)."""
    r = _Reader(data, where)
    course_id = r.string("id")
    if not MODULE_ID.match(course_id):
        r.fail("id", "use lowercase letters, digits and '-'")
    title = r.string("title")
    pass_mark = r.number("pass_mark", low=0, high=100)
    resubmission = r.choice("resubmission", ("latest", "best"), default="latest")
    late = _late_policy(r.table("late_policy", default={}), f"{where}: late_policy", LatePolicy())
    modules_raw = data.get("module")
    if not isinstance(modules_raw, list) or not modules_raw:
        r.fail("module", "at least one [[module]] table is required")
    modules: list[ModuleConfig] = []
    seen: set[str] = set()
    for i, raw in enumerate(modules_raw):
        if not isinstance(raw, dict):
            r.fail(f"module[{i}]", "must be a table")
        m = _module(raw, f"{where}: module[{i}]", late)
        if m.id in seen:
            raise CourseConfigError(f"{where}: module[{i}].id: duplicate module id {m.id!r}")
        for pre in m.prerequisites:
            if pre not in seen:
                raise CourseConfigError(
                    f"{where}: module[{i}].prerequisites: {pre!r} is not an earlier module"
                )
        seen.add(m.id)
        modules.append(m)
    # [[quiz]] tables belong to the portal's quizzes (web.quiz.definition validates them).
    known = {"id", "title", "pass_mark", "resubmission", "late_policy", "module", "quiz"}
    unknown = set(data) - known
    if unknown:
        raise CourseConfigError(f"{where}: unknown key(s): {', '.join(sorted(unknown))}")
    return CourseConfig(
        root=root,
        id=course_id,
        title=title,
        pass_mark=pass_mark,
        resubmission=resubmission,
        late_policy=late,
        modules=tuple(modules),
    )


def _module(raw: dict, where: str, course_late: LatePolicy) -> ModuleConfig:
    r = _Reader(raw, where)
    module_id = r.string("id")
    if not MODULE_ID.match(module_id):
        r.fail("id", f"{module_id!r} is not a valid module id (lowercase letters, digits, '-')")
    goals = r.string_list("goals")
    if not goals:
        r.fail("goals", "list at least one learning goal")
    due = None
    if "due" in raw:
        due = r.datetime("due")
    late = course_late
    if "late_policy" in raw:
        late = _late_policy(r.table("late_policy"), f"{where}.late_policy", course_late)
    allowed = {"id", "title", "goals", "minutes", "points", "prerequisites", "due", "late_policy"}
    unknown = set(raw) - allowed
    if unknown:
        raise CourseConfigError(f"{where}: unknown key(s): {', '.join(sorted(unknown))}")
    return ModuleConfig(
        id=module_id,
        title=r.string("title"),
        goals=tuple(goals),
        minutes=int(r.number("minutes", low=1, integer=True)),
        points=r.number("points", low=0, strictly_positive=True),
        prerequisites=tuple(r.string_list("prerequisites", default=[])),
        due=due,
        late_policy=late,
    )


def _late_policy(raw: dict, where: str, default: LatePolicy) -> LatePolicy:
    """A late-policy table; each key it does not give is taken from `default`."""
    r = _Reader(raw, where)
    unknown = set(raw) - {"per", "percent", "floor", "grace_minutes"}
    if unknown:
        raise CourseConfigError(f"{where}: unknown key(s): {', '.join(sorted(unknown))}")
    return LatePolicy(
        per=r.choice("per", ("day", "hour"), default=default.per),
        percent=float(r.number("percent", low=0, high=100, default=default.percent)),
        floor=float(r.number("floor", low=0, high=100, default=default.floor)),
        grace_minutes=r.number("grace_minutes", low=0, default=default.grace_minutes),
    )


class _Reader:
    """Typed access to one TOML table with one-line errors naming `where` and the key."""

    _MISSING = object()

    def __init__(self, data: dict, where: str) -> None:
        self.data = data
        self.where = where

    def fail(self, key: str, why: str):
        raise CourseConfigError(f"{self.where}: {key}: {why}")

    def _get(self, key: str, default):
        value = self.data.get(key, default)
        if value is self._MISSING:
            self.fail(key, "missing")
        return value

    def string(self, key: str) -> str:
        value = self._get(key, self._MISSING)
        if not isinstance(value, str) or not value.strip():
            self.fail(key, "must be a non-empty string")
        return value

    def string_list(self, key: str, default=_MISSING) -> list[str]:
        value = self._get(key, default)
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            self.fail(key, "must be a list of non-empty strings")
        return value

    def number(
        self,
        key: str,
        *,
        low: float | None = None,
        high: float | None = None,
        integer: bool = False,
        strictly_positive: bool = False,
        default=_MISSING,
    ) -> float:
        value = self._get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(key, f"must be a number, not {value!r}")
        if integer and not isinstance(value, int):
            self.fail(key, f"must be a whole number, not {value!r}")
        if strictly_positive and value <= 0:
            self.fail(key, f"must be greater than 0, not {value!r}")
        if (low is not None and value < low) or (high is not None and value > high):
            self.fail(key, f"must be between {low} and {high}, not {value!r}")
        return value

    def choice(self, key: str, choices: tuple[str, ...], default=_MISSING) -> str:
        value = self._get(key, default)
        if value not in choices:
            self.fail(key, f"must be one of {', '.join(choices)}, not {value!r}")
        return value

    def table(self, key: str, default=_MISSING) -> dict:
        value = self._get(key, default)
        if not isinstance(value, dict):
            self.fail(key, "must be a table")
        return value

    def datetime(self, key: str) -> datetime:
        value = self.data[key]
        if isinstance(value, str):
            try:
                value = datetime.fromisoformat(value)
            except ValueError:
                self.fail(key, f"not an ISO-8601 datetime: {value!r}")
        if not isinstance(value, datetime) or value.tzinfo is None:
            self.fail(key, "must be an ISO-8601 datetime with a timezone")
        return value
