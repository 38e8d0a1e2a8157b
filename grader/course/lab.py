"""`lune lab`: a learner workspace with the course's learner notebooks, opened in JupyterLab.

The workspace is the learner's own folder: a notebook already there is never overwritten (it
holds their work); only modules not yet copied are added. JupyterLab is bound to 127.0.0.1.
`nbgrader validate <module>/<module>.ipynb` works in the workspace (it needs no course setup).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from grader.course.build import build_course, is_current, release_dir
from grader.course.config import CourseConfig


@dataclass(frozen=True)
class WorkspaceReport:
    copied: list[str]  # module ids copied into the workspace now
    kept: list[str]  # module ids already there (the learner's copy is kept)
    missing: list[str]  # modules listed in course.toml whose source notebook is absent


def default_workspace(course: CourseConfig) -> Path:
    return Path.home() / "lune-workspace" / course.id


def ensure_built(course: CourseConfig, echo: Callable[[str], None] | None = None) -> list[str]:
    """Build the modules whose release version is missing or older than the source."""
    present = [m.id for m in course.modules if course.source_notebook(m.id).is_file()]
    stale = [m for m in present if not is_current(course, m)]
    if stale:
        build_course(course, stale, echo=echo)
    return present


def prepare_workspace(
    course: CourseConfig, workspace: Path, echo: Callable[[str], None] | None = None
) -> WorkspaceReport:
    """Copy every built module's learner files into `workspace/<id>/`, keeping existing files."""
    present = ensure_built(course, echo)
    workspace.mkdir(parents=True, exist_ok=True)
    copied, kept = [], []
    for module_id in present:
        src = release_dir(course) / module_id
        dest = workspace / module_id
        new_files = 0
        for path in sorted(p for p in src.rglob("*") if p.is_file()):
            target = dest / path.relative_to(src)
            if target.exists():
                continue  # the learner's copy, possibly edited: never overwrite it
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
            # nbgrader writes release files read-only for the grader; the learner edits them.
            target.chmod(0o644)
            new_files += 1
        (copied if new_files else kept).append(module_id)
    config = workspace / "nbgrader_config.py"
    if not config.exists():
        # `nbgrader validate` run in the workspace reads this (and warns when there is none).
        config.write_text(WORKSPACE_CONFIG, encoding="utf-8")
    write_lab_config(workspace)
    missing = [m.id for m in course.modules if m.id not in present]
    return WorkspaceReport(copied, kept, missing)


# JupyterLab front-end plugins a learner does not need: nbgrader's instructor tools (they would
# offer to edit grading metadata and run a formgrader against no course) and the announcements
# plugin, which asks to fetch news from the internet — the course promises to work offline.
LEARNER_DISABLED_PLUGINS = (
    "@jupyter/nbgrader:create-assignment",
    "@jupyter/nbgrader:formgrader",
    "@jupyter/nbgrader:course-list",
    "@jupyterlab/apputils-extension:announcements",
)


def lab_config_dir(workspace: Path) -> Path:
    """The workspace's own Jupyter configuration folder (hidden from the file browser)."""
    return workspace / ".lune-lab"


def write_lab_config(workspace: Path) -> Path:
    """Write the learner's page config (disabled plugins); returns the config folder."""
    config_dir = lab_config_dir(workspace)
    labconfig = config_dir / "labconfig"
    labconfig.mkdir(parents=True, exist_ok=True)
    page_config = {"disabledExtensions": dict.fromkeys(LEARNER_DISABLED_PLUGINS, True)}
    (labconfig / "page_config.json").write_text(json.dumps(page_config, indent=2) + "\n")
    return config_dir


WORKSPACE_CONFIG = """\
# Settings for `nbgrader validate` in this workspace (written once by `lune lab`; yours to edit).
c = get_config()  # noqa: F821
c.Execute.timeout = 120  # seconds a cell may run before validation gives up on it
"""


def lab_environment(workspace: Path | None = None) -> dict[str, str]:
    """The server's environment: this installation's bin/ first on PATH, so `nbgrader` and
    `lune` work in JupyterLab's terminals; the workspace's page config first on the Jupyter
    config path, so the learner's JupyterLab hides the instructor tools."""
    env = dict(os.environ)
    if workspace is not None:
        extra = env.get("JUPYTER_CONFIG_PATH", "")
        env["JUPYTER_CONFIG_PATH"] = os.pathsep.join(
            p for p in (str(lab_config_dir(workspace)), extra) if p
        )
    bindir = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join([bindir, env.get("PATH", "")])
    return env


def validate_command(module_id: str) -> str:
    """The command a learner runs in the workspace to validate a module before submitting."""
    nbgrader = Path(sys.executable).parent / "nbgrader"
    return f"{nbgrader} validate {module_id}/{module_id}.ipynb"


def lab_command_line(workspace: Path, port: int, open_browser: bool) -> list[str]:
    """The JupyterLab server command for `workspace`, listening on 127.0.0.1:`port` only."""
    cmd = [
        sys.executable,
        "-m",
        "jupyterlab",
        f"--ServerApp.root_dir={workspace}",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        f"--ServerApp.open_browser={open_browser}",
        # Offline by design: no update checks and no news feed fetched from the internet.
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.news_url=None",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        # Containers and CI machines often run as root; JupyterLab refuses that by default.
        cmd.append("--ServerApp.allow_root=True")
    return cmd
