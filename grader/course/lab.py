"""`lune lab`: a learner workspace with the course's learner notebooks, opened in JupyterLab.

The workspace is the learner's own folder: a notebook already there is never overwritten (it
holds their work); only modules not yet copied are added. JupyterLab is bound to 127.0.0.1.
`nbgrader validate <module>/<module>.ipynb` works in the workspace (it needs no course setup).

On first launch the workspace gets a start page (`START-HERE.md`, in French and English) and a
JupyterLab layout that opens it next to the first module; after that JupyterLab keeps the
learner's own layout. `run_lab` stops JupyterLab — which shuts its kernels down — when `lune lab`
is interrupted (Ctrl-C), terminated (SIGTERM, e.g. by a process manager) or loses its terminal
(SIGHUP), so no server or kernel is left running behind the learner's back.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
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
    write_start_page(course, workspace, present)
    if present:
        write_first_layout(workspace, present[0])
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


START_PAGE = "START-HERE.md"


def write_start_page(course: CourseConfig, workspace: Path, present: list[str]) -> Path:
    """Write the workspace's start page once (the learner may edit or delete it)."""
    page = workspace / START_PAGE
    if page.exists():
        return page
    rows = []
    for module in course.modules:
        if module.id in present:
            link = f"[{module.id}]({module.id}/{module.id}.ipynb)"
        else:
            link = f"{module.id} (bientôt · coming soon)"
        rows.append(f"| {link} | {module.title} | {module.minutes} | {module.points:g} |")
    first = present[0] if present else course.modules[0].id
    page.write_text(
        START_PAGE_TEMPLATE.format(
            title=course.title,
            first=first,
            rows="\n".join(rows),
            validate=f"nbgrader validate {first}/{first}.ipynb",
        ),
        encoding="utf-8",
    )
    return page


START_PAGE_TEMPLATE = """\
# {title}

**Bienvenue !** Ce dossier est le vôtre : vos notebooks y restent, `lune lab` ne les écrase
jamais. **Welcome!** This folder is yours: your notebooks stay here, `lune lab` never
overwrites them.

## Par où commencer · Where to start

1. Ouvrez le module 0, [{first}]({first}/{first}.ipynb) (il est déjà ouvert dans l'onglet
   voisin). · Open module 0 (it is already open in the next tab).
2. Cliquez dans une cellule de code et appuyez sur **Maj-Entrée** pour l'exécuter. · Click in a
   code cell and press **Shift-Enter** to run it.
3. Écrivez chaque exercice à la place de `raise NotImplementedError()`, puis exécutez la cellule
   de test qui suit. · Write each exercise in place of `raise NotImplementedError()`, then run
   the test cell under it.
4. Avant de rendre un module : *Kernel → Restart Kernel and Run All Cells*, puis le bouton
   **Validate** (ou, dans un terminal de JupyterLab : `{validate}`). · Before you submit a
   module: restart and run all, then **Validate** (or, in a JupyterLab terminal: the same command).

Les cellules « HIDDEN TEST » (tests cachés) sont vides pour vous : elles ne s'exécutent qu'à la
notation. · Cells marked "HIDDEN TEST" are empty for you: they run only at grading.

*Run All* s'arrête au premier exercice pas encore écrit (`NotImplementedError`) : continuez avec
**Maj-Entrée**. · *Run All* stops at the first exercise not yet written: go on with
**Shift-Enter**.

## Modules

| module | titre · title | minutes | points |
|---|---|---:|---:|
{rows}

Tout fonctionne hors ligne, sur une chaîne de test qui vit sur votre ordinateur : aucun compte,
aucune plateforme d'échange, aucune vraie monnaie. · Everything works offline, on a test chain
that lives on your computer: no account, no exchange, no real money.
"""


def layouts_dir(workspace: Path) -> Path:
    """Where JupyterLab keeps the learner's layout (open tabs) for this workspace."""
    return lab_config_dir(workspace) / "workspaces"


def write_first_layout(workspace: Path, first_module: str) -> Path | None:
    """On first launch only, make JupyterLab open the start page and the first module.

    JupyterLab saves the learner's layout in the same folder as they work, so once a layout
    exists it is theirs and is left alone. Returns the file written, or None."""
    folder = layouts_dir(workspace)
    if folder.is_dir() and any(folder.iterdir()):
        return None
    notebook = f"{first_module}/{first_module}.ipynb"
    page, nb_widget = f"markdownviewer-widget:{START_PAGE}", f"notebook:{notebook}"
    layout = {
        "data": {
            "layout-restorer:data": {
                "main": {
                    "dock": {"type": "tab-area", "currentIndex": 1, "widgets": [page, nb_widget]},
                    "current": nb_widget,
                },
                "left": {"collapsed": False, "current": "filebrowser", "widgets": ["filebrowser"]},
                "right": {"collapsed": True, "widgets": []},
            },
            page: {"data": {"path": START_PAGE, "factory": "Markdown Preview"}},
            nb_widget: {"data": {"path": notebook, "factory": "Notebook"}},
        },
        "metadata": {"id": "default"},
    }
    from jupyterlab_server.workspaces_handler import WorkspacesManager

    return WorkspacesManager(str(folder)).save("default", json.dumps(layout))


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
        # The learner's layout lives in the workspace: the first one opens module 0 and the
        # start page (write_first_layout), later ones are what the learner left open.
        f"--LabApp.workspaces_dir={layouts_dir(workspace)}",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        # Containers and CI machines often run as root; JupyterLab refuses that by default.
        cmd.append("--ServerApp.allow_root=True")
    return cmd


# How long JupyterLab gets to shut its kernels down after being asked to stop.
STOP_GRACE_SECONDS = 20.0


def run_lab(cmd: list[str], env: dict[str, str], cwd: Path | None = None) -> int:
    """Run JupyterLab (in `cwd`, the workspace) until it exits and return its exit status.

    Running in the workspace lets nbgrader's server extension find the workspace's
    nbgrader_config.py (it looks in the current directory), as `nbgrader validate` does.

    JupyterLab runs in its own session, so the terminal's signals reach only `lune lab`, which
    turns Ctrl-C (SIGINT), SIGTERM and SIGHUP alike into one SIGTERM to JupyterLab: that is the
    signal on which it shuts every kernel down and exits. If it has not exited after
    STOP_GRACE_SECONDS it is killed. The previous signal handlers are restored on return.
    """
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, start_new_session=True)
    asked_at: list[float] = []  # when the first stop signal arrived

    def stop(_signum: int, _frame: object) -> None:
        if not asked_at and proc.poll() is None:
            asked_at.append(time.monotonic())
            proc.send_signal(signal.SIGTERM)

    handled = [signal.SIGINT, signal.SIGTERM]
    if hasattr(signal, "SIGHUP"):
        handled.append(signal.SIGHUP)
    previous = {sig: signal.signal(sig, stop) for sig in handled}
    try:
        while True:
            try:
                code = proc.wait(timeout=0.5)
            except subprocess.TimeoutExpired:
                if asked_at and time.monotonic() - asked_at[0] > STOP_GRACE_SECONDS:
                    proc.kill()
                    return proc.wait()
                continue
            # A stop we asked for is a normal end, whatever status JupyterLab exits with.
            return 0 if asked_at else code
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
