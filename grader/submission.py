"""What goes into grading and what comes out: plain dataclasses, no nbgrader.

`SubmissionResult.status` is the contract with every caller (the portal, `lune grade`):

- ``"graded"``: a final verdict on the learner's code (possibly 0);
- ``"rejected"``: the notebook itself is unusable (not JSON, not this module's notebook, too
  big, …) — `error` is a message the learner can act on; resubmitting a fixed file helps;
- ``"error"``: grading failed for a reason that is not the learner's code; never final.
  `retryable` is True when grading the same submission again may succeed (the sandbox or the
  host failed) and False when a person must fix something first (the course files).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import datetime

from grader.errors import SubmissionRejected

MAX_NOTEBOOK_BYTES = 8 * 1024 * 1024
STATUSES = ("graded", "rejected", "error")
LEARNER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@+-]{0,63}$")


def check_learner_id(learner: str) -> str:
    """A learner id becomes a folder name: letters, digits and `_.@+-` only."""
    if not LEARNER_ID.match(learner) or ".." in learner:
        raise SubmissionRejected(f"bad learner id {learner!r}: use letters, digits and _.@+- only")
    return learner


@dataclass
class Submission:
    """One learner's notebook for one module, as collected."""

    learner: str
    notebook: bytes
    timestamp: datetime
    origin: str = ""


@dataclass
class SubmissionResult:
    """The outcome of grading one submission (JSON-ready through `to_dict`).

    `exercises[*]` holds, per exercise: `function`, `score`, `max_score`, `checks_passed`,
    `checks_total`, `checks_run`, `capped_by_checks` and `visible_output` (the visible test's
    output only; hidden tests are never shown). `notices` are sentences for the learner (a
    limit their notebook reached, an output too large to keep).
    """

    module: str
    learner: str
    timestamp: str
    status: str  # "graded" | "rejected" | "error"
    raw_score: float = 0.0
    late_penalty: float = 0.0
    score: float = 0.0
    max_score: float = 0.0
    duedate: str = ""
    exercises: list[dict] = field(default_factory=list)
    error: str = ""
    retryable: bool = False
    notices: list[str] = field(default_factory=list)
    anomalies: list[str] = field(default_factory=list)
    seconds: float = 0.0
    origin: str = ""
    feedback: str = ""

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> SubmissionResult:
        """The inverse of `to_dict`; keys this version does not know are ignored."""
        known = cls.__dataclass_fields__
        return cls(**{k: v for k, v in data.items() if k in known})
