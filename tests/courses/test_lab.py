"""`lune lab`: the learner workspace keeps the learner's work, and JupyterLab really starts."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import nbformat
import pytest
from coursekit import ROOT, good_cells, good_checks, write_course

from grader.course.config import load_course
from grader.course.lab import (
    LEARNER_DISABLED_PLUGINS,
    START_PAGE,
    lab_command_line,
    layouts_dir,
    prepare_workspace,
)

pytestmark = pytest.mark.notebook


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_workspace_gets_learner_versions_and_keeps_edits(toy_course, tmp_path):
    course = load_course(toy_course)
    workspace = tmp_path / "ws"
    first = prepare_workspace(course, workspace)
    assert (first.copied, first.kept, first.missing) == (["m1"], [], [])
    notebook = workspace / "m1" / "m1.ipynb"
    nb = nbformat.read(str(notebook), as_version=4)
    assert "raise NotImplementedError()" in nb.cells[2].source
    assert os.access(notebook, os.W_OK), "the learner can save their notebook"
    assert "Execute.timeout" in (workspace / "nbgrader_config.py").read_text()

    nb.cells[2].source = nb.cells[2].source.replace("raise NotImplementedError()", "return x * 2")
    nbformat.write(nb, str(notebook))
    second = prepare_workspace(course, workspace)
    assert (second.copied, second.kept) == ([], ["m1"])
    assert "return x * 2" in nbformat.read(str(notebook), as_version=4).cells[2].source


def test_first_launch_opens_the_start_page_and_the_first_module(toy_course, tmp_path):
    course = load_course(toy_course)
    workspace = tmp_path / "ws"
    prepare_workspace(course, workspace)
    page = (workspace / START_PAGE).read_text(encoding="utf-8")
    assert "[m1](m1/m1.ipynb)" in page, "the start page links to the module notebooks"
    assert "Bienvenue" in page and "Welcome" in page, "the start page speaks French and English"
    (layout_file,) = layouts_dir(workspace).iterdir()
    layout = json.loads(layout_file.read_text())
    assert layout["metadata"]["id"] == "default"  # the layout /lab loads
    dock = layout["data"]["layout-restorer:data"]["main"]["dock"]["widgets"]
    assert dock == [f"markdownviewer-widget:{START_PAGE}", "notebook:m1/m1.ipynb"]

    # Later launches keep what the learner made of both.
    (workspace / START_PAGE).write_text("my notes", encoding="utf-8")
    layout_file.write_text(json.dumps({"data": {}, "metadata": {"id": "default"}}))
    prepare_workspace(course, workspace)
    assert (workspace / START_PAGE).read_text(encoding="utf-8") == "my notes"
    assert json.loads(layout_file.read_text())["data"] == {}


def test_workspace_lists_modules_not_yet_written(tmp_path):
    root = write_course(tmp_path / "c", {"m1": (good_cells(), good_checks("m1"))})
    extra = '[[module]]\nid = "m2"\ntitle = "Two"\ngoals = ["x"]\nminutes = 5\npoints = 3\n'
    (root / "course.toml").write_text((root / "course.toml").read_text() + "\n" + extra)
    report = prepare_workspace(load_course(root), tmp_path / "ws")
    assert (report.copied, report.missing) == (["m1"], ["m2"])


def test_lab_listens_on_loopback_only(tmp_path):
    cmd = lab_command_line(tmp_path, 8888, open_browser=False)
    assert f"--LabApp.workspaces_dir={layouts_dir(tmp_path)}" in cmd
    assert "--ServerApp.ip=127.0.0.1" in cmd and "--ServerApp.open_browser=False" in cmd
    # Offline: no update check, no news feed.
    assert "--LabApp.news_url=None" in cmd
    assert "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate" in cmd


@pytest.mark.network
@pytest.mark.slow
def test_lune_lab_starts_jupyterlab_on_the_workspace(toy_course, tmp_path):
    port = _free_port()
    workspace = tmp_path / "ws"
    token = "lune-test-token"  # JupyterLab takes its token from JUPYTER_TOKEN
    env = dict(os.environ, JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"), JUPYTER_TOKEN=token)
    cmd = [sys.executable, "-m", "web.cli", "lab", str(toy_course)]
    cmd += ["--workspace", str(workspace), "--no-browser", "--port", str(port)]
    proc = subprocess.Popen(
        cmd,
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: JupyterLab is stopped with it
    )
    try:
        info = None
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api", timeout=2) as r:
                    info = json.loads(r.read())
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.5)
        assert info is not None, f"JupyterLab did not answer on port {port}"
        assert "version" in info
        assert (workspace / "m1" / "m1.ipynb").is_file()
        # The page the learner's browser loads hides nbgrader's instructor tools and the
        # announcements plugin (which would fetch news from the internet).
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/lab?token={token}", timeout=10) as r:
            page = r.read().decode()
        config = json.loads(
            re.search(r'id="jupyter-config-data"[^>]*>(.*?)</script>', page, re.S)[1]
        )
        for plugin in LEARNER_DISABLED_PLUGINS:
            assert plugin in config["disabledExtensions"], plugin
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            out, _ = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, _ = proc.communicate()
    text = out.decode(errors="replace")
    assert "Copied into" in text and "nbgrader validate" in text
    # JupyterLab runs in the workspace, so nbgrader's extension finds its nbgrader_config.py.
    assert "No nbgrader_config.py file found" not in text


@pytest.mark.slow
def test_nbgrader_validate_works_in_the_workspace(toy_course, tmp_path):
    workspace = tmp_path / "ws"
    prepare_workspace(load_course(toy_course), workspace)
    nbgrader = str(Path(sys.executable).parent / "nbgrader")
    notebook = "m1/m1.ipynb"

    def validate() -> str:
        run = subprocess.run(
            [nbgrader, "validate", notebook],
            cwd=workspace,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        return run.stdout + run.stderr

    assert "NotImplementedError" in validate()  # the untouched learner version
    nb = nbformat.read(str(workspace / notebook), as_version=4)
    nb.cells[2].source = nb.cells[2].source.replace("raise NotImplementedError()", "return 2 * x")
    nbformat.write(nb, str(workspace / notebook))
    assert "Success! Your notebook passes all the tests." in validate()


def _children(pid: int) -> list[int]:
    """Every descendant of `pid` (read from /proc)."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            parents.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


