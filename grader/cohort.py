"""Grading a cohort: a pool of worker processes fed from a queue, one learner at a time each.

Each worker process owns one `GradingSession` (nbgrader's API is not thread-safe); every
sandbox it starts leases its own uid for its life (`grader.leases`), so any number of workers,
`lune grade` runs and portal jobs can grade on one host at once. The parent prepares the
workspace once, skips submissions whose content hash is already in the ledger, applies the
resubmission policy (`grader.policy.counted_attempt`: "latest" grades the newest attempt only;
"best" grades every attempt, each in its own job, and commits only the one that counts), shows
progress, and writes the ledger. A job that failed for infrastructure reasons is retried
inside the worker; a worker that dies mid-job is replaced and its job is given to a worker
again (twice), then reported as a retryable error — never silently dropped, never scored.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import queue
import sys
import time
import traceback
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from grader.collect import collect
from grader.course.config import load_course
from grader.errors import GraderError
from grader.job import GradedJob, GradingSession
from grader.policy import counted_attempt
from grader.progress import Progress
from grader.sandbox import Limits, probe
from grader.submission import Submission, SubmissionResult
from grader.workspace import Ledger, default_workdir, prepare_module, submission_key

#: How many times a job whose worker died is handed to a worker again.
LOST_JOB_RETRIES = 2


@dataclass
class CohortReport:
    """Counted results (one per learner), every attempt graded, and what was skipped."""

    module: str
    results: list[SubmissionResult]
    attempts: list[SubmissionResult] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    cached: int = 0
    graded: int = 0
    seconds: float = 0.0


def _worker(args: tuple, tasks, results) -> None:
    def put(kind: str, job_id, payload) -> None:
        results.put(((kind, job_id, payload), os.getpid()))

    course_dir, module_id, workdir, sandbox, limits = args
    try:
        course = load_course(course_dir)
        session = GradingSession(course, module_id, workdir, sandbox=sandbox, limits=limits)
    except Exception as exc:  # report, do not hang the parent
        put("fatal", None, f"{type(exc).__name__}: {exc}")
        return
    put("ready", None, None)
    while True:
        job = tasks.get()
        if job is None:
            return
        job_id, attempts = job
        put("start", job_id, None)
        jobs = []
        for sub in attempts:
            try:
                jobs.append(session.grade_job(sub))
            except Exception:
                jobs.append(
                    GradedJob(
                        SubmissionResult(
                            module=module_id,
                            learner=sub.learner,
                            timestamp=sub.timestamp.isoformat(),
                            status="error",
                            retryable=True,
                            error=traceback.format_exc(limit=3)[-1500:],
                            origin=sub.origin,
                        )
                    )
                )
        try:
            counted = jobs[counted_attempt([j.result for j in jobs], course.resubmission)]
            if counted.result.status == "graded":
                # Only the attempt that counts reaches the gradebook and the feedback.
                session.commit(counted)
        finally:
            for j in jobs:
                session.discard(j)
        put("done", job_id, [j.result.to_dict() for j in jobs])


def _group(subs: list[Submission], resubmission: str) -> dict[str, list[Submission]]:
    by_learner: dict[str, list[Submission]] = {}
    for sub in sorted(subs, key=lambda s: (s.learner, s.timestamp)):
        by_learner.setdefault(sub.learner, []).append(sub)
    if resubmission == "latest":
        return {k: v[-1:] for k, v in by_learner.items()}
    return by_learner


def grade_cohort(
    course_dir: Path,
    module_id: str,
    submissions: Path | list[Submission],
    *,
    workers: int = 2,
    sandbox: bool = True,
    workdir: Path | None = None,
    limits: Limits | None = None,
    progress: bool | None = None,
    force: bool = False,
) -> CohortReport:
    """Grade every learner's submission of one module; see the module docstring."""
    start = time.monotonic()
    course = load_course(Path(course_dir))
    module = course.module(module_id)
    workdir = Path(workdir) if workdir else default_workdir(course)
    if sandbox:
        probe()
    skipped: list[str] = []
    if isinstance(submissions, list):
        subs = submissions
    else:
        subs, skipped = collect(Path(submissions))
    fingerprint = prepare_module(course, module, workdir)
    ledger = Ledger(workdir / "ledger.json")
    groups = _group(subs, course.resubmission)

    report = CohortReport(module_id, results=[], skipped=skipped)
    pending: dict[int, list[Submission]] = {}
    keys: dict[int, list[str]] = {}
    for job_id, (_learner, attempts) in enumerate(sorted(groups.items())):
        ks = [
            submission_key(module_id, s.learner, fingerprint, s.notebook, s.timestamp.isoformat())
            for s in attempts
        ]
        cached = [ledger.get(k) for k in ks]
        if not force and all(cached):
            report.cached += len(attempts)
            _count(report, [SubmissionResult.from_dict(c) for c in cached], course.resubmission)
        else:
            pending[job_id] = attempts
            keys[job_id] = ks

    if pending:
        bar = Progress(len(pending), label=f"grading {module_id}", enabled=progress)
        try:
            for job_id, graded in _run_pool(
                course.root, module_id, workdir, pending, workers, sandbox, limits
            ):
                for key, result in zip(keys[job_id], graded, strict=False):
                    if result["status"] != "error":
                        ledger.put(key, result)
                report.graded += len(graded)
                _count(report, [SubmissionResult.from_dict(r) for r in graded], course.resubmission)
                bar.advance()
        finally:
            bar.close()
            ledger.save()
    report.results.sort(key=lambda r: r.learner)
    report.seconds = round(time.monotonic() - start, 3)
    return report


