"""Lune's steps in nbgrader's autograde pipeline (real nbgrader 0.9 `Autograde` converter).

nbgrader's own pipeline is kept: sanitize (ClearOutput, DeduplicateIds, OverwriteKernelspec,
OverwriteCells with `add_missing_cells`, CheckCellMetadata), then autograde. Two steps change:

- `SandboxExecute` replaces nbgrader's `Execute`: the cells run in the bubblewrap sandbox
  (`grader.execution`), not in a kernel with the grader's privileges.
- `TrustedChecks` runs after `SaveAutoGrades`: the learner's functions are called in a second,
  fresh sandbox on the hidden inputs, compared outside, and each exercise's nbgrader score is
  capped at `points × passed/total` (see docs/grading.md). Then `AssignLatePenalties` applies
  the course's late policy (`LunePenalty`) to the capped score.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import nbformat
from nbgrader import utils
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.plugins import LateSubmissionPlugin
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Float, Unicode

from grader.checks import Exercise, ExerciseResult, calls_for, judge
from grader.course.config import LatePolicy
from grader.errors import InfrastructureFailure
from grader.execution import Executor
from grader.policy import late_penalty

NOT_EXECUTED = {
    "output_type": "error",
    "ename": "CellNotExecuted",
    "evalue": "the notebook stopped before this cell ran",
    "traceback": ["CellNotExecuted: the notebook stopped before this cell ran"],
}


INVALID_GRADE = {
    "output_type": "error",
    "ename": "InvalidGradeOutput",
    "evalue": "a test cell's result is not a score nbgrader can read",
    "traceback": ["InvalidGradeOutput: a test cell's result is not a score nbgrader can read"],
}


@dataclass
class JobContext:
    """What the steps of the job being graded in this worker process need and produce."""

    executor: Executor
    exercises: list[Exercise]
    timeout: float
    check_results: list[ExerciseResult] = field(default_factory=list)
    anomalies: list[str] = field(default_factory=list)
    capped: dict[str, float] = field(default_factory=dict)
    notices: list[str] = field(default_factory=list)  # what the learner should be told
    failure: InfrastructureFailure | None = None  # set when a step failed for our reasons

    def ran(self, executor: Executor) -> None:
        """Take what the executor's last run said into the job's notices."""
        last = executor.last
        self.anomalies += last.anomalies
        if last.limit_hit:
            self.notices.append(
                f"Your notebook reached the sandbox's {last.limit_hit}; the cells it did not "
                "finish scored 0."
            )
        for what in last.dropped:
            self.notices.append(f"An output was too large to keep and was not stored: {what}.")


_current: JobContext | None = None


def set_job(context: JobContext | None) -> None:
    """Install the context of the next `NbGraderAPI.autograde` call in this process."""
    global _current
    _current = context


def _job() -> JobContext:
    if _current is None:
        raise RuntimeError("no grading job set in this process (grader.steps.set_job)")
    return _current


def is_test_cell(cell) -> bool:
    return utils.is_grade(cell) and not utils.is_solution(cell) and cell.cell_type == "code"


class SandboxExecute(NbGraderPreprocessor):
    """Execute the notebook's code cells in the sandbox and store their outputs."""

    def preprocess(self, nb, resources):
        job = _job()
        code = [(i, c.source) for i, c in enumerate(nb.cells) if c.cell_type == "code"]
        try:
            results = job.executor.execute_notebook(code, job.timeout)
        except InfrastructureFailure as exc:
            job.failure = exc
            raise
        job.ran(job.executor)
        for i, _ in code:
            cell = nb.cells[i]
            got = results.get(i)
            if got is None:
                cell.outputs = [nbformat.from_dict(NOT_EXECUTED)]
                cell.execution_count = None
            else:
                cell.outputs = [nbformat.from_dict(o) for o in got["outputs"]]
                cell.execution_count = got["execution_count"]
            if is_test_cell(cell):
                _readable_grade(cell)
        return nb, resources


def _readable_grade(cell) -> None:
    """A test cell's outputs come from the sandbox, which the learner's code can write to: an
    output nbgrader cannot score (a result above the cell's points, no `text/plain`) would make
    SaveAutoGrades raise half-way. Such a cell scores 0, like a failing test."""
    try:
        utils.determine_grade(cell)
    except Exception:  # noqa: BLE001 - whatever nbgrader would raise on it
        cell.outputs = [nbformat.from_dict(INVALID_GRADE)]


class TrustedChecks(NbGraderPreprocessor):
    """Decide each exercise outside the learner's kernel and cap its nbgrader score."""

    def preprocess(self, nb, resources):
        job = _job()
        info = resources["nbgrader"]
        # Read the scores, then close the session: an open SQLite transaction held across a
        # sandbox run would block the other workers' gradebook writes.
        with Gradebook(info["db_url"]) as gb:
            earned = {
                ex.function: sum(
                    g.auto_score or 0.0
                    for g in (self._grade(gb, gid, info) for gid in ex.cells)
                    if g is not None
                )
                for ex in job.exercises
            }
        # The checks can only lower a score: an exercise nbgrader already scored 0 (failed,
        # erroring or timed-out tests) is not run again, which saves a timeout per case.
        wanted = [ex for ex in job.exercises if earned[ex.function] > 0]
        results = {}
        if wanted:
            # Test cells never run here; set-up cells came back from the source through
            # OverwriteCells; solution and learner-added cells are the learner's.
            program = [c.source for c in nb.cells if c.cell_type == "code" and not is_test_cell(c)]
            try:
                outcomes = job.executor.call_functions(program, calls_for(wanted), job.timeout)
            except InfrastructureFailure as exc:
                job.failure = exc
                raise
            job.ran(job.executor)
            results = {r.function: r for r in judge(wanted, outcomes)}
        job.check_results = [
            results.get(ex.function) or ExerciseResult(ex.function, 0, len(ex.cases), ran=False)
            for ex in job.exercises
        ]
        with Gradebook(info["db_url"]) as gb:
            for exercise, result in zip(job.exercises, job.check_results, strict=True):
                cells = [g for g in (self._grade(gb, c, info) for c in exercise.cells) if g]
                earned_now = sum(g.auto_score or 0.0 for g in cells)
                cap = result.fraction * sum(g.max_score for g in cells)
                excess = earned_now - cap
                job.capped[exercise.function] = max(0.0, excess)
                # Take the excess from the last cell first (the hidden test's points).
                for grade in reversed(cells):
                    if excess <= 1e-9:
                        break
                    cut = min(excess, grade.auto_score or 0.0)
                    grade.auto_score = (grade.auto_score or 0.0) - cut
                    excess -= cut
            gb.db.commit()
        return nb, resources

    @staticmethod
    def _grade(gb, grade_id: str, info: dict):
        try:
            return gb.find_grade(grade_id, info["notebook"], info["assignment"], info["student"])
        except MissingEntry:
            return None


class LunePenalty(LateSubmissionPlugin):
    """Late penalty from course.toml: percent off per started day/hour late, with a floor."""

    per = Unicode("day").tag(config=True)
    percent = Float(0.0).tag(config=True)
    floor = Float(0.0).tag(config=True)
    grace_minutes = Float(0.0).tag(config=True)

    def late_submission_penalty(self, student_id, score, total_seconds_late):
        policy = LatePolicy(self.per, self.percent, self.floor, self.grace_minutes)
        return late_penalty(score, total_seconds_late, policy)
