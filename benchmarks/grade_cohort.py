"""Cohort grading: `lune grade` (sandbox on, 2 workers) vs plain `nbgrader autograde` (its CLI).

100 generated submissions of a real course module (default 01-hashing): correct, partly wrong,
erroring, timing out and forged (an always-equal object). Both runs grade the same submissions
from the same course copy, with the same per-cell timeout, in this run. Prints both wall times,
the ratio, and whether the honest submissions got the same scores.

    .venv/bin/python benchmarks/grade_cohort.py [--module 01-hashing] [--n 100] [--timeout 5]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from grader.course.config import DEFAULT_COURSE, default_courses_root, load_course

BIN = Path(sys.executable).parent


def _solution_cells(nb) -> dict[str, nbformat.NotebookNode]:
    return {
        c.metadata["nbgrader"]["grade_id"]: c
        for c in nb.cells
        if c.metadata.get("nbgrader", {}).get("solution")
    }


def make_submissions(course: Path, module: str, release: Path, n: int) -> dict[str, tuple]:
    """{learner: (notebook text, kind)} — a realistic mix, deterministic."""
    source = nbformat.read(course / "source" / module / f"{module}.ipynb", as_version=4)
    checks = json.loads((course / "checks" / f"{module}.json").read_text())
    functions = [ex["function"] for ex in checks["exercises"]]
    solved = _solution_cells(source)
    rng = random.Random(2021)
    plan = (
        ["correct"] * (n * 50 // 100)
        + ["wrong"] * (n * 20 // 100)
        + ["error"] * (n * 15 // 100)
        + ["timeout"] * (n * 5 // 100)
        + ["forged"] * (n * 10 // 100)
    )
    plan += ["correct"] * (n - len(plan))
    rng.shuffle(plan)
    subs = {}
    for i, kind in enumerate(plan):
        nb = nbformat.read(release, as_version=4)
        for gid, cell in _solution_cells(nb).items():
            if gid in solved:
                cell.source = solved[gid].source
        fn = rng.choice(functions)
        cell = next(c for c in _solution_cells(nb).values() if f"def {fn}(" in c.source)
        if kind == "wrong":
            cell.source += (
                f"\n_orig = {fn}\ndef {fn}(*a, **k):\n    r = _orig(*a, **k)\n"
                "    return r[::-1] if isinstance(r, str) else (r + 1 if isinstance(r, int) else r)"
            )
        elif kind == "error":
            cell.source += f"\ndef {fn}(*a, **k):\n    raise ValueError('not finished')"
        elif kind == "timeout":
            cell.source += f"\ndef {fn}(*a, **k):\n    while True:\n        pass"
        elif kind == "forged":
            cell.source += (
                "\nclass _Any(str):\n    def __eq__(self, o):\n        return True\n"
                "    def __ne__(self, o):\n        return False\n    __hash__ = str.__hash__\n"
                "    def __lt__(self, o):\n        return True\n"
                f"def {fn}(*a, **k):\n    return _Any()"
            )
        subs[f"learner{i:03d}"] = (nbformat.writes(nb), kind)
    return subs


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--module", default="01-hashing")
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--timeout", type=int, default=5, help="Execute.timeout for both runs")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument(
        "--beside",
        action="store_true",
        help="grade the same cohort a second time, into another workspace, while the measured "
        "run grades (fairness under load: the honest scores must not change)",
    )
    args = ap.parse_args()
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    with tempfile.TemporaryDirectory(prefix="lune-bench-") as tmp:
        tmp = Path(tmp)
        course = tmp / "course"
        shutil.copytree(default_courses_root() / DEFAULT_COURSE, course)
        with open(course / "nbgrader_config.py", "a") as f:
            f.write(f"\nc.Execute.timeout = {args.timeout}\n")
        # Plain nbgrader: its own course directory, set up (not timed) as an instructor would.
        plain = tmp / "plain"
        shutil.copytree(course, plain, ignore=shutil.ignore_patterns("checks", "release"))
        subprocess.run(
            [BIN / "nbgrader", "generate_assignment", args.module, "--force"],
            cwd=plain,
            env=env,
            check=True,
            capture_output=True,
        )
        release = plain / "release" / args.module / f"{args.module}.ipynb"
        subs = make_submissions(course, args.module, release, args.n)
        folder = tmp / "submissions"
        folder.mkdir()
        for learner, (text, _) in subs.items():
            (folder / f"{learner}.ipynb").write_text(text)
            dest = plain / "submitted" / learner / args.module
            dest.mkdir(parents=True)
            (dest / f"{args.module}.ipynb").write_text(text)
        kinds = {k: kind for k, (_, kind) in subs.items()}
        print(
            f"{len(subs)} submissions of {args.module}: "
            + ", ".join(
                f"{kind} {list(kinds.values()).count(kind)}"
                for kind in ("correct", "wrong", "error", "timeout", "forged")
            )
        )

        # Lune: workspace prepared first (generate_assignment, like the plain set-up above).
        workdir = tmp / "lune-work"
        from grader.workspace import prepare_module

        policy = load_course(course)
        prepare_module(policy, policy.module(args.module), workdir)
        out_json = tmp / "lune.json"

        def lune_grade(work: Path, json_out: Path) -> list:
            return [
                BIN / "lune",
                "grade",
                args.module,
                "--course",
                str(course),
                "--submissions",
                str(folder),
                "--workers",
                str(args.workers),
                "--workdir",
                str(work),
                "--json",
                str(json_out),
            ]

        beside = None
        if args.beside:
            beside = subprocess.Popen(
                lune_grade(tmp / "beside-work", tmp / "beside.json"),
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        start = time.monotonic()
        subprocess.run(lune_grade(workdir, out_json), env=env, check=True, capture_output=True)
        lune_s = time.monotonic() - start
        if beside is not None:
            beside.wait()
        start = time.monotonic()
        subprocess.run(
            [BIN / "nbgrader", "autograde", args.module, "--force"],
            cwd=plain,
            env=env,
            check=True,
            capture_output=True,
        )
        plain_s = time.monotonic() - start

        lune = {r["learner"]: r["raw_score"] for r in json.loads(out_json.read_text())["results"]}
        db = sqlite3.connect(plain / "gradebook.db")
        plain_scores: dict[str, float] = {}
        for student, score in db.execute(
            "SELECT submitted_assignment.student_id, SUM(COALESCE(grade.manual_score,"
            " grade.auto_score, 0)) FROM grade JOIN submitted_notebook ON grade.notebook_id ="
            " submitted_notebook.id JOIN submitted_assignment ON submitted_notebook.assignment_id"
            " = submitted_assignment.id GROUP BY submitted_assignment.student_id"
        ):
            plain_scores[student] = float(score)
        db.close()
        honest = [k for k, kind in kinds.items() if kind in ("correct", "wrong", "error")]
        differ = [k for k in honest if abs(lune[k] - plain_scores.get(k, -1)) > 1e-6]
        forged = [k for k, kind in kinds.items() if kind == "forged"]
        print(f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        print(f"plain nbgrader autograde (CLI, 1 process):   {plain_s:7.1f} s wall")
        print(f"lune grade (bubblewrap sandbox, {args.workers} workers): {lune_s:7.1f} s wall")
        if args.beside:
            print("  (while a second lune grade of the same cohort ran beside it)")
        print(f"speed-up (wall): {plain_s / lune_s:.2f}x")
        print(f"honest submissions with the same score: {len(honest) - len(differ)}/{len(honest)}")
        for k in differ:
            print(f"  {k} ({kinds[k]}): lune {lune[k]} vs nbgrader {plain_scores.get(k)}")
        print(
            "forged exercises: nbgrader mean "
            f"{sum(plain_scores.get(k, 0) for k in forged) / max(1, len(forged)):.2f}, lune mean "
            f"{sum(lune[k] for k in forged) / max(1, len(forged)):.2f} (points)"
        )
        return 0 if not differ else 1


if __name__ == "__main__":
    sys.exit(main())