def _count(report: CohortReport, graded: list[SubmissionResult], resubmission: str) -> None:
    report.attempts += graded
    report.results.append(graded[counted_attempt(graded, resubmission)])


def _run_pool(course_root, module_id, workdir, pending, workers, sandbox, limits):
    # fork: workers inherit the imported nbgrader stack (seconds of imports each with spawn).
    ctx = mp.get_context("fork")
    tasks, results = ctx.Queue(), ctx.Queue()
    workers = max(1, min(workers, len(pending)))

    def spawn():
        p = ctx.Process(
            target=_worker,
            args=((course_root, module_id, workdir, sandbox, limits), tasks, results),
            daemon=True,
        )
        p.start()
        return p

    procs = [spawn() for _ in range(workers)]
    for job_id, attempts in pending.items():
        tasks.put((job_id, attempts))
    # Which job each worker pid is on: a dead worker's job is found by its pid.
    in_flight: dict[int, int] = {}
    lost_count: dict[int, int] = {}
    remaining = set(pending)
    try:
        while remaining:
            try:
                kind, job_id, payload, pid = _next(results)
            except queue.Empty:
                for i, p in enumerate(procs):
                    if p.is_alive():
                        continue
                    lost = in_flight.pop(p.pid, None)
                    if lost is not None and lost in remaining:
                        lost_count[lost] = lost_count.get(lost, 0) + 1
                        if lost_count[lost] > LOST_JOB_RETRIES:
                            remaining.discard(lost)
                            yield lost, [_lost(module_id, pending[lost], p.exitcode)]
                        else:
                            tasks.put((lost, pending[lost]))
                    procs[i] = spawn()
                continue
            if kind == "fatal":
                raise GraderError(f"grading worker could not start: {payload}")
            if kind == "start":
                in_flight[pid] = job_id
            elif kind == "done":
                in_flight.pop(pid, None)
                if job_id in remaining:
                    remaining.discard(job_id)
                    yield job_id, payload
    finally:
        for _ in procs:
            tasks.put(None)
        for p in procs:
            p.join(timeout=5)
            if p.is_alive():
                p.kill()
                p.join()


def _next(results) -> tuple:
    message, pid = results.get(timeout=0.5)
    return (*message, pid)


def _lost(module_id: str, attempts: list[Submission], exitcode) -> dict:
    sub = attempts[-1]
    return SubmissionResult(
        module=module_id,
        learner=sub.learner,
        timestamp=sub.timestamp.isoformat(),
        status="error",
        retryable=True,
        error=f"the grading worker died {LOST_JOB_RETRIES + 1} times (exit code {exitcode})",
        origin=sub.origin,
    ).to_dict()


def grade_submission(
    course_dir: Path,
    module_id: str,
    learner: str,
    notebook: bytes,
    *,
    timestamp: datetime | None = None,
    sandbox: bool = True,
    workdir: Path | None = None,
    limits: Limits | None = None,
) -> SubmissionResult:
    """Grade one submission in this process (the portal's worker calls this).

    Safe to call from several processes at once, with the same workdir: each call grades in
    its own job directory and leases its own sandbox uid. Never raises for a problem of the
    submission or of the infrastructure: see `SubmissionResult.status` and `retryable`. A
    course that cannot be graded (bad course files, no sandbox on this host) gives "error"
    with `retryable` False.
    """
    from grader.workspace import now_utc

    when = timestamp or now_utc()
    try:
        course = load_course(Path(course_dir))
        module = course.module(module_id)
        workdir = Path(workdir) if workdir else default_workdir(course)
        prepare_module(course, module, workdir)
        session = GradingSession(course, module_id, workdir, sandbox=sandbox, limits=limits)
    except GraderError as exc:
        return SubmissionResult(
            module=module_id,
            learner=learner,
            timestamp=when.isoformat(),
            status="error",
            retryable=False,
            error=str(exc),
            origin="upload",
        )
    return session.grade(Submission(learner, notebook, when, "upload"))


if __name__ == "__main__":  # pragma: no cover
    sys.exit("use `lune grade`")