@pytest.mark.network
@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_stopping_lune_lab_stops_jupyterlab_and_its_kernels(toy_course, tmp_path, signum):
    """A process manager's SIGTERM and a closed terminal's SIGHUP leave nothing running
    (Ctrl-C, SIGINT, goes through the same handler)."""
    port = _free_port()
    token = "lune-test-token"
    env = dict(os.environ, JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"), JUPYTER_TOKEN=token)
    cmd = [sys.executable, "-m", "web.cli", "lab", str(toy_course)]
    cmd += ["--workspace", str(tmp_path / "ws"), "--no-browser", "--port", str(port)]
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
    )
    everything: list[int] = []
    try:
        headers = {"Authorization": f"token {token}"}
        deadline = time.monotonic() + 90
        while True:
            assert time.monotonic() < deadline and proc.poll() is None, "JupyterLab did not start"
            try:
                request = urllib.request.Request(
                    f"http://127.0.0.1:{port}/api/kernels", data=b"{}", headers=headers
                )
                with urllib.request.urlopen(request, timeout=5) as r:
                    assert r.status == 201
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.5)
        while len(everything) < 2 and time.monotonic() < deadline:  # JupyterLab and a kernel
            everything = _children(proc.pid)
            time.sleep(0.2)
        assert len(everything) >= 2, f"expected JupyterLab and a kernel, found {everything}"

        os.kill(proc.pid, signum)  # lune lab only: it must pass the stop on
        assert proc.wait(timeout=40) == 0
        deadline = time.monotonic() + 10
        while any(_alive(pid) for pid in everything) and time.monotonic() < deadline:
            time.sleep(0.2)
        left = [pid for pid in everything if _alive(pid)]
        assert not left, f"still running after {signal.Signals(signum).name}: {left}"
    finally:
        for pid in [proc.pid, *everything]:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
        proc.wait(timeout=10)
