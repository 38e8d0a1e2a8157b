"""Grading a cohort: a pool of worker processes fed from a queue, one submission at a time each.

Each worker process owns one `GradingSession` (nbgrader's API is not thread-safe) and one
sandbox uid (`UID_BASE + worker index`). The parent prepares the workspace once, skips
submissions whose content hash is already in the ledger, applies the resubmission policy
("latest" grades the newest attempt only; "best" grades every attempt and keeps the best),
shows progress, and writes the ledger. A worker that dies mid-job is replaced and its job is
reported as an error, never silently dropped.
"""

from __future__ import annotations

import multiprocessing as mp
import queue
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from grader.collect import collect
from grader.errors import GraderError
from grader.job import GradingSession, Submission, SubmissionResult
from grader.policy import load_course
from grader.progress import Progress
from grader.sandbox import Limits, probe, sandbox_uid
from grader.workspace import Ledger, default_workdir, prepare_module, submission_key


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
    course_dir, module_id, workdir, index, sandbox, limits = args
    try:
        session = GradingSession(
            load_course(course_dir),
            module_id,
            workdir,
            worker_index=index,
            sandbox=sandbox,
            limits=limits,
        )
    except Exception as exc:  # report, do not hang the parent
        results.put(("fatal", index, None, f"{type(exc).__name__}: {exc}"))
        return
    results.put(("ready", index, None, None))
    while True:
        job = tasks.get()
        if job is None:
            return
        job_id, attempts = job
        results.put(("start", index, job_id, None))
        graded = []
        for sub in attempts:
            try:
                graded.append(session.grade(sub).to_dict())
            except Exception:
                graded.append(
                    SubmissionResult(
                        module=module_id,
                        learner=sub.learner,
                        timestamp=sub.timestamp.isoformat(),
                        status="error",
                        error=traceback.format_exc(limit=3)[-1500:],
                        origin=sub.origin,
                    ).to_dict()
                )
        if len(graded) > 1:
            best = _pick_best(graded)
            if best != len(graded) - 1:
                # The gradebook and feedback must show the attempt that counts.
                graded[best] = session.grade(attempts[best]).to_dict()
        results.put(("done", index, job_id, graded))


def _pick_best(graded: list[dict]) -> int:
    best = 0
    for i, r in enumerate(graded):
        if r["score"] >= graded[best]["score"]:
            best = i
    return best


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
        probe(sandbox_uid(0))
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
            _count(report, [SubmissionResult(**c) for c in cached])
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
                _count(report, [SubmissionResult(**r) for r in graded])
                bar.advance()
        finally:
            bar.close()
            ledger.save()
    report.results.sort(key=lambda r: r.learner)
    report.seconds = round(time.monotonic() - start, 3)
    return report


def _count(report: CohortReport, graded: list[SubmissionResult]) -> None:
    report.attempts += graded
    best = graded[-1]
    if len(graded) > 1:
        best = graded[_pick_best([g.to_dict() for g in graded])]
    report.results.append(best)


def _run_pool(course_root, module_id, workdir, pending, workers, sandbox, limits):
    # fork: workers inherit the imported nbgrader stack (seconds of imports each with spawn).
    ctx = mp.get_context("fork")
    tasks, results = ctx.Queue(), ctx.Queue()
    workers = max(1, min(workers, len(pending)))

    def spawn(index: int):
        p = ctx.Process(
            target=_worker,
            args=((course_root, module_id, workdir, index, sandbox, limits), tasks, results),
            daemon=True,
        )
        p.start()
        return p

    procs = {i: spawn(i) for i in range(workers)}
    for job_id, attempts in pending.items():
        tasks.put((job_id, attempts))
    in_flight: dict[int, int] = {}
    remaining = set(pending)
    try:
        while remaining:
            try:
                kind, index, job_id, payload = results.get(timeout=0.5)
            except queue.Empty:
                for index, p in list(procs.items()):
                    if not p.is_alive():
                        lost = in_flight.pop(index, None)
                        if lost is not None and lost in remaining:
                            remaining.discard(lost)
                            yield lost, [_lost(module_id, pending[lost], p.exitcode)]
                        procs[index] = spawn(index)
                continue
            if kind == "fatal":
                raise GraderError(f"grading worker could not start: {payload}")
            if kind == "start":
                in_flight[index] = job_id
            elif kind == "done":
                in_flight.pop(index, None)
                remaining.discard(job_id)
                yield job_id, payload
    finally:
        for _ in procs:
            tasks.put(None)
        for p in procs.values():
            p.join(timeout=5)
            if p.is_alive():
                p.kill()
                p.join()


def _lost(module_id: str, attempts: list[Submission], exitcode) -> dict:
    sub = attempts[-1]
    return SubmissionResult(
        module=module_id,
        learner=sub.learner,
        timestamp=sub.timestamp.isoformat(),
        status="error",
        error=f"grading worker died (exit code {exitcode})",
        origin=sub.origin,
    ).to_dict()


def grade_submission(
    course_dir: Path,
    module_id: str,
    learner: str,
    notebook: bytes,
    *,
    timestamp=None,
    sandbox: bool = True,
    workdir: Path | None = None,
    limits: Limits | None = None,
) -> SubmissionResult:
    """Grade one submission in this process (the portal's worker calls this)."""
    from grader.workspace import now_utc

    course = load_course(Path(course_dir))
    module = course.module(module_id)
    workdir = Path(workdir) if workdir else default_workdir(course)
    prepare_module(course, module, workdir)
    session = GradingSession(course, module_id, workdir, sandbox=sandbox, limits=limits)
    return session.grade(Submission(learner, notebook, timestamp or now_utc(), "upload"))


if __name__ == "__main__":  # pragma: no cover
    sys.exit("use `lune grade`")
