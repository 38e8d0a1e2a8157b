"""Quiz definitions: the `[[quiz]]` tables of a course's `course.toml` (docs/quizzes.md).

A certification quiz draws `draw` questions from each pool (a module's bank), may shuffle
questions and answers, has a time limit with a grace, a number of attempts with a delay between
them, a pass mark, a review policy and an eligibility rule. A `kind = "practice"` table expands
into one practice quiz per module bank: unlimited attempts, no time limit, immediate feedback.
Every problem is one line naming the file and the key.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path


class QuizConfigError(Exception):
    """A `[[quiz]]` table breaks the format; the message is one line naming file and key."""


class Review(StrEnum):
    """When answers and feedback are shown (the mark itself shows once an attempt is over)."""

    NEVER = "never"
    AFTER_ATTEMPT = "after_attempt"
    AFTER_CLOSE = "after_close"
    IMMEDIATE = "immediate"  # practice: each question's feedback as soon as it is checked


class Kind(StrEnum):
    CERTIFICATION = "certification"
    PRACTICE = "practice"


@dataclass(frozen=True)
class PoolDraw:
    """Draw `draw` questions from the bank of module `pool`."""

    pool: str
    draw: int


@dataclass(frozen=True)
class QuizDefinition:
    """One quiz as the engine runs it. `attempts` None is unlimited; `time_limit` None untimed."""

    id: str
    title: str
    title_fr: str
    kind: Kind
    pools: tuple[PoolDraw, ...]
    shuffle_questions: bool = True
    shuffle_answers: bool = True
    time_limit: timedelta | None = None
    grace: timedelta = timedelta(seconds=30)
    attempts: int | None = None
    delay: timedelta = timedelta(0)
    pass_mark: float = 0.0
    review: Review = Review.AFTER_ATTEMPT
    opens: datetime | None = None
    closes: datetime | None = None
    min_course_percent: float | None = None  # eligibility: graded notebooks' course percentage

    @property
    def size(self) -> int:
        """Questions per attempt."""
        return sum(p.draw for p in self.pools)

    def localized_title(self, lang: str) -> str:
        """The title in `lang` ('fr' or anything else for English)."""
        return self.title_fr if lang == "fr" else self.title


DEFAULT_GRACE_SECONDS = 30
_KEYS = {
    "id",
    "title",
    "title_fr",
    "kind",
    "pools",
    "draw",
    "shuffle_questions",
    "shuffle_answers",
    "time_limit_minutes",
    "grace_seconds",
    "attempts",
    "delay_minutes",
    "pass_mark",
    "review",
    "opens",
    "closes",
    "eligibility",
}


class _Table:
    def __init__(self, data: dict, where: str) -> None:
        self.data, self.where = data, where

    def fail(self, key: str, why: str):
        raise QuizConfigError(f"{self.where}.{key}: {why}")

    def string(self, key: str, default: str | None = None) -> str:
        value = self.data.get(key, default)
        if not isinstance(value, str) or not value.strip():
            self.fail(key, "must be a non-empty string")
        return value

    def boolean(self, key: str, default: bool) -> bool:
        value = self.data.get(key, default)
        if not isinstance(value, bool):
            self.fail(key, f"must be true or false, not {value!r}")
        return value

    def number(self, key: str, default, low: float, high: float | None = None, integer=False):
        value = self.data.get(key, default)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(key, f"must be a number, not {value!r}")
        if integer and not isinstance(value, int):
            self.fail(key, f"must be a whole number, not {value!r}")
        if value < low or (high is not None and value > high):
            bound = f"between {low} and {high}" if high is not None else f"at least {low}"
            self.fail(key, f"must be {bound}, not {value!r}")
        return value

    def moment(self, key: str) -> datetime | None:
        value = self.data.get(key)
        if value is None:
            return None
        if isinstance(value, str):
            try:
                value = datetime.fromisoformat(value)
            except ValueError:
                self.fail(key, f"not an ISO-8601 datetime: {value!r}")
        if not isinstance(value, datetime) or value.tzinfo is None:
            self.fail(key, "must be a datetime with a timezone, e.g. 2027-06-30T23:59:00Z")
        return value


def _eligibility(t: _Table, course_pass_mark: float | None) -> float | None:
    value = t.data.get("eligibility", "none")
    if value == "none":
        return None
    if value == "course_pass_mark":
        if course_pass_mark is None:
            t.fail("eligibility", "the course has no pass_mark")
        return float(course_pass_mark)
    if isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= 100:
        return float(value)
    t.fail("eligibility", f"must be 'none', 'course_pass_mark' or a percentage, not {value!r}")


def _pools(t: _Table, modules: tuple[str, ...]) -> tuple[PoolDraw, ...]:
    raw = t.data.get("pools")
    if not isinstance(raw, list) or not raw:
        t.fail("pools", "list at least one { module = ..., draw = ... }")
    out, seen = [], set()
    for i, item in enumerate(raw):
        if not isinstance(item, dict) or set(item) != {"module", "draw"}:
            t.fail(f"pools[{i}]", 'must be { module = "<module id>", draw = <count> }')
        module, draw = item["module"], item["draw"]
        if module not in modules:
            t.fail(f"pools[{i}].module", f"{module!r} is not a [[module]] of this course")
        if module in seen:
            t.fail(f"pools[{i}].module", f"{module!r} appears twice")
        if isinstance(draw, bool) or not isinstance(draw, int) or draw < 1:
            t.fail(f"pools[{i}].draw", f"must be a whole number of at least 1, not {draw!r}")
        seen.add(module)
        out.append(PoolDraw(module, draw))
    return tuple(out)


def _certification(t: _Table, modules, course_pass_mark) -> QuizDefinition:
    limit = t.number("time_limit_minutes", None, 1, integer=True)
    review = t.data.get("review", "after_attempt")
    allowed = (Review.NEVER, Review.AFTER_ATTEMPT, Review.AFTER_CLOSE)
    if review not in [r.value for r in allowed]:
        t.fail("review", f"must be one of never, after_attempt, after_close, not {review!r}")
    opens, closes = t.moment("opens"), t.moment("closes")
    if review == Review.AFTER_CLOSE and closes is None:
        t.fail("closes", "review = 'after_close' needs a closing date")
    if opens and closes and closes <= opens:
        t.fail("closes", "must be after opens")
    if "draw" in t.data:
        t.fail("draw", "a certification quiz draws per pool: use pools = [...]")
    return QuizDefinition(
        id=t.string("id"),
        title=t.string("title"),
        title_fr=t.string("title_fr"),
        kind=Kind.CERTIFICATION,
        pools=_pools(t, modules),
        shuffle_questions=t.boolean("shuffle_questions", True),
        shuffle_answers=t.boolean("shuffle_answers", True),
        time_limit=timedelta(minutes=limit) if limit else None,
        grace=timedelta(seconds=t.number("grace_seconds", DEFAULT_GRACE_SECONDS, 0, 600)),
        attempts=t.number("attempts", None, 1, integer=True),
        delay=timedelta(minutes=t.number("delay_minutes", 0, 0, integer=True)),
        pass_mark=float(t.number("pass_mark", None, 0, 100) or 0),
        review=Review(review),
        opens=opens,
        closes=closes,
        min_course_percent=_eligibility(t, course_pass_mark),
    )


def _practice(t: _Table, modules: tuple[str, ...], banked: set[str]) -> list[QuizDefinition]:
    for key in ("pools", "time_limit_minutes", "attempts", "review", "eligibility", "closes"):
        if key in t.data:
            t.fail(key, "a practice quiz has none: one per module, untimed, unlimited, immediate")
    prefix = t.string("id")
    draw = t.number("draw", None, 1, integer=True)
    if draw is None:
        t.fail("draw", "how many questions each practice attempt draws from its module")
    title, title_fr = t.string("title"), t.string("title_fr")
    return [
        QuizDefinition(
            id=f"{prefix}-{module}",
            title=f"{title}: {module}",
            title_fr=f"{title_fr} : {module}",
            kind=Kind.PRACTICE,
            pools=(PoolDraw(module, draw),),
            shuffle_questions=t.boolean("shuffle_questions", True),
            shuffle_answers=t.boolean("shuffle_answers", True),
            review=Review.IMMEDIATE,
        )
        for module in modules
        if module in banked
    ]


def parse_quizzes(
    data: dict,
    where: str = "course.toml",
    banked_modules: set[str] | None = None,
) -> tuple[QuizDefinition, ...]:
    """The quizzes of a parsed course.toml. `banked_modules`: modules that have a bank."""
    modules = tuple(m.get("id") for m in data.get("module", []) if isinstance(m, dict))
    banked = set(modules) if banked_modules is None else banked_modules
    raw = data.get("quiz", [])
    if not isinstance(raw, list):
        raise QuizConfigError(f"{where}: quiz: use [[quiz]] tables")
    quizzes: list[QuizDefinition] = []
    for i, table in enumerate(raw):
        t = _Table(table if isinstance(table, dict) else {}, f"{where}: quiz[{i}]")
        unknown = set(t.data) - _KEYS
        if unknown:
            raise QuizConfigError(f"{t.where}: unknown key(s): {', '.join(sorted(unknown))}")
        kind = t.data.get("kind", "certification")
        if kind == Kind.PRACTICE:
            quizzes.extend(_practice(t, modules, banked))
        elif kind == Kind.CERTIFICATION:
            quizzes.append(_certification(t, modules, data.get("pass_mark")))
        else:
            t.fail("kind", f"must be certification or practice, not {kind!r}")
    ids = [q.id for q in quizzes]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise QuizConfigError(f"{where}: quiz ids used twice: {', '.join(dupes)}")
    return tuple(quizzes)


def load_quizzes(course_dir: Path, banked_modules: set[str] | None = None):
    """Read `course_dir/course.toml` and return its quizzes (QuizConfigError on bad input)."""
    path = course_dir / "course.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise QuizConfigError(f"{path}: cannot read: {exc}") from None
    return parse_quizzes(data, str(path), banked_modules)
