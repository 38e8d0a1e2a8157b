"""The portal's commands: `lune portal …`, `lune worker` and `lune submit`.

Each opens the app with the resolved settings (defaults → instance file → environment), so they
work the same on a laptop, a portal host or a grading host.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import click

from web.settings import SettingsError, ensure_instance, load_settings


def _app(instance: str | None = None, **overrides):
    from web import create_app

    settings = {"INSTANCE_PATH": instance} if instance else {}
    settings.update({k: v for k, v in overrides.items() if v is not None})
    try:
        resolved = load_settings(settings)
        ensure_instance(resolved["INSTANCE_PATH"])
        return create_app(settings)
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None


def upgrade_database(app) -> None:
    """Bring the database to the latest migration (creates it when new)."""
    from flask_migrate import upgrade

    from grader.course.assignments import ensure_venv_on_path

    ensure_venv_on_path()
    with app.app_context():
        upgrade(directory=str(app.extensions["migrate"].directory))


instance_option = click.option(
    "--instance",
    type=click.Path(file_okay=False),
    default=None,
    help="Instance folder (default: LUNE_INSTANCE_PATH or .lune/instance).",
)


@click.group()
def portal() -> None:
    """Run and administer the web portal."""


@portal.command()
@instance_option
def init(instance: str | None) -> None:
    """Create the instance folder, its secret key and the database (idempotent)."""
    app = _app(instance)
    upgrade_database(app)
    click.echo(f"instance ready in {app.instance_path}")


@portal.command("sync-courses")
@instance_option
@click.option(
    "--courses-dir",
    type=click.Path(file_okay=False, exists=True),
    default=None,
    help="Folder of course directories (default: LUNE_COURSES_DIR or courses/).",
)
def sync_courses(instance: str | None, courses_dir: str | None) -> None:
    """Load or update every course (course.toml) into the portal, building its notebooks."""
    from web.errors import ServiceError
    from web.services.catalog import sync_courses as sync

    app = _app(instance, COURSES_DIR=courses_dir)
    upgrade_database(app)
    with app.app_context():
        try:
            sync(Path(app.config["COURSES_DIR"]), echo=click.echo)
        except ServiceError as exc:
            raise click.ClickException(exc.message) from None


@portal.command("create-admin")
@instance_option
@click.option("--email", required=True, help="The administrator's email address.")
@click.option("--name", default="Administrator", show_default=True, help="Display name.")
@click.password_option(
    envvar="LUNE_ADMIN_PASSWORD",
    help="Password (prompted when not given; LUNE_ADMIN_PASSWORD also works).",
)
def create_admin(instance: str | None, email: str, name: str, password: str) -> None:
    """Create an administrator account (or make an existing account administrator)."""
    from web.errors import ServiceError
    from web.extensions import db
    from web.services import accounts

    app = _app(instance)
    upgrade_database(app)
    with app.app_context():
        try:
            user = accounts.find_user(email)
            if user is None:
                user = accounts.create_user(email, name, password, role="admin")
            else:
                user.role = "admin"
            db.session.commit()
        except ServiceError as exc:
            raise click.ClickException(exc.message) from None
        click.echo(f"{user.email} is an administrator")


@portal.command()
@instance_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    default=5000,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port to listen on.",
)
@click.option(
    "--workers",
    default=2,
    show_default=True,
    type=click.IntRange(1, 64),
    help="gunicorn worker processes.",
)
def run(instance: str | None, host: str, port: int, workers: int) -> None:
    """Serve the portal with gunicorn (migrates the database first)."""
    app = _app(instance)
    upgrade_database(app)
    serve(app, host, port, workers)


def serve(app, host: str, port: int, workers: int) -> None:
    from gunicorn.app.base import BaseApplication

    class _Server(BaseApplication):
        def load_config(self):
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("accesslog", "-")
            self.cfg.set("graceful_timeout", 20)

        def load(self):
            return app

    click.echo(f"Lune Academy portal on http://{host}:{port}/ (Ctrl-C stops it)")
    _Server().run()


@click.command()
@instance_option
@click.option(
    "--concurrency",
    type=click.IntRange(1, 64),
    default=None,
    help="Grading processes (default: LUNE_WORKER_CONCURRENCY, 1).",
)
def worker(instance: str | None, concurrency: int | None) -> None:
    """Grade queued submissions (huey consumer with process workers; sweeps every minute)."""
    app = _app(instance)
    upgrade_database(app)
    n = concurrency or int(app.config["WORKER_CONCURRENCY"])
    run_worker(app, n)


def run_worker(app, concurrency: int, stop: threading.Event | None = None) -> None:
    """Run the huey consumer until SIGINT/SIGTERM; a heartbeat thread announces the worker."""
    from web.services import jobs

    os.environ.setdefault("LUNE_WORKER_NAME", jobs.WORKER_NAME)
    jobs.set_worker_app(app)
    with app.app_context():
        jobs.heartbeat()
        jobs.sweep()
        q = jobs.queue(app)
    done = stop or threading.Event()

    def beat() -> None:
        while not done.wait(10):
            try:
                with app.app_context():
                    jobs.heartbeat()
            except Exception as exc:  # the database may be restarting: keep beating
                app.logger.warning("heartbeat failed: %s", exc)

    threading.Thread(target=beat, name="heartbeat", daemon=True).start()
    click.echo(f"lune worker {jobs.worker_name()}: {concurrency} grading process(es)")
    # An idle SQLite queue is polled: huey backs off to 10 s between polls by default, which a
    # learner would wait through (Redis blocks on its queue instead). SIGTERM, what service
    # managers send, lets running gradings finish (huey's graceful stop), as Ctrl-C does.
    consumer = q.huey.create_consumer(
        workers=concurrency,
        worker_type="process",
        periodic=True,
        check_worker_health=True,
        initial_delay=0.05,
        backoff=1.1,
        max_delay=0.5,
        graceful_signal="TERM",
    )
    try:
        consumer.run()
    finally:
        done.set()


@click.command()
@click.argument("module")
@click.argument("notebook", required=False, type=click.Path(dir_okay=False))
@click.option(
    "--portal",
    "portal_url",
    envvar="LUNE_PORTAL_URL",
    default="http://127.0.0.1:5000",
    show_default=True,
    help="The portal's address (LUNE_PORTAL_URL).",
)
@click.option(
    "--token",
    envvar="LUNE_TOKEN",
    required=True,
    help="Your personal API token (LUNE_TOKEN), made on your account page.",
)
@click.option("--course", default="lune-101", show_default=True, help="Course id.")
@click.option("--wait/--no-wait", default=True, show_default=True, help="Wait for the score.")
@click.option(
    "--timeout",
    default=600,
    show_default=True,
    type=click.IntRange(1, 7200),
    help="Seconds to wait for the score.",
)
def submit(
    module: str,
    notebook: str | None,
    portal_url: str,
    token: str,
    course: str,
    wait: bool,
    timeout: int,
) -> None:
    """Upload MODULE's notebook (default: MODULE/MODULE.ipynb in the workspace) for grading."""
    import requests

    path = Path(notebook) if notebook else _default_notebook(course, module)
    if not path.is_file():
        raise click.ClickException(f"{path}: no such notebook")
    url = f"{portal_url.rstrip('/')}/api/v1/courses/{course}/modules/{module}/submissions"
    headers = {"Authorization": f"Bearer {token}"}
    try:
        with path.open("rb") as f:
            r = requests.post(url, headers=headers, files={"notebook": (path.name, f)}, timeout=60)
    except requests.RequestException as exc:
        raise click.ClickException(f"cannot reach the portal at {portal_url}: {exc}") from None
    body = _json(r)
    if r.status_code != 202:
        raise click.ClickException(
            f"upload refused ({r.status_code}): {body.get('error', r.text[:200])}"
        )
    click.echo(f"submitted {path} as #{body['id']}: queued (position {body['queue_position']})")
    if not wait:
        click.echo(body["url"])
        return
    status_url = f"{portal_url.rstrip('/')}/api/v1/submissions/{body['id']}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        time.sleep(1.0)
        try:
            s = _json(requests.get(status_url, headers=headers, timeout=30))
        except requests.RequestException:
            continue
        if s.get("final"):
            if s["status"] == "rejected":
                raise click.ClickException(f"not graded: {s.get('message', '')}")
            click.echo(
                f"score {s['score']:g} / {s['max_score']:g}"
                + (f" (late penalty −{s['late_penalty']:g})" if s.get("late_penalty") else "")
            )
            for ex in s.get("exercises", []):
                click.echo(f"  {ex['function']}: {ex['score']:g} / {ex['max_score']:g}")
            click.echo(f"feedback: {body['url']}")
            return
    raise click.ClickException(f"no score after {timeout} s: see {body['url']}")


def _json(r) -> dict:
    try:
        data = r.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _default_notebook(course: str, module: str) -> Path:
    from grader.course.config import CourseConfigError, load_course
    from grader.course.lab import default_workspace

    local = Path(module) / f"{module}.ipynb"
    if local.is_file():
        return local
    try:
        return default_workspace(load_course(course)) / module / f"{module}.ipynb"
    except CourseConfigError:
        return local
