"""One error type for the whole grading pipeline (as nbgrader has one for its own).

Two families matter to whoever calls the grader: a `GraderError` is something a person must
fix (the course, the options, the submission); an `InfrastructureFailure` says nothing about
the learner's code (the sandbox or its host failed) and the grading is retried, never scored.
"""

from __future__ import annotations


class GraderError(Exception):
    """Something the instructor must fix: bad course, bad submissions, bad options."""


class SandboxUnavailable(GraderError):
    """The sandbox cannot start on this machine; grading refuses rather than run unconfined."""


class SubmissionRejected(GraderError):
    """A submission file that cannot be graded at all (too big, not a notebook, bad name)."""


class InfrastructureFailure(Exception):
    """Grading failed for a reason that is not the learner's code: retry, never score it."""


class SandboxFailure(InfrastructureFailure):
    """A sandbox did not start, was killed from outside, or the host starved it."""
