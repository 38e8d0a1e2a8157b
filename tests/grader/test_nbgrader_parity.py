"""Honest submissions score what plain nbgrader (kernel execution, its default pipeline) gives."""

from __future__ import annotations

import shutil
import warnings
from datetime import UTC, datetime
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook
from nbgrader.apps import NbGraderAPI
from nbgrader.coursedir import CourseDirectory
from traitlets.config import Config

from grader.cohort import grade_cohort
from grader.course.assignments import ensure_venv_on_path
from grader.job import Submission

pytestmark = [pytest.mark.notebook, pytest.mark.slow]

COURSE = Path(__file__).parent / "fixtures" / "tiny-course"
MODULE = "01-tiny"
SOLVED = {
    "sha256_hex": "    return hashlib.sha256(data).hexdigest()",
    "reverse_hex": "    return bytes.fromhex(h)[::-1].hex()",
}
VARIANTS = {
    "all_correct": {},
    "md5": {"sha256_hex": "    return hashlib.md5(data).hexdigest()"},
    "empty_input_wrong": {
        "sha256_hex": "    return hashlib.sha256(data).hexdigest() if data else ''"
    },
    "prints_to_stderr": {
        "reverse_hex": "    import sys\n    print('debug', file=sys.stderr)\n"
        "    return bytes.fromhex(h)[::-1].hex()"
    },
    "partial_credit_none": {"reverse_hex": "    raise ValueError('todo')"},
}


def _notebook(release, overrides: dict[str, str]) -> str:
    nb = nbformat.from_dict(release)
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in SOLVED:
            head = cell.source.split("    # YOUR CODE HERE")[0]
            cell.source = head + overrides.get(gid, SOLVED[gid])
    return nbformat.writes(nb)


def test_same_scores_as_plain_nbgrader(tmp_path):
    ensure_venv_on_path()
    plain = tmp_path / "plain"
    shutil.copytree(COURSE, plain, ignore=shutil.ignore_patterns("checks"))
    config = Config()
    config.CourseDirectory.root = str(plain)
    config.CourseDirectory.course_id = "tiny-course"
    config.Execute.timeout = 10
    config.Execute.shutdown_kernel = "immediate"
    config.OverwriteCells.add_missing_cells = True
    api = NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert api.generate_assignment(MODULE, force=True, create=True)["success"]
    release = nbformat.read(plain / "release" / MODULE / f"{MODULE}.ipynb", as_version=4)
    texts = {name: _notebook(release, o) for name, o in VARIANTS.items()}

    plain_scores = {}
    for name, text in texts.items():
        folder = plain / "submitted" / name / MODULE
        folder.mkdir(parents=True)
        (folder / f"{MODULE}.ipynb").write_text(text)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = api.autograde(MODULE, name, force=True, create=True)
        assert out["success"], out.get("log")
    with Gradebook(f"sqlite:///{plain / 'gradebook.db'}") as gb:
        for name in texts:
            plain_scores[name] = gb.find_submission(MODULE, name).score

    when = datetime(2026, 1, 1, tzinfo=UTC)
    report = grade_cohort(
        COURSE,
        MODULE,
        [Submission(name, text.encode(), when) for name, text in texts.items()],
        workers=2,
        workdir=tmp_path / "lune",
        progress=False,
    )
    lune_scores = {r.learner: r.score for r in report.results}
    assert lune_scores == plain_scores
    # The variants really differ, so the comparison means something.
    assert len(set(plain_scores.values())) >= 3
