"""Trusted checks: `courses/<course>/checks/<module>.json` (format in the course contract).

The file is read by the course pipeline's reader (`grader.course.checkfile.load_checks`: one
reader, one value encoding for `lune course check` and grading). It never enters the sandbox.
Only `{function, args, kwargs}` of each case go in; the learner's function values come back
as JSON and are compared here, with exact types: a JSON
`true` is not `1`, `1` is not `1.0`, and a float matches only within an explicit `tolerance`.
"""

from __future__ import annotations

from dataclasses import dataclass

from grader.course.checkfile import Case, Exercise, load_checks, values_equal

__all__ = ["Case", "Exercise", "ExerciseResult", "calls_for", "judge", "json_equal", "load_checks"]


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
