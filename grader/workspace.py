"""The grading workspace: an nbgrader course directory owned by the grader, outside the sandbox.

Layout (nbgrader's own, so `nbgrader` commands and formgrader work on it too)::

    <workdir>/source/<module>/<module>.ipynb   copy of the course's source notebook
    <workdir>/gradebook.db                     nbgrader's gradebook
    <workdir>/submitted/<learner>/<module>/    the submission being graded + timestamp.txt
    <workdir>/autograded/<learner>/<module>/   nbgrader's output
    <workdir>/feedback/<module>/<learner>.md   Lune's feedback (HTML and Markdown)
    <workdir>/ledger.json                      results by submission content hash

The course's `checks/` folder is read from the course directory and never copied here.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import sqlite3
import sys
from datetime import UTC, datetime
from pathlib import Path

from nbgrader.api import Gradebook
from nbgrader.apps import NbGraderAPI
from nbgrader.coursedir import CourseDirectory
from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

from grader.checks import load_checks
from grader.errors import GraderError
from grader.policy import CoursePolicy, ModulePolicy
from grader.steps import LunePenalty, SandboxExecute, TrustedChecks

LEARNER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@+-]{0,63}$")
GRADING_VERSION = "lune-grader-1"


def check_learner_id(learner: str) -> str:
    """A learner id becomes a folder name: letters, digits and `_.@+-` only."""
    if not LEARNER_ID.match(learner) or ".." in learner:
        raise GraderError(f"bad learner id {learner!r}: use letters, digits and _.@+- only")
    return learner


def default_workdir(course: CoursePolicy) -> Path:
    env = os.environ.get("LUNE_GRADER_WORKDIR")
    base = Path(env) if env else Path.cwd() / ".lune" / "grading"
    return base / course.id


def _ensure_alembic_on_path() -> None:
    # nbgrader runs the `alembic` executable to create a gradebook (PITFALLS).
    bindir = str(Path(sys.executable).parent)
    if bindir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")


def nbgrader_config(course: CoursePolicy, module: ModulePolicy, workdir: Path) -> Config:
    """The course's nbgrader_config.py, rooted in the workspace, with Lune's pipeline steps."""
    config = Config()
    cfg_file = course.root / "nbgrader_config.py"
    if cfg_file.exists():
        config.merge(PyFileConfigLoader(cfg_file.name, str(course.root)).load_config())
    config.CourseDirectory.root = str(workdir)
    config.CourseDirectory.course_id = course.id
    config.CourseDirectory.db_url = f"sqlite:///{workdir / 'gradebook.db'}"
    config.OverwriteCells.add_missing_cells = True
    from nbconvert.preprocessors import ClearMetadataPreprocessor
    from nbgrader.preprocessors import (
        AssignLatePenalties,
        CheckCellMetadata,
        IgnorePattern,
        LimitOutput,
        SaveAutoGrades,
    )

    # nbgrader 0.9's default list with Execute replaced and TrustedChecks inserted.
    config.Autograde.autograde_preprocessors = [
        SandboxExecute,
        IgnorePattern,
        ClearMetadataPreprocessor,
        LimitOutput,
        SaveAutoGrades,
        TrustedChecks,
        AssignLatePenalties,
        CheckCellMetadata,
    ]
    config.AssignLatePenalties.plugin_class = LunePenalty
    late = module.late
    config.LunePenalty.per = late.per
    config.LunePenalty.percent = late.percent
    config.LunePenalty.floor = late.floor
    config.LunePenalty.grace_minutes = late.grace_minutes
    return config


def cell_timeout(config: Config) -> float:
    """nbgrader's `Execute.timeout` from the course config (30 s, nbgrader's default)."""
    value = config.Execute.get("timeout", 30) if "Execute" in config else 30
    return float(value or 30)


def open_api(course: CoursePolicy, module: ModulePolicy, workdir: Path) -> NbGraderAPI:
    _ensure_alembic_on_path()
    config = nbgrader_config(course, module, workdir)
    coursedir = CourseDirectory(config=config)
    api = NbGraderAPI(coursedir=coursedir, config=config)
    api.log.setLevel("ERROR")
    return api


def _digest(*parts: bytes) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(len(part).to_bytes(8, "big"))
        h.update(part)
    return h.hexdigest()


def module_fingerprint(course: CoursePolicy, module: ModulePolicy) -> str:
    """Changes when anything that decides a grade changes: source, checks, config, policy."""
    source = course.root / "source" / module.id / f"{module.id}.ipynb"
    checks = course.root / "checks" / f"{module.id}.json"
    cfg = course.root / "nbgrader_config.py"
    return _digest(
        GRADING_VERSION.encode(),
        source.read_bytes(),
        checks.read_bytes(),
        cfg.read_bytes() if cfg.exists() else b"",
        repr((module.due, module.late, course.resubmission)).encode(),
    )


def _require_checks_for_every_test(source: Path, exercises) -> None:
    """Refuse a module with an autograded test cell no exercise's checks cap.

    The sandbox reports the outputs nbgrader scores, so a learner can forge any test cell's
    result; only the trusted checks' cap stops that, and it covers the cells listed in checks.
    """
    covered = {cell for ex in exercises for cell in ex.cells}
    for cell in json.loads(source.read_text())["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        is_test = cell.get("cell_type") == "code" and meta.get("grade") and not meta.get("solution")
        if is_test and meta.get("grade_id") not in covered:
            raise GraderError(
                f"{source}: test cell {meta.get('grade_id')!r} is in no exercise of the trusted "
                "checks; its score could be forged from the sandbox"
            )


def prepare_module(course: CoursePolicy, module: ModulePolicy, workdir: Path) -> str:
    """Copy the source notebook in, record it in the gradebook (generate_assignment), set the due
    date. Idempotent; returns the module fingerprint. Run once before workers start."""
    source = course.root / "source" / module.id / f"{module.id}.ipynb"
    if not source.is_file():
        raise GraderError(f"source notebook {source} not found")
    exercises = load_checks(course.root / "checks" / f"{module.id}.json")  # fail early
    _require_checks_for_every_test(source, exercises)
    fingerprint = module_fingerprint(course, module)
    workdir.mkdir(parents=True, exist_ok=True)
    os.chmod(workdir, 0o700)
    stamp = workdir / "source" / module.id / ".lune-fingerprint"
    if stamp.exists() and stamp.read_text() == fingerprint:
        return fingerprint
    dest = workdir / "source" / module.id
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, dest / source.name)
    api = open_api(course, module, workdir)
    result = api.generate_assignment(module.id, force=True, create=True)
    if not result.get("success"):
        raise GraderError(
            f"nbgrader generate_assignment failed for {module.id}: "
            f"{(result.get('error') or result.get('log') or '').strip()[-800:]}"
        )
    with Gradebook(f"sqlite:///{workdir / 'gradebook.db'}") as gb:
        due = module.due.astimezone(UTC).replace(tzinfo=None) if module.due else None
        gb.update_or_create_assignment(module.id, duedate=due)
    # WAL (persistent in the file): the workers' readers never block each other's writes.
    with contextlib.closing(sqlite3.connect(workdir / "gradebook.db")) as db:
        db.execute("PRAGMA journal_mode=WAL")
    stamp.write_text(fingerprint)
    return fingerprint


def place_submission(
    workdir: Path, module_id: str, learner: str, notebook: bytes, timestamp: datetime
) -> Path:
    """Write one submission where nbgrader's autograde looks for it."""
    folder = workdir / "submitted" / check_learner_id(learner) / module_id
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    (folder / f"{module_id}.ipynb").write_bytes(notebook)
    stamp = timestamp.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f UTC")
    (folder / "timestamp.txt").write_text(stamp)
    return folder


class Ledger:
    """Results by submission hash, so a re-run skips unchanged submissions. Parent-only writes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self.data: dict = json.loads(path.read_text())
        except (FileNotFoundError, ValueError):
            self.data = {}

    def get(self, key: str) -> dict | None:
        return self.data.get(key)

    def put(self, key: str, result: dict) -> None:
        self.data[key] = result

    def save(self) -> None:
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.data, indent=1, sort_keys=True))
        os.replace(tmp, self.path)


def submission_key(module_id: str, learner: str, fingerprint: str, notebook: bytes, ts: str) -> str:
    return f"{module_id}/{learner}/{_digest(fingerprint.encode(), notebook, ts.encode())[:32]}"


def now_utc() -> datetime:
    return datetime.now(UTC)
