"""Course check speed: the in-process pipeline against nbgrader's CLI, measured in the same run.

Prints wall-clock seconds for
  (a) the baseline: what one module costs through the nbgrader command line — a fresh
      `nbgrader generate_assignment` and two `nbgrader autograde` processes (solved and
      untouched), as a Makefile calling the CLI would do it;
  (b) `check_module` on the same module in one process through nbgrader's Python API, which
      does (a) plus six more checks (static rules, trusted cases in a plain Python process);
  (c) `lune course check` of the whole course with 1 worker process and
  (d) with 2 worker processes.
Ratios: (a)/(b) is the gain of the in-process API per module; (c)/(d) the gain of a second
core. The machine is shared, so each figure is the best of `--rounds` runs.

Run: .venv/bin/python benchmarks/course_check.py [--module ID] [--rounds R]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from grader.course.assignments import create_gradebook, ensure_venv_on_path
from grader.course.check import check_course, check_module
from grader.course.config import load_course

COURSE = Path(__file__).resolve().parents[1] / "courses" / "lune-101"


def cli_baseline(module_id: str) -> float:
    """(a) generate_assignment + 2 autogrades through the nbgrader CLI, in a temp course dir."""
    nbgrader = str(Path(sys.executable).parent / "nbgrader")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        shutil.copy(COURSE / "nbgrader_config.py", root)
        shutil.copytree(COURSE / "source" / module_id, root / "source" / module_id)
        quiet = {"cwd": root, "capture_output": True, "check": True}
        start = time.perf_counter()
        subprocess.run([nbgrader, "generate_assignment", module_id, "--force"], **quiet)
        name = f"{module_id}.ipynb"
        for student, src in (("solved", root / "source"), ("untouched", root / "release")):
            dest = root / "submitted" / student / module_id
            dest.mkdir(parents=True)
            shutil.copy(src / module_id / name, dest / name)
            cmd = [nbgrader, "autograde", module_id, "--student", student, "--force"]
            subprocess.run(cmd, **quiet)
        return time.perf_counter() - start


def in_process(module_id: str, template: Path) -> float:
    """(b) every check of one module through the Python API in this process."""
    start = time.perf_counter()
    report = check_module(str(COURSE), module_id, str(template))
    elapsed = time.perf_counter() - start
    if not report.ok:
        raise SystemExit(f"{module_id} fails its checks: {report.failures}")
    return elapsed


def whole_course(workers: int) -> float:
    start = time.perf_counter()
    reports = check_course(load_course(COURSE), workers=workers)
    elapsed = time.perf_counter() - start
    if not all(r.ok for r in reports):
        raise SystemExit("the course fails its checks: run `lune course check`")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--module", default="01-hashing")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    ensure_venv_on_path()
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as tmp:
        template = Path(tmp) / "gradebook.db"
        create_gradebook(template, "lune-101")
        a = min(cli_baseline(args.module) for _ in range(args.rounds))
        b = min(in_process(args.module, template) for _ in range(args.rounds))
    c = min(whole_course(1) for _ in range(args.rounds))
    d = min(whole_course(2) for _ in range(args.rounds))
    print(f"(a) nbgrader CLI, generate + 2 autogrades of {args.module}: {a:6.1f} s")
    print(f"(b) check_module {args.module}, all 7 checks in-process:     {b:6.1f} s")
    print(f"    ratio (a)/(b) = {a / b:.2f}  (>1: the full check costs less than the CLI steps)")
    print(f"(c) lune course check, 1 worker:  {c:6.1f} s")
    print(f"(d) lune course check, 2 workers: {d:6.1f} s")
    print(f"    ratio (c)/(d) = {c / d:.2f}  (gain of the second worker)")


if __name__ == "__main__":
    main()
