"""Two `lune grade` runs and several portal jobs grading at once on one loaded host.

The portal's workers call `grade_submission` from separate processes, by default with the same
workspace, while an instructor may run `lune grade` on the same host: every honest score must
be plain nbgrader's, whatever runs beside it. Two CPU-bound processes keep the host busy, and
one honest submission spends most of its per-cell budget computing, so a grader that counted
wall-clock time (or killed another run's sandboxes) would under-score it.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

pytestmark = [pytest.mark.notebook, pytest.mark.slow]

TINY = Path(__file__).parent / "fixtures" / "tiny-course"
MODULE = "01-tiny"
SOURCE = nbformat.read(TINY / "source" / MODULE / f"{MODULE}.ipynb", as_version=4)
SOLVED = {
    "sha256_hex": "    return hashlib.sha256(data).hexdigest()",
    "reverse_hex": "    return bytes.fromhex(h)[::-1].hex()",
}
# 1.2 s of CPU in a cell whose budget is 2 s (the fixture's Execute.timeout): plain nbgrader
# passes it on a quiet machine.
BUSY = "import time as _t\n_c = _t.process_time()\nwhile _t.process_time() - _c < 1.2:\n    pass\n"
# name: (sha256_hex body, reverse_hex body, prefix of sha256_hex's cell, plain nbgrader's score)
# The plain scores are what test_nbgrader_parity measures with nbgrader's own kernel execution.
VARIANTS = {
    "correct": (SOLVED["sha256_hex"], SOLVED["reverse_hex"], "", 6),
    "busy_correct": (SOLVED["sha256_hex"], SOLVED["reverse_hex"], BUSY, 6),
    "md5": ("    return hashlib.md5(data).hexdigest()", SOLVED["reverse_hex"], "", 3),
    "empty_input_wrong": (
        "    return hashlib.sha256(data).hexdigest() if data else ''",
        SOLVED["reverse_hex"],
        "",
        4,
    ),
}
WHEN = datetime(2026, 1, 9, 12, tzinfo=UTC)


def _notebook(variant: str) -> bytes:
    sha, rev, prefix, _ = VARIANTS[variant]
    nb = nbformat.from_dict(SOURCE)
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in SOLVED:
            head = cell.source.split("    ### BEGIN SOLUTION")[0]
            cell.source = (
                (prefix if gid == "sha256_hex" else "")
                + head
                + (sha if gid == "sha256_hex" else rev)
            )
    return nbformat.writes(nb).encode()


def _hog(seconds: float) -> None:
    stop = time.monotonic() + seconds
    while time.monotonic() < stop:
        pass


def _portal_job(args) -> dict:
    from grader.cohort import grade_submission

    workdir, learner, variant = args
    result = grade_submission(
        TINY, MODULE, learner, _notebook(variant), timestamp=WHEN, workdir=Path(workdir)
    )
    return result.to_dict()


def test_concurrent_gradings_on_one_loaded_host_score_as_plain_nbgrader(tmp_path):
    workdir = tmp_path / "work"  # one workspace for everyone, as the portal's default
    runs = {
        "a": ["busy_correct", "md5"],
        "b": ["busy_correct", "empty_input_wrong"],
    }
    portal = [("c_busy_correct", "busy_correct"), ("c_correct", "correct"), ("c_md5", "md5")]
    expected: dict[str, float] = {}
    for run, variants in runs.items():
        folder = tmp_path / run
        folder.mkdir()
        for v in variants:
            path = folder / f"{run}_{v}.ipynb"
            path.write_bytes(_notebook(v))
            os.utime(path, (WHEN.timestamp(), WHEN.timestamp()))  # submitted on time
            expected[f"{run}_{v}"] = VARIANTS[v][3]
    expected.update({learner: VARIANTS[v][3] for learner, v in portal})

    ctx = mp.get_context("fork")
    hogs = [ctx.Process(target=_hog, args=(300,)) for _ in range(2)]
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    lune = Path(sys.executable).parent / "lune"
    procs = []
    try:
        for h in hogs:
            h.start()
        for run in runs:
            cmd = [str(lune), "grade", MODULE, "--course", str(TINY), "--submissions"]
            cmd += [str(tmp_path / run), "--workdir", str(workdir), "--workers", "2"]
            cmd += ["--json", str(tmp_path / f"{run}.json")]
            procs.append(
                subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            )
        with ctx.Pool(3) as pool:
            jobs = pool.map(_portal_job, [(str(workdir), learner, v) for learner, v in portal])
        outs = [p.communicate(timeout=600) for p in procs]
    finally:
        for h in hogs:
            h.kill()
            h.join()
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    for p, (_out, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err.decode()[-2000:]

    results = {r["learner"]: r for r in jobs}
    for run in runs:
        for r in json.loads((tmp_path / f"{run}.json").read_text())["results"]:
            results[r["learner"]] = r
    assert {k: r["status"] for k, r in results.items()} == dict.fromkeys(expected, "graded"), {
        k: r["error"] for k, r in results.items() if r["status"] != "graded"
    }
    assert {k: r["score"] for k, r in results.items()} == expected
    with Gradebook(f"sqlite:///{workdir / 'gradebook.db'}") as gb:
        assert {k: gb.find_submission(MODULE, k).score for k in expected} == expected
