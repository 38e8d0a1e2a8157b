"""Grading one submission in the current process: nbgrader autograde + Lune's steps + feedback.

`GradingSession` holds what a worker process reuses between jobs (the `NbGraderAPI`, the
sandbox, the parsed checks). nbgrader's API is not thread-safe, so a process grades one
submission at a time; processes never share nbgrader state: each job runs in its own job
directory with its own gradebook copy (`grader.workspace`), and only a job that passed every
step is committed to the workspace. A job that failed for a reason that is not the learner's
code (`InfrastructureFailure`) is graded again from scratch, a few times, and otherwise
reported as a retryable "error" — never as a score.
"""

from __future__ import annotations

import copy
import html
import json
import re
import shutil
import sqlite3
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook, MissingEntry

from grader.checks import load_checks
from grader.course.config import CourseConfig
from grader.errors import GraderError, SubmissionRejected
from grader.execution import Executor
from grader.feedback import collect_visible, write_feedback
from grader.policy import attempt_score
from grader.sandbox import Limits, Sandbox, probe
from grader.steps import JobContext, set_job
from grader.submission import MAX_NOTEBOOK_BYTES, Submission, SubmissionResult
from grader.workspace import (
    cell_timeout,
    check_learner_id,
    commit_grades,
    new_job_dir,
    open_api,
    place_submission,
    template_gradebook,
)

__all__ = ["GradingSession", "Submission", "SubmissionResult", "inert_markup", "parse_notebook"]

MAX_CELLS = 1000
#: How many times a job that failed for infrastructure reasons is graded again, and the pause
#: before each new try (seconds).
RETRY_PAUSES = (0.5, 2.0)
_SCRIPT_URL = re.compile(
    "(?:" + r"[\s\x00-\x1f]*".join("javascript:") + "|" + r"[\s\x00-\x1f]*".join("vbscript:") + ")",
    re.IGNORECASE,
)


def parse_notebook(data: bytes):
    """Untrusted bytes → NotebookNode, or SubmissionRejected (never another exception)."""
    if len(data) > MAX_NOTEBOOK_BYTES:
        raise SubmissionRejected(f"notebook larger than {MAX_NOTEBOOK_BYTES // 2**20} MiB")
    try:
        text = data.decode("utf-8")
        # Count cells before nbformat validates them: validation costs ~70 µs a cell, and an
        # 8 MiB notebook can hold ~200,000 empty ones.
        raw = json.loads(text)
        cells = raw.get("cells") if type(raw) is dict else None
        if type(cells) is list and len(cells) > MAX_CELLS:
            raise SubmissionRejected(f"more than {MAX_CELLS} cells")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            nb = nbformat.reads(text, as_version=4)
        if len(nb.cells) > MAX_CELLS:
            raise SubmissionRejected(f"more than {MAX_CELLS} cells")
        for cell in nb.cells:
            if not isinstance(cell.get("source", ""), str):
                raise SubmissionRejected("malformed cell")
        return nb
    except SubmissionRejected:
        raise
    except Exception as exc:  # nbformat raises many unrelated types on bad input
        raise SubmissionRejected(f"not a readable notebook ({type(exc).__name__})") from None


def inert_markup(nb) -> None:
    """Neutralize markup a learner's cells could run in an instructor's browser.

    nbgrader's formgrader renders submitted markdown through nbconvert's `markdown2html`, which
    keeps raw HTML (`<script>`, `onerror=`) and `javascript:` links, and inserts raw cells whose
    format is HTML verbatim. Markdown cells get `&` and `<` escaped (they still read the same),
    a cell with a script URL becomes a code block, and raw cells lose their output format.
    Cells nbgrader restores from the source (`OverwriteCells`) get the instructor's text back.
    """
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            probe = cell.source
            for _ in range(4):  # mistune unescapes entities in URLs, more than once
                probe = html.unescape(probe)
            if _SCRIPT_URL.search(probe):
                # An indented code block is shown literally, whatever it contains.
                cell.source = "\n".join("    " + line for line in cell.source.splitlines())
            else:
                cell.source = cell.source.replace("&", "&amp;").replace("<", "&lt;")
        elif cell.cell_type == "raw":
            for key in ("format", "raw_mimetype"):
                cell.get("metadata", {}).pop(key, None)


