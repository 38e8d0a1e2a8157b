"""Grading policies read from `course.toml`: due dates, late penalties, which resubmission counts.

Late policy (course default `[late_policy]`, per module `[module.late_policy]`):
`per` = "day" | "hour", `percent` off per *started* period after the due date plus
`grace_minutes`, never below `floor` percent of the earned score. nbgrader's built-in late
plugin only knows "none" and "zero" (PITFALLS), so this is nbgrader's `LateSubmissionPlugin`
extension point, fed by the same numbers (`total_seconds_late` from the gradebook).
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from grader.errors import GraderError

_PERIOD_SECONDS = {"day": 86400, "hour": 3600}


@dataclass(frozen=True)
class LatePolicy:
    """Percent off per started period late, with a floor (percent of the earned score kept)."""

    per: str = "day"
    percent: float = 0.0
    floor: float = 100.0
    grace_minutes: float = 0.0

    def penalty_fraction(self, seconds_late: float) -> float:
        """Fraction of the earned score taken away for a submission `seconds_late` late."""
        late = seconds_late - self.grace_minutes * 60
        if late <= 0:
            return 0.0
        periods = math.ceil(late / _PERIOD_SECONDS[self.per])
        off = min(periods * self.percent, 100.0 - self.floor)
        return max(0.0, off) / 100.0


@dataclass(frozen=True)
class ModulePolicy:
    id: str
    title: str
    points: float | None
    due: datetime | None
    late: LatePolicy


@dataclass(frozen=True)
class CoursePolicy:
    id: str
    root: Path
    resubmission: str
    modules: dict[str, ModulePolicy] = field(default_factory=dict)

    def module(self, module_id: str) -> ModulePolicy:
        try:
            return self.modules[module_id]
        except KeyError:
            known = ", ".join(self.modules) or "none"
            raise GraderError(f"unknown module {module_id!r} (course modules: {known})") from None


def _late(table: dict | None, default: LatePolicy, where: str) -> LatePolicy:
    if not table:
        return default
    per = table.get("per", default.per)
    if per not in _PERIOD_SECONDS:
        raise GraderError(f"{where}: late_policy.per must be 'day' or 'hour', not {per!r}")
    try:
        policy = LatePolicy(
            per=per,
            percent=float(table.get("percent", default.percent)),
            floor=float(table.get("floor", default.floor)),
            grace_minutes=float(table.get("grace_minutes", default.grace_minutes)),
        )
    except (TypeError, ValueError) as exc:
        raise GraderError(f"{where}: bad late_policy: {exc}") from None
    if not (0 <= policy.percent <= 100 and 0 <= policy.floor <= 100 and policy.grace_minutes >= 0):
        raise GraderError(f"{where}: late_policy percent/floor must be 0–100, grace ≥ 0")
    return policy


def load_course(course_dir: Path) -> CoursePolicy:
    """Read `course_dir/course.toml`; raise GraderError naming what is wrong."""
    path = Path(course_dir) / "course.toml"
    try:
        data = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise GraderError(f"{path} not found: not a course directory") from None
    except tomllib.TOMLDecodeError as exc:
        raise GraderError(f"{path}: {exc}") from None
    resubmission = data.get("resubmission", "latest")
    if resubmission not in ("latest", "best"):
        raise GraderError(f"{path}: resubmission must be 'latest' or 'best'")
    default = _late(data.get("late_policy"), LatePolicy(), f"{path} [late_policy]")
    modules = {}
    for entry in data.get("module", []):
        mid = entry.get("id")
        if not isinstance(mid, str) or not mid:
            raise GraderError(f"{path}: a [[module]] has no id")
        due = entry.get("due")
        if isinstance(due, str):
            try:
                due = datetime.fromisoformat(due)
            except ValueError:
                raise GraderError(f"{path}: module {mid}: bad due date {due!r}") from None
        if due is not None and (not isinstance(due, datetime) or due.tzinfo is None):
            raise GraderError(f"{path}: module {mid}: due must be a datetime with a time zone")
        modules[mid] = ModulePolicy(
            id=mid,
            title=str(entry.get("title", mid)),
            points=entry.get("points"),
            due=due,
            late=_late(entry.get("late_policy"), default, f"{path} module {mid}"),
        )
    return CoursePolicy(
        id=str(data.get("id", path.parent.name)),
        root=Path(course_dir).resolve(),
        resubmission=resubmission,
        modules=modules,
    )
