"""Holes found by the attack cohort, through the portal's entry point `grade_submission`."""

from __future__ import annotations

import copy
import json
import os
import shutil
import stat
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook, MissingEntry

import grader.sandbox as sb
from grader.cohort import grade_submission
from grader.course.config import load_course
from grader.workspace import prepare_module

pytestmark = [pytest.mark.notebook, pytest.mark.slow]

TINY = Path(__file__).parent / "fixtures" / "tiny-course"
MODULE = "01-tiny"
WHEN = datetime(2026, 1, 9, 12, tzinfo=UTC)
SOURCE = nbformat.read(TINY / "source" / MODULE / f"{MODULE}.ipynb", as_version=4)

# Passing records for every test cell, then one nbgrader cannot score (999 of 1 or 2 points),
# written into the sandbox's results ahead of the runner's own (both result channels tried).
FORGE = r"""
import json, os, sys
_job = json.load(open(sys.argv[2]))
_tests = [i for i, src in _job["cells"] if src.lstrip().startswith("assert")]
_lines = [json.dumps({"index": i, "execution_count": 1, "outputs": []}) for i in _tests[:-1]]
_lines.append(json.dumps({"index": _tests[-1], "execution_count": 1, "outputs": [
    {"output_type": "execute_result", "execution_count": 1, "metadata": {},
     "data": {"text/plain": "999"}}]}))
_data = "\n".join(_lines) + "\n"
if "LUNE_RESULT_FD" in os.environ:
    os.write(int(os.environ["LUNE_RESULT_FD"]), _data.encode())
else:
    open(sys.argv[3] + "/cells.jsonl", "a").write(_data)
"""

BIG_IMAGES = """
import base64, os
from IPython.display import display
for _ in range(3):
    display({"image/png": base64.b64encode(os.urandom(4_600_000)).decode()}, raw=True)
"""


def _grade(workdir: Path, learner: str, nb, **kw):
    data = nb if isinstance(nb, bytes) else nbformat.writes(nb).encode()
    return grade_submission(TINY, MODULE, learner, data, timestamp=WHEN, workdir=workdir, **kw)


def _gradebook_score(workdir: Path, learner: str) -> float | None:
    with Gradebook(f"sqlite:///{workdir / 'gradebook.db'}") as gb:
        try:
            return gb.find_submission(MODULE, learner).score
        except MissingEntry:
            return None


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("grading")
    course = load_course(TINY)
    prepare_module(course, course.module(MODULE), path)
    return path


def _with_cell(code: str, after: str = "sha256_hex"):
    nb = copy.deepcopy(SOURCE)
    for i, cell in enumerate(nb.cells):
        if cell.metadata.get("nbgrader", {}).get("grade_id") == after:
            nb.cells.insert(i + 1, nbformat.v4.new_code_cell(code))
            return nb
    raise AssertionError(after)


def test_forged_records_never_reach_the_gradebook(workdir):
    nb = copy.deepcopy(SOURCE)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "sha256_hex":
            cell.source = FORGE + "\ndef sha256_hex(data):\n    return 'forged'\n"
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "reverse_hex":
            cell.source = "def reverse_hex(h):\n    return 'forged'\n"
    result = _grade(workdir, "forger", nb)
    assert (result.status, result.score) == ("graded", 0), result.error
    assert _gradebook_score(workdir, "forger") == 0  # what export and formgrader show


def test_large_honest_outputs_are_dropped_and_the_learner_is_told(workdir):
    result = _grade(workdir, "plotter", _with_cell(BIG_IMAGES))
    assert (result.status, result.score) == ("graded", 6), result.exercises
    assert any("too large to keep" in n for n in result.notices), result.notices
    assert "too large to keep" in Path(result.feedback).read_text()


def test_a_notebook_of_another_module_is_rejected_with_a_reason(workdir):
    other = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    result = _grade(workdir, "lost", other)
    assert result.status == "rejected" and "not the notebook of module 01-tiny" in result.error
    assert _grade(workdir, "lost", b"{not json").status == "rejected"
    assert _gradebook_score(workdir, "lost") is None


@pytest.fixture()
def reachable_dir():
    """A folder a leased sandbox uid can reach (pytest's tmp_path is private to root)."""
    folder = Path(tempfile.mkdtemp(prefix="lune-test-"))
    folder.chmod(0o777)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def _failing_bwrap(folder: Path, fails: int) -> str:
    """A bwrap that fails like a sandbox that cannot start, `fails` times, then is bwrap."""
    counter = folder / "count"
    counter.write_text("0")
    counter.chmod(0o666)
    script = folder / "bwrap"
    script.write_text(
        "#!/bin/bash\n"
        f'n=$(cat "{counter}")\n'
        f'if [[ "$*" == *runner.py* ]] && (( n < {fails} )); then\n'
        f'  echo $((n + 1)) > "{counter}"\n'
        '  echo "bwrap: simulated failure to set up the sandbox" >&2\n'
        "  exit 1\n"
        "fi\n"
        f'exec {sb.BWRAP} "$@"\n'
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return str(script)


def test_a_sandbox_that_fails_to_start_is_retried_not_scored(workdir, reachable_dir, monkeypatch):
    monkeypatch.setattr(sb, "BWRAP", _failing_bwrap(reachable_dir, fails=1))
    result = _grade(workdir, "unlucky", SOURCE)
    assert (result.status, result.score) == ("graded", 6), result.error


def test_a_sandbox_that_keeps_failing_is_a_retryable_error(workdir, reachable_dir, monkeypatch):
    monkeypatch.setattr(sb, "BWRAP", _failing_bwrap(reachable_dir, fails=100))
    result = _grade(workdir, "stranded", SOURCE)
    assert result.status == "error" and result.retryable, result
    assert "did not start" in result.error and result.score == 0
    assert _gradebook_score(workdir, "stranded") is None
    assert not (workdir / "feedback" / MODULE / "stranded.md").exists()
    assert os.listdir(workdir / "jobs") == []  # nothing half-written left behind


def test_the_result_says_what_the_portal_needs(workdir):
    result = _grade(workdir, "dashboard", SOURCE)
    data = json.loads(json.dumps(result.to_dict()))
    assert data["status"] == "graded" and data["retryable"] is False
    for ex in data["exercises"]:
        assert {"function", "score", "max_score", "checks_passed", "checks_total"} <= set(ex)
        assert "visible_output" in ex
        assert "e3b0c44298fc1c149afbf4c8996fb924" not in ex["visible_output"]  # hidden test
