"""The grading workspace: an nbgrader course directory owned by the grader, outside the sandbox.

Layout (nbgrader's own, so `nbgrader` commands and formgrader work on it too)::

    <workdir>/source/<module>/<module>.ipynb   copy of the course's source notebook
    <workdir>/gradebook.db                     nbgrader's gradebook
    <workdir>/submitted/<learner>/<module>/    the submission that counts + timestamp.txt
    <workdir>/autograded/<learner>/<module>/   nbgrader's output for it
    <workdir>/feedback/<module>/<learner>.md   Lune's feedback (HTML and Markdown)
    <workdir>/ledger.json                      results by submission content hash
    <workdir>/templates/<module>.db            the gradebook with the module and no learners
    <workdir>/jobs/<pid>-<random>/             one job's private nbgrader course directory

Every submission is graded in its own job directory, with its own copy of the template
gradebook, so concurrent jobs (worker processes of `lune grade`, portal workers, two runs
sharing a workdir) never share nbgrader state. A job's grades reach the shared gradebook only
after every step has passed, as one SQLite transaction (`commit_grades`), or not at all: a
submission whose grading failed half-way leaves no trace there.

The course's `checks/` folder is read from the course directory and never copied here.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import secrets
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from nbgrader.api import Gradebook
from nbgrader.apps import NbGraderAPI
from nbgrader.coursedir import CourseDirectory
from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

from grader.checks import load_checks
from grader.course.assignments import ensure_venv_on_path
from grader.course.config import CourseConfig, ModuleConfig
from grader.errors import GraderError
from grader.steps import LunePenalty, SandboxExecute, TrustedChecks
from grader.submission import check_learner_id

GRADING_VERSION = "lune-grader-2"


def default_workdir(course: CourseConfig) -> Path:
    """`$LUNE_GRADER_WORKDIR/<course>`, or `.lune/grading/<course>` in the current directory."""
    env = os.environ.get("LUNE_GRADER_WORKDIR")
    base = Path(env) if env else Path.cwd() / ".lune" / "grading"
    return base / course.id


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """An exclusive lock on `path` across processes (released if the holder dies)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def nbgrader_config(course: CourseConfig, module: ModuleConfig, workdir: Path) -> Config:
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
    late = module.late_policy
    config.LunePenalty.per = late.per
    config.LunePenalty.percent = late.percent
    config.LunePenalty.floor = late.floor
    config.LunePenalty.grace_minutes = late.grace_minutes
    return config


def cell_timeout(config: Config) -> float:
    """nbgrader's `Execute.timeout` from the course config (30 s, nbgrader's default)."""
    value = config.Execute.get("timeout", 30) if "Execute" in config else 30
    return float(value or 30)


def open_api(course: CourseConfig, module: ModuleConfig, workdir: Path) -> NbGraderAPI:
    """nbgrader's API on the workspace (one per process: it is not thread-safe)."""
    ensure_venv_on_path()
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


def module_fingerprint(course: CourseConfig, module: ModuleConfig) -> str:
    """Changes when anything that decides a grade changes: source, checks, config, policy."""
    source = course.source_notebook(module.id)
    checks = course.checks_file(module.id)
    cfg = course.root / "nbgrader_config.py"
    return _digest(
        GRADING_VERSION.encode(),
        source.read_bytes(),
        checks.read_bytes(),
        cfg.read_bytes() if cfg.exists() else b"",
        repr((module.due, module.late_policy, course.resubmission)).encode(),
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


def template_gradebook(workdir: Path, module_id: str) -> Path:
    """The module's gradebook with no learner in it, copied for every job (`prepare_module`)."""
    return workdir / "templates" / f"{module_id}.db"


def prepare_module(course: CourseConfig, module: ModuleConfig, workdir: Path) -> str:
    """Copy the source notebook in, record it in the gradebook (generate_assignment), set the due
    date, and make the job template. Idempotent and safe to call from several processes at
    once (a lock per workspace); returns the module fingerprint."""
    source = course.source_notebook(module.id)
    if not source.is_file():
        raise GraderError(f"source notebook {source} not found")
    exercises = load_checks(course.checks_file(module.id), module.id)  # fail early
    _require_checks_for_every_test(source, exercises)
    fingerprint = module_fingerprint(course, module)
    workdir.mkdir(parents=True, exist_ok=True)
    os.chmod(workdir, 0o700)
    with file_lock(workdir / ".prepare.lock"):
        _remove_dead_jobs(workdir)
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
        db_path = workdir / "gradebook.db"
        with Gradebook(f"sqlite:///{db_path}") as gb:
            due = module.due.astimezone(UTC).replace(tzinfo=None) if module.due else None
            gb.update_or_create_assignment(module.id, duedate=due)
        # WAL (persistent in the file): the workers' readers never block each other's writes.
        with contextlib.closing(sqlite3.connect(db_path)) as db:
            db.execute("PRAGMA journal_mode=WAL")
        _write_template(db_path, template_gradebook(workdir, module.id))
        stamp.write_text(fingerprint)
    return fingerprint


def _write_template(db_path: Path, template: Path) -> None:
    """A copy of the gradebook without learners: the same assignment, notebook and cell ids."""
    template.parent.mkdir(exist_ok=True)
    tmp = template.with_name(f".{template.name}.{secrets.token_hex(4)}")
    with contextlib.closing(sqlite3.connect(db_path)) as src:
        with contextlib.closing(sqlite3.connect(tmp)) as dst:
            src.backup(dst)
            dst.execute("PRAGMA journal_mode=DELETE")
            for table in ("comment", "grade", "submitted_notebook", "submitted_assignment"):
                dst.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names
            dst.execute("DELETE FROM student")
            dst.commit()
    os.replace(tmp, template)


def _remove_dead_jobs(workdir: Path) -> None:
    """Job directories of processes that died mid-job (named `<pid>-<random>`)."""
    jobs = workdir / "jobs"
    if not jobs.is_dir():
        return
    for entry in jobs.iterdir():
        pid = entry.name.split("-", 1)[0]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            shutil.rmtree(entry, ignore_errors=True)


def new_job_dir(workdir: Path) -> Path:
    """A fresh private nbgrader course directory for one grading job."""
    jobs = workdir / "jobs"
    jobs.mkdir(mode=0o700, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f"{os.getpid()}-", dir=jobs))


