"""Fixtures of the browser tests: Debian's Chromium through Playwright, and the platform served
for real (gunicorn on a loopback port, a `lune worker` grading in the sandbox).

Never a downloaded browser: Playwright launches /usr/bin/chromium with the flags that keep it
from reaching the network on its own (no background networking, no component updates, no sync).
Screenshots go to build/screenshots/ so a person can look at what the tests saw.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from portalkit import COURSES
from services import free_port

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def chromium():
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium")
        pytest.skip(f"{CHROMIUM} is not installed (Debian package chromium)")
    from playwright.sync_api import sync_playwright

    # Playwright gives each launch a fresh, empty profile of its own (no --user-data-dir).
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield browser
        browser.close()


class Platform:
    """The portal (gunicorn, 2 workers) and one `lune worker`, on a copy of the template DB."""

    def __init__(self, instance: Path, port: int) -> None:
        self.instance, self.port = instance, port
        self.url = f"http://127.0.0.1:{port}"
        self.env = dict(os.environ)
        self.env.update(
            {
                "LUNE_INSTANCE_PATH": str(instance),
                "LUNE_SECRET_KEY": "browser-test-secret",
                "LUNE_COURSES_DIR": str(COURSES),
                "LUNE_BASE_URL": self.url,
                "LUNE_SWEEP_SECONDS": "30",
            }
        )
        self.env.pop("REDIS_URL", None)
        self.env.pop("DATABASE_URL", None)
        self.procs: list[subprocess.Popen] = []

    def app(self):
        from web import create_app

        return create_app(
            {
                "INSTANCE_PATH": str(self.instance),
                "SECRET_KEY": "browser-test-secret",
                "COURSES_DIR": str(COURSES),
                "BASE_URL": self.url,
                "REDIS_URL": None,
            }
        )

    def start(self) -> None:
        lune = [sys.executable, "-m", "web.cli"]
        log = open(self.instance / "platform.log", "ab")  # noqa: SIM115 (closed with the processes)
        self.procs.append(
            subprocess.Popen([*lune, "worker"], env=self.env, stdout=log, stderr=subprocess.STDOUT)
        )
        self.procs.append(
            subprocess.Popen(
                [*lune, "portal", "run", "--port", str(self.port)],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )
        import requests

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            for p in self.procs:
                assert p.poll() is None, (self.instance / "platform.log").read_text()[-3000:]
            try:
                if requests.get(self.url + "/login", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                time.sleep(0.3)
        pytest.fail("the portal did not start within 60 s")

    def stop(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
        for p in self.procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()


@pytest.fixture(scope="module")
def platform(template_db_e2e, tmp_path_factory):
    instance = tmp_path_factory.mktemp("platform")
    shutil.copy(template_db_e2e, instance / "portal.db")
    running = Platform(instance, free_port())
    running.start()
    yield running
    running.stop()


@pytest.fixture(scope="session")
def template_db_e2e(tmp_path_factory) -> Path:
    """A migrated database with lune-101 synced (built once per session)."""
    from sqlalchemy import text

    from web import create_app
    from web.commands import upgrade_database
    from web.extensions import db
    from web.services.catalog import sync_courses

    base = tmp_path_factory.mktemp("e2e-template")
    app = create_app(
        {
            "INSTANCE_PATH": str(base),
            "SECRET_KEY": "x",
            "COURSES_DIR": str(COURSES),
            "REDIS_URL": None,
            "DATABASE_URL": f"sqlite:///{base / 'portal.db'}",
        }
    )
    upgrade_database(app)
    with app.app_context():
        sync_courses(COURSES)
        db.session.remove()
        with db.engine.connect() as conn:
            conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        db.engine.dispose()
    return base / "portal.db"
