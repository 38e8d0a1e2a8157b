"""`lune course check`: prove every module of a course is gradable, correct and fair.

Per module, in a throwaway nbgrader course directory:

* outputs   — no outputs or execution counts stored in the source notebook;
* structure — unique grade ids, points on every graded cell, each exercise has a visible test
              `<fn>_visible` and a hidden test `<fn>_hidden`, total points = course.toml;
* source    — the solved (source) notebook runs with no error and nothing on stderr;
* learner   — the learner (release) version runs with every exercise test failing only with
              NotImplementedError and every other cell fine; no solution or hidden test leaks;
* autograde — nbgrader autograde gives full marks to the source and 0 to the untouched release;
* hidden    — every hidden test fails on the untouched stub;
* checks    — checks/<id>.json is well-formed, covers every exercise, and the source solutions
              (run in a separate plain Python process) give every expected value.

Steps share work: the two autograde runs are the executions used by `source`, `learner` and
`hidden`. Modules run in parallel worker processes (nbgrader's API is not thread-safe).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from grader.course import notebooks as nbs
from grader.course.assignments import (
    NbgraderError,
    autograde,
    copy_gradebook,
    create_gradebook,
    generate,
    make_api,
    score,
)
from grader.course.checkfile import (
    ChecksFileError,
    encode_value,
    load_checks,
    run_solution_cases,
    values_equal,
)
from grader.course.config import CourseConfig, load_course

CHECKS = ("outputs", "structure", "source", "learner", "autograde", "hidden", "checks")
SOLVED, STUB = "solved", "untouched"


@dataclass
class ModuleReport:
    module: str
    exercises: int = 0
    points: float = 0.0
    failures: dict[str, str] = field(default_factory=dict)  # check name → one-line reason
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failures

    def fail(self, check: str, reason: str) -> None:
        # Keep the first reason per check: it is usually the cause of the others.
        self.failures.setdefault(check, reason)


def check_module(course_root: str, module_id: str, template_db: str) -> ModuleReport:
    """Run every check on one module; never raises (failures are recorded in the report)."""
    started = time.perf_counter()
    report = ModuleReport(module_id)
    try:
        _check_module(load_course(course_root), module_id, Path(template_db), report)
    except Exception as exc:  # one broken module must not hide the others' results
        report.fail("structure", f"internal error: {type(exc).__name__}: {exc}")
    report.seconds = time.perf_counter() - started
    return report


def _check_module(course: CourseConfig, module_id: str, template_db: Path, rep: ModuleReport):
    module = course.module(module_id)
    src_path = course.source_notebook(module_id)
    if not src_path.is_file():
        for check in CHECKS:
            rep.fail(check, f"source notebook {src_path.relative_to(course.root)} is missing")
        return
    try:
        source = nbs.read_notebook(src_path)
        exercises = nbs.exercises(source)
    except nbs.NotebookError as exc:
        for check in CHECKS:
            rep.fail(check, str(exc))
        return
    rep.exercises = len(exercises)
    rep.points = sum(g.points for g in nbs.graded_cells(source) if _is_points(g.points))
    if stored := nbs.stored_outputs(source):
        labels = ", ".join(nbs.cell_label(source, i) for i in stored[:3])
        rep.fail("outputs", f"outputs stored in {len(stored)} cell(s): {labels}")
    for problem in nbs.structure_problems(source, module.points):
        rep.fail("structure", problem)
    _check_trusted_cases(course, module_id, exercises, rep)

    with tempfile.TemporaryDirectory(prefix=f"lune-check-{module_id}-") as tmp:
        root = Path(tmp)
        if (course.root / "nbgrader_config.py").is_file():
            shutil.copy(course.root / "nbgrader_config.py", root)
        shutil.copytree(course.source_dir / module_id, root / "source" / module_id)
        db = root / "gradebook.db"
        copy_gradebook(template_db, db)
        api = make_api(root, db)
        try:
            release = generate(api, module_id) / src_path.name
            for student, notebook in ((SOLVED, src_path), (STUB, release)):
                dest = root / "submitted" / student / module_id
                dest.mkdir(parents=True)
                shutil.copy(notebook, dest / src_path.name)
            graded = {s: autograde(api, module_id, s) / src_path.name for s in (SOLVED, STUB)}
        except NbgraderError as exc:
            for check in ("source", "learner", "autograde", "hidden"):
                rep.fail(check, str(exc))
            return
        _check_release_text(nbs.read_notebook(release), rep)
        _check_solved_run(nbs.read_notebook(graded[SOLVED]), rep)
        _check_stub_run(nbs.read_notebook(graded[STUB]), exercises, rep)
        solved, stub = score(db, module_id, SOLVED), score(db, module_id, STUB)
        if solved.score != solved.max_score:
            rep.fail("autograde", f"source scores {solved.score:g}/{solved.max_score:g}")
        if stub.score != 0:
            rep.fail("autograde", f"untouched release scores {stub.score:g}/{stub.max_score:g}")


def _is_points(p) -> bool:
    return isinstance(p, int | float) and not isinstance(p, bool)


def _check_release_text(release, rep: ModuleReport) -> None:
    for i, cell in enumerate(release.cells):
        if nbs.SOLUTION_BEGIN in cell.source or nbs.HIDDEN_BEGIN in cell.source:
            rep.fail(
                "learner", f"release {nbs.cell_label(release, i)} leaks a solution/hidden test"
            )


def _check_solved_run(done, rep: ModuleReport) -> None:
    for i, cell in enumerate(done.cells):
        if errors := nbs.cell_errors(cell):
            rep.fail("source", f"{nbs.cell_label(done, i)} raises {errors[0]}")
        if stderr := nbs.cell_stderr(cell).strip():
            rep.fail("source", f"{nbs.cell_label(done, i)} writes to stderr: {stderr[:80]!r}")


def _check_stub_run(done, exercises: list[nbs.Exercise], rep: ModuleReport) -> None:
    test_ids = {f"{e.function}_{k}" for e in exercises for k in ("visible", "hidden")}
    for i, cell in enumerate(done.cells):
        grade_id = nbs.nbgrader_meta(cell).get("grade_id")
        errors = nbs.cell_errors(cell)
        label = nbs.cell_label(done, i)
        if grade_id in test_ids:
            if not errors:
                check = "hidden" if grade_id.endswith("_hidden") else "learner"
                rep.fail(check, f"{label} passes on the untouched stub")
            elif errors != ["NotImplementedError"]:
                rep.fail("learner", f"{label} fails with {errors[0]}, not NotImplementedError")
        elif errors:
            rep.fail("learner", f"{label} raises {errors[0]} in the learner version")


def _check_trusted_cases(
    course: CourseConfig, module_id: str, exercises: list[nbs.Exercise], rep: ModuleReport
) -> None:
    path = course.checks_file(module_id)
    try:
        checks = load_checks(path, module_id)
        listed = {c.function for c in checks}
        defined = {e.function for e in exercises}
        if missing := sorted(defined - listed):
            raise ChecksFileError(f"{path.name}: no cases for {', '.join(missing)}")
        if extra := sorted(listed - defined):
            raise ChecksFileError(f"{path.name}: {', '.join(extra)} is not an exercise")
        results = run_solution_cases(course.source_notebook(module_id), path)
    except ChecksFileError as exc:
        rep.fail("checks", str(exc))
        return
    for ex in checks:
        for n, (case, got) in enumerate(zip(ex.cases, results.get(ex.function, []), strict=False)):
            if not values_equal(got, encode_value(case.expected), case.tolerance):
                rep.fail(
                    "checks", f"{ex.function} case {n}: expected {case.expected!r}, got {got!r}"
                )


def _worker_init() -> None:
    # Kernels inherit stderr and print an ipykernel transport warning there: not our output.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    os.close(devnull)


def _warm_up() -> None:
    import nbclient  # noqa: F401
    import nbgrader.apps  # noqa: F401


@contextlib.contextmanager
def _kernel_stderr_silenced():
    """The same as `_worker_init`, for a check run in this process: restore stderr after."""
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def check_course(
    course: CourseConfig,
    module_ids: Iterable[str] | None = None,
    workers: int = 2,
    on_report: Callable[[ModuleReport], None] | None = None,
) -> list[ModuleReport]:
    """Check the given modules (default: all) in up to `workers` processes; reports in order."""
    ids = list(module_ids) if module_ids is not None else [m.id for m in course.modules]
    for module_id in ids:
        course.module(module_id)
    with tempfile.TemporaryDirectory(prefix="lune-check-") as tmp:
        template = Path(tmp) / "gradebook.db"
        args = [(str(course.root), m, str(template)) for m in ids]
        if workers <= 1 or len(ids) <= 1:
            create_gradebook(template, course.id)
            reports = []
            for a in args:
                with _kernel_stderr_silenced():
                    reports.append(check_module(*a))
                if on_report:
                    on_report(reports[-1])
            return reports
        ctx = multiprocessing.get_context("spawn")
        n = min(workers, len(ids))
        with ProcessPoolExecutor(n, ctx, initializer=_worker_init) as pool:
            # Workers start and import nbgrader while this process creates the gradebook.
            warm = [pool.submit(_warm_up) for _ in range(n)]
            create_gradebook(template, course.id)
            for fut in warm:
                fut.result()
            futures = [pool.submit(check_module, *a) for a in args]
            reports = []
            for fut in futures:
                reports.append(fut.result())
                if on_report:
                    on_report(reports[-1])
            return reports


def render_table(reports: list[ModuleReport]) -> str:
    """A per-module table: module, exercises, points, one ✓/✗ column per check, seconds."""
    head = ["module", "exercises", "points", *CHECKS, "seconds"]
    rows = [
        [
            r.module,
            str(r.exercises),
            f"{r.points:g}",
            *("✗" if c in r.failures else "✓" for c in CHECKS),
            f"{r.seconds:.1f}",
        ]
        for r in reports
    ]
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(head)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    return "\n".join(lines)


def failure_lines(reports: list[ModuleReport]) -> list[str]:
    return [f"{r.module}: {check}: {why}" for r in reports for check, why in r.failures.items()]
