"""Trusted checks: `courses/<course>/checks/<module>.json` (format in the course contract).

The file never enters the sandbox. Only `{function, args, kwargs}` of each case go in; the
learner's function values come back as JSON and are compared here, with exact types: a JSON
`true` is not `1`, `1` is not `1.0`, and a float matches only within an explicit `tolerance`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from grader.course.checkfile import values_equal
from grader.errors import GraderError


@dataclass(frozen=True)
class Case:
    args: list
    kwargs: dict
    expected: object
    tolerance: float | None = None


@dataclass(frozen=True)
class Exercise:
    """One learner function, the grade cells it is worth, and its trusted cases."""

    function: str
    cells: tuple[str, ...]
    cases: tuple[Case, ...]


def load_checks(path: Path) -> list[Exercise]:
    """Parse a checks file; raise GraderError naming the problem."""
    try:
        data = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise GraderError(f"trusted checks {path} not found") from None
    except ValueError as exc:
        raise GraderError(f"{path}: not JSON: {exc}") from None
    exercises = []
    try:
        for ex in data["exercises"]:
            cases = tuple(
                Case(
                    args=list(c.get("args", [])),
                    kwargs=dict(c.get("kwargs", {})),
                    expected=c["expected"],
                    tolerance=c.get("tolerance"),
                )
                for c in ex["cases"]
            )
            if not cases:
                raise GraderError(f"{path}: exercise {ex['function']} has no cases")
            exercises.append(Exercise(str(ex["function"]), tuple(ex["cells"]), cases))
    except (KeyError, TypeError, AttributeError) as exc:
        raise GraderError(f"{path}: malformed checks ({exc!r})") from None
    return exercises


def json_equal(expected: object, actual: object, tolerance: float | None = None) -> bool:
    """Exact equality of two JSON values, types included (bool ≠ int ≠ float).

    The rule is the course pipeline's (`grader.course.checkfile.values_equal`), so what
    `lune course check` accepts from a solution and what grading accepts from a learner can
    never drift apart.
    """
    return values_equal(actual, expected, tolerance)


@dataclass(frozen=True)
class ExerciseResult:
    function: str
    passed: int
    total: int
    ran: bool = True  # False: not run, nbgrader had already scored the exercise 0

    @property
    def fraction(self) -> float:
        return self.passed / self.total if self.total else 0.0


def calls_for(exercises: list[Exercise]) -> list[dict]:
    """What enters the sandbox: function names and inputs, never expected values."""
    return [
        {"function": ex.function, "args": case.args, "kwargs": case.kwargs}
        for ex in exercises
        for case in ex.cases
    ]


def judge(exercises: list[Exercise], outcomes: list) -> list[ExerciseResult]:
    """Compare the sandbox's CallOutcomes (in `calls_for` order) with the expected values."""
    results = []
    i = 0
    for ex in exercises:
        passed = 0
        for case in ex.cases:
            outcome = outcomes[i]
            i += 1
            if outcome.ok and json_equal(case.expected, outcome.value, case.tolerance):
                passed += 1
        results.append(ExerciseResult(ex.function, passed, len(ex.cases)))
    return results
