"""One error type for the whole grading pipeline (as nbgrader has one for its own)."""

from __future__ import annotations


class GraderError(Exception):
    """Something the instructor must fix: bad course, bad submissions, bad options."""


class SandboxUnavailable(GraderError):
    """The sandbox cannot start on this machine; grading refuses rather than run unconfined."""


class SubmissionRejected(GraderError):
    """A submission file that cannot be graded at all (too big, not a notebook, bad name)."""
