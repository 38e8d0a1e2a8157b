"""nbgrader's Python API, driven in-process for one course directory.

Why in-process: the nbgrader CLI spends ~2.9 s importing per call; the API costs that once.
`NbGraderAPI` is not thread-safe, so callers use one API object per process. A new gradebook
runs the `alembic` executable, so the virtual environment's bin/ must be on PATH; and creating
one costs ~2 s, so a pristine empty gradebook is made once and copied.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path


class NbgraderError(Exception):
    """An nbgrader step failed; the message is one line (the last line of its error)."""


@dataclass(frozen=True)
class Score:
    score: float
    max_score: float


def ensure_venv_on_path() -> None:
    """nbgrader shells out to `alembic`: put this interpreter's bin/ first on PATH."""
    bindir = str(Path(sys.executable).parent)
    parts = os.environ.get("PATH", "").split(os.pathsep)
    if bindir not in parts:
        os.environ["PATH"] = os.pathsep.join([bindir, *parts])


def quiet_nbgrader() -> None:
    """nbgrader's own SQLAlchemy usage emits SAWarnings on autograde; they are not ours."""
    warnings.filterwarnings("ignore", module=r"nbgrader\..*")
    try:
        from sqlalchemy.exc import SAWarning

        warnings.filterwarnings("ignore", category=SAWarning)
    except ImportError:  # pragma: no cover - sqlalchemy is a dependency of nbgrader
        pass
    logging.getLogger("traitlets").setLevel(logging.ERROR)


def alembic_head() -> str:
    """The schema revision nbgrader stamps new gradebooks with, read in-process.

    nbgrader asks a separate `alembic heads` process for it (1–2 s of imports); the answer is
    the same: the head of the migration scripts shipped with nbgrader.
    """
    from alembic.config import Config as AlembicConfig
    from alembic.script import ScriptDirectory
    from nbgrader.dbutil import _temp_alembic_ini

    with _temp_alembic_ini("sqlite://") as ini:
        head = ScriptDirectory.from_config(AlembicConfig(ini)).get_current_head()
    if not head:
        raise RuntimeError("nbgrader ships no alembic migration head")
    return head


def create_gradebook(db_path: Path, course_id: str) -> None:
    """An empty gradebook at `db_path` (schema + alembic version stamp)."""
    ensure_venv_on_path()
    quiet_nbgrader()
    import nbgrader.api as nbgrader_api

    original = nbgrader_api.get_alembic_version
    try:
        head = alembic_head()
    except Exception:  # any trouble: let nbgrader ask the alembic executable itself
        head = None
    if head is not None:
        nbgrader_api.get_alembic_version = lambda: head
    try:
        with nbgrader_api.Gradebook(f"sqlite:///{db_path}", course_id=course_id):
            pass
    finally:
        nbgrader_api.get_alembic_version = original


def copy_gradebook(template: Path, db_path: Path) -> None:
    shutil.copyfile(template, db_path)


def make_api(course_root: Path, db_path: Path):
    """An NbGraderAPI on `course_root` with its nbgrader_config.py and gradebook `db_path`."""
    ensure_venv_on_path()
    quiet_nbgrader()
    from nbgrader.apps import NbGraderAPI
    from traitlets.config import Config
    from traitlets.config.loader import PyFileConfigLoader

    config = Config()
    if (course_root / "nbgrader_config.py").is_file():
        config = PyFileConfigLoader("nbgrader_config.py", path=str(course_root)).load_config()
    overrides = Config()
    overrides.CourseDirectory.root = str(course_root)
    overrides.CourseDirectory.db_url = f"sqlite:///{db_path}"
    # Lune does not use nbgrader's exchange; keep it next to the throwaway gradebook.
    overrides.Exchange.root = str(db_path.parent / "exchange")
    config.merge(overrides)
    return NbGraderAPI(config=config)


def _raise_on_failure(result: dict, what: str) -> None:
    if result.get("success"):
        return
    text = (result.get("error") or result.get("log") or "unknown error").strip()
    lines = [ln for ln in text.splitlines() if ln.strip()]
    raise NbgraderError(f"{what} failed: {lines[-1] if lines else 'unknown error'}")


def generate(api, module_id: str) -> Path:
    """`nbgrader generate_assignment`: release/<id>/ with solutions and hidden tests removed."""
    result = api.generate_assignment(module_id, force=True, create=True)
    _raise_on_failure(result, f"generate_assignment {module_id}")
    return Path(api.coursedir.root) / "release" / module_id


def autograde(api, module_id: str, student: str) -> Path:
    """`nbgrader autograde` of submitted/<student>/<id>/; returns autograded/<student>/<id>/."""
    result = api.autograde(module_id, student, force=True, create=True)
    _raise_on_failure(result, f"autograde {module_id} ({student})")
    return Path(api.coursedir.root) / "autograded" / student / module_id


def score(db_path: Path, module_id: str, student: str) -> Score:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{db_path}") as gb:
        sub = gb.find_submission(module_id, student)
        return Score(float(sub.score), float(sub.max_score))