@dataclass
class GradedJob:
    """A graded submission and its job directory, not yet committed to the workspace."""

    result: SubmissionResult
    root: Path | None = None


class GradingSession:
    """Everything one process needs to grade submissions of one module, one at a time."""

    def __init__(
        self,
        course: CourseConfig,
        module_id: str,
        workdir: Path,
        *,
        sandbox: bool = True,
        limits: Limits | None = None,
    ) -> None:
        self.course = course
        self.module = course.module(module_id)
        self.workdir = Path(workdir)
        self.api = open_api(course, self.module, self.workdir)
        self.timeout = cell_timeout(self.api.config)
        self.exercises = load_checks(course.checks_file(module_id), module_id)
        self.template = template_gradebook(self.workdir, module_id)
        limits = limits or Limits()
        if sandbox:
            probe()
            self.executor = Executor(Sandbox(limits))
        else:
            self.executor = Executor(None, limits)
        source = self.workdir / "source" / module_id / f"{module_id}.ipynb"
        self.source_nb = nbformat.read(source, as_version=4)
        release = nbformat.read(
            self.workdir / "release" / module_id / f"{module_id}.ipynb", as_version=4
        )
        self.release_meta = {
            c.metadata["nbgrader"]["grade_id"]: (c.cell_type, c.metadata["nbgrader"])
            for c in release.cells
            if "grade_id" in c.metadata.get("nbgrader", {})
        }

    def grade(self, sub: Submission) -> SubmissionResult:
        """Grade one submission and, when graded, commit it to the workspace."""
        job = self.grade_job(sub)
        try:
            if job.result.status == "graded":
                self.commit(job)
        finally:
            self.discard(job)
        return job.result

    def grade_job(self, sub: Submission) -> GradedJob:
        """Grade one submission in a job directory of its own; nothing reaches the workspace."""
        start = time.monotonic()
        mid = self.module.id
        result = SubmissionResult(
            module=mid,
            learner=sub.learner,
            timestamp=sub.timestamp.isoformat(),
            status="graded",
            origin=sub.origin,
            duedate=self.module.due.isoformat() if self.module.due else "",
        )
        try:
            check_learner_id(sub.learner)
            nb = parse_notebook(sub.notebook)
            self._trusted_metadata(nb)
        except GraderError as exc:
            result.status, result.error = "rejected", str(exc)
            result.max_score = self._max_score()
            return GradedJob(result)
        inert_markup(nb)
        # Already parsed and upgraded to v4; nbgrader reads and validates it again.
        notebook = json.dumps(nb).encode()
        for pause in (*RETRY_PAUSES, None):
            job = self._autograde(sub, notebook, result)
            if job.result.status != "error" or not job.result.retryable or pause is None:
                break
            self.discard(job)
            time.sleep(pause)
        job.result.seconds = round(time.monotonic() - start, 3)
        return job

    def _autograde(self, sub: Submission, notebook: bytes, base: SubmissionResult) -> GradedJob:
        mid = self.module.id
        result = copy.deepcopy(base)
        root = new_job_dir(self.workdir)
        shutil.copyfile(self.template, root / "gradebook.db")
        (root / "source").symlink_to(self.workdir / "source")
        place_submission(root, mid, sub.learner, notebook, sub.timestamp)
        coursedir = self.api.coursedir
        coursedir.root = str(root)
        coursedir.db_url = f"sqlite:///{root / 'gradebook.db'}"
        context = JobContext(self.executor, self.exercises, self.timeout)
        set_job(context)
        try:
            with warnings.catch_warnings():
                # nbgrader 0.9 trips SQLAlchemy's autoflush warnings on every submission.
                warnings.simplefilter("ignore")
                outcome = self.api.autograde(mid, sub.learner, force=True, create=True)
        finally:
            set_job(None)
        if context.failure is not None:
            result.status, result.retryable = "error", True
            result.error = f"grading infrastructure failed: {context.failure}"
        elif not outcome.get("success"):
            # Not the learner's doing either: their outputs cannot make a step raise.
            result.status, result.retryable = "error", True
            result.error = (outcome.get("error") or outcome.get("log") or "").strip()[-2000:]
        self._read_scores(result, context, root)
        result.anomalies = sorted(set(context.anomalies))
        result.notices = list(dict.fromkeys(context.notices))
        if result.status == "graded":
            self._visible_outputs(result, root)
        return GradedJob(result, root)

    def commit(self, job: GradedJob) -> None:
        """Make `job` the learner's result in the workspace: gradebook, folders, feedback.

        A failure here (the gradebook stayed locked, the disk is full) is ours: the result
        becomes a retryable "error" and the gradebook keeps the learner's previous rows.
        """
        if job.root is None:
            raise GraderError("only a graded job can be committed")
        try:
            commit_grades(self.workdir, job.root, self.module.id, job.result.learner)
            folder = self.workdir / "feedback" / self.module.id
            md, _ = write_feedback(folder, job.result.to_dict())
        except (OSError, sqlite3.Error) as exc:
            job.result.status, job.result.retryable = "error", True
            job.result.error = f"the grades could not be recorded: {type(exc).__name__}: {exc}"
            return
        job.result.feedback = str(md)

    @staticmethod
    def discard(job: GradedJob) -> None:
        """Remove a job's directory (committed or not)."""
        if job.root is not None:
            shutil.rmtree(job.root, ignore_errors=True)
            job.root = None

    def _trusted_metadata(self, nb) -> None:
        """Never trust a submission's nbgrader metadata: a cell whose grade_id the release knows
        gets the release's metadata back (points, grade, locked, checksum); any other cell
        loses its nbgrader metadata and is an ordinary learner cell. nbgrader's OverwriteCells
        then restores the graded cells' sources (and re-adds deleted ones). A notebook with
        none of the module's graded cells is another notebook: it is rejected."""
        known_cells = 0
        for cell in nb.cells:
            meta = cell.get("metadata", {}).get("nbgrader")
            if meta is None:
                continue
            known = self.release_meta.get(meta.get("grade_id") if isinstance(meta, dict) else None)
            if known is not None and known[0] == cell.cell_type:
                cell.metadata["nbgrader"] = copy.deepcopy(known[1])
                known_cells += 1
            else:
                del cell.metadata["nbgrader"]
        if self.release_meta and not known_cells:
            raise SubmissionRejected(
                f"this is not the notebook of module {self.module.id}: none of its exercise "
                "cells is in it; submit the module's notebook"
            )

    def _max_score(self) -> float:
        with Gradebook(f"sqlite:///{self.template}") as gb:
            return float(gb.find_assignment(self.module.id).max_score)

    def _read_scores(self, result: SubmissionResult, context: JobContext, root: Path) -> None:
        mid = self.module.id
        with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
            try:
                snb = gb.find_submission_notebook(mid, mid, result.learner)
            except MissingEntry:
                result.max_score = float(gb.find_assignment(mid).max_score)
                return
            grades = {g.name: g for g in snb.grades}
            result.max_score = float(snb.max_score)
            if result.status == "graded":
                result.raw_score = float(snb.score)
                result.late_penalty = float(snb.late_submission_penalty or 0.0)
                result.score = attempt_score(result.raw_score, result.late_penalty)
            checks = {r.function: r for r in context.check_results}
            for ex in self.exercises:
                cells = [grades[c] for c in ex.cells if c in grades]
                got = checks.get(ex.function)
                result.exercises.append(
                    {
                        "function": ex.function,
                        "score": float(sum(g.score or 0.0 for g in cells))
                        if result.status == "graded"
                        else 0.0,
                        "max_score": float(sum(g.max_score for g in cells)),
                        "checks_passed": got.passed if got else 0,
                        "checks_total": got.total if got else len(ex.cases),
                        "checks_run": bool(got and got.ran),
                        "capped_by_checks": round(context.capped.get(ex.function, 0.0), 4),
                        "visible_output": "",
                    }
                )

    def _visible_outputs(self, result: SubmissionResult, root: Path) -> None:
        mid = self.module.id
        path = root / "autograded" / result.learner / mid / f"{mid}.ipynb"
        if not path.is_file():
            return
        shown = collect_visible(
            # nbgrader wrote (and validated) it: skip a second validation.
            nbformat.from_dict(json.loads(path.read_text())),
            self.source_nb,
            self.exercises,
        )
        for ex in result.exercises:
            ex["visible_output"] = shown.get(ex["function"], "")