def place_submission(
    root: Path, module_id: str, learner: str, notebook: bytes, timestamp: datetime
) -> Path:
    """Write one submission where nbgrader's autograde looks for it under `root`."""
    folder = root / "submitted" / check_learner_id(learner) / module_id
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    (folder / f"{module_id}.ipynb").write_bytes(notebook)
    stamp = timestamp.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f UTC")
    (folder / "timestamp.txt").write_text(stamp)
    return folder


def commit_grades(workdir: Path, job_root: Path, module_id: str, learner: str) -> None:
    """Move one job's result into the workspace: its gradebook rows in ONE transaction
    (replacing the learner's previous rows for the module), then its submitted and autograded
    folders. Serialized across processes by a lock, so two commits never interleave."""
    with file_lock(workdir / ".commit.lock"):
        _merge_rows(workdir / "gradebook.db", job_root / "gradebook.db", module_id, learner)
        for kind in ("submitted", "autograded"):
            src = job_root / kind / learner / module_id
            if not src.is_dir():
                continue
            dest = workdir / kind / learner / module_id
            dest.parent.mkdir(parents=True, exist_ok=True)
            old = dest.with_name(f".{module_id}.old-{secrets.token_hex(4)}")
            if dest.exists():
                os.rename(dest, old)
            os.rename(src, dest)
            shutil.rmtree(old, ignore_errors=True)


def _merge_rows(shared: Path, job_db: Path, module_id: str, learner: str) -> None:
    con = sqlite3.connect(shared, timeout=60, isolation_level=None)
    try:
        con.execute("ATTACH DATABASE ? AS job", (str(job_db),))
        con.execute("BEGIN IMMEDIATE")
        try:
            (aid,) = con.execute(
                "SELECT id FROM assignment WHERE name = ?", (module_id,)
            ).fetchone()
            row = con.execute("SELECT id FROM job.assignment WHERE name = ?", (module_id,))
            if row.fetchone() != (aid,):
                raise GraderError(f"the job gradebook of {module_id} is not the workspace's")
            key = (aid, learner)
            con.execute(
                "INSERT OR IGNORE INTO student SELECT * FROM job.student WHERE id = ?", (learner,)
            )
            # The learner's previous rows for this module go, children first.
            for table, column, subquery in _ROWS[::-1]:
                con.execute(
                    f"DELETE FROM main.{table} WHERE {column} IN ({subquery.format(db='main')})",
                    key,
                )
            for table, column, subquery in _ROWS:
                con.execute(
                    f"INSERT INTO main.{table} SELECT * FROM job.{table} "
                    f"WHERE {column} IN ({subquery.format(db='job')})",
                    key,
                )
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    finally:
        con.close()


_SUBMISSION = "SELECT id FROM {db}.submitted_assignment WHERE assignment_id = ? AND student_id = ?"
_NOTEBOOKS = f"SELECT id FROM {{db}}.submitted_notebook WHERE assignment_id IN ({_SUBMISSION})"
#: nbgrader's tables of one submission, parents first: (table, column, ids it must be in).
_ROWS = (
    ("submitted_assignment", "id", _SUBMISSION),
    ("submitted_notebook", "assignment_id", _SUBMISSION),
    ("grade", "notebook_id", _NOTEBOOKS),
    ("comment", "notebook_id", _NOTEBOOKS),
)


class Ledger:
    """Results by submission hash, so a re-run skips unchanged submissions.

    Several runs may share a workspace: `save` merges this run's entries into what is on disk
    under a lock, and replaces the file atomically.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.data: dict = self._read()
        self._new: dict = {}

    def _read(self) -> dict:
        try:
            data = json.loads(self.path.read_text())
        except (FileNotFoundError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def get(self, key: str) -> dict | None:
        return self.data.get(key)

    def put(self, key: str, result: dict) -> None:
        self.data[key] = result
        self._new[key] = result

    def save(self) -> None:
        if not self._new:
            return
        with file_lock(self.path.with_name(f".{self.path.name}.lock")):
            merged = {**self._read(), **self._new}
            fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)
            with os.fdopen(fd, "w") as f:
                json.dump(merged, f, indent=1, sort_keys=True)
            os.replace(tmp, self.path)
        self.data = merged
        self._new = {}


def submission_key(module_id: str, learner: str, fingerprint: str, notebook: bytes, ts: str) -> str:
    return f"{module_id}/{learner}/{_digest(fingerprint.encode(), notebook, ts.encode())[:32]}"


def now_utc() -> datetime:
    return datetime.now(UTC)
