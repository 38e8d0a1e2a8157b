"""How a score is computed, in one place: raw → late penalty → resubmission policy.

1. **Raw**: what nbgrader's autograde gives the notebook after the trusted checks capped each
   exercise (docs/grading.md).
2. **Late penalty**: the module's late policy (`grader.course.config.LatePolicy`, read from
   `course.toml`) takes `penalty_fraction(seconds late)` of the raw score; nbgrader stores it
   as the notebook's `late_submission_penalty` (through `grader.steps.LunePenalty`).
3. **Policy**: among a learner's attempts at a module, "latest" counts the newest one and
   "best" the one with the highest score (the newest of equal ones).
"""

from __future__ import annotations

from grader.course.config import LatePolicy
from grader.submission import SubmissionResult


def late_penalty(raw: float, seconds_late: float, late: LatePolicy) -> float:
    """Points a submission `seconds_late` late loses from its `raw` score."""
    return raw * late.penalty_fraction(seconds_late)


def attempt_score(raw: float, penalty: float) -> float:
    """The score of one attempt: raw less its late penalty, never below 0."""
    return round(max(0.0, raw - penalty), 4)


def counted_attempt(attempts: list[SubmissionResult], resubmission: str) -> int:
    """Index (in time order) of the attempt that counts under the course's resubmission policy.

    Only graded attempts compete; if none is graded, the newest attempt stands (so its status,
    "rejected" or "error", is what the learner and the portal see).
    """
    graded = [i for i, a in enumerate(attempts) if a.status == "graded"]
    if not graded:
        return len(attempts) - 1
    if resubmission == "latest":
        return graded[-1]
    best = graded[0]
    for i in graded:
        if attempts[i].score >= attempts[best].score:
            best = i
    return best
