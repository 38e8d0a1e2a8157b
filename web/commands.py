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

from grader.course.config import DEFAULT_COURSE
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


MIGRATION_LOCK = 7_402_101  # a PostgreSQL advisory lock key: one migrating process at a time


def upgrade_database(app) -> None:
    """Bring the database to the latest migration (creates it when new). Portal and worker
    processes starting together on PostgreSQL take turns (an advisory lock)."""
    from flask_migrate import upgrade
    from sqlalchemy import text

    from grader.course.assignments import ensure_venv_on_path
    from web.extensions import db

    ensure_venv_on_path()
    directory = str(app.extensions["migrate"].directory)
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            upgrade(directory=directory)
            return
        with db.engine.connect() as lock:
            lock.execute(text("SELECT pg_advisory_lock(:k)"), {"k": MIGRATION_LOCK})
            try:
                upgrade(directory=directory)
            finally:
                lock.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": MIGRATION_LOCK})


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
@click.option(
    "--health-port",
    type=click.IntRange(0, 65535),
    default=None,
    help="Serve GET /healthz on 127.0.0.1:PORT (the worker's own health; off by default).",
)
def worker(instance: str | None, concurrency: int | None, health_port: int | None) -> None:
    """Grade queued submissions (huey consumer with process workers, and the sweep)."""
    from web.logs import configure_json_logging

    configure_json_logging()
    app = _app(instance)
    upgrade_database(app)
    n = concurrency or int(app.config["WORKER_CONCURRENCY"])
    run_worker(app, n, health_port=health_port)


def run_worker(
    app, concurrency: int, stop: threading.Event | None = None, health_port: int | None = None
) -> None:
    """Run the huey consumer until SIGINT/SIGTERM; a heartbeat thread announces the worker."""
    from web.services import certify, jobs

    os.environ.setdefault("LUNE_WORKER_NAME", jobs.WORKER_NAME)
    jobs.set_worker_app(app)
    with app.app_context():
        jobs.heartbeat()
        jobs.sweep()
        q = jobs.queue(app)
    done = stop or threading.Event()
    last_beat = {"ok": time.time()}
    # The sweep runs here rather than as a huey periodic task, so it keeps to SWEEP_SECONDS.
    sweep_every = max(5.0, int(app.config["SWEEP_SECONDS"]) / 3)

    def beat() -> None:
        next_sweep = time.monotonic() + sweep_every
        while not done.wait(5):
            try:
                with app.app_context():
                    jobs.heartbeat()
                    # Quiz attempts past their deadline (+ grace) are submitted within 5 s.
                    certify.settle_overdue()
                    if time.monotonic() >= next_sweep:
                        jobs.sweep()
                        next_sweep = time.monotonic() + sweep_every
                last_beat["ok"] = time.time()
            except Exception as exc:  # the database may be restarting: keep beating
                app.logger.warning("heartbeat failed: %s", exc)

    threading.Thread(target=beat, name="heartbeat", daemon=True).start()
    if health_port is not None:
        _serve_health(health_port, last_beat, concurrency)
    click.echo(f"lune worker {jobs.worker_name()}: {concurrency} grading process(es)")
    # An idle SQLite queue is polled: huey backs off to 10 s between polls by default, which a
    # learner would wait through (Redis blocks on its queue instead). SIGTERM, what service
    # managers send, lets running gradings finish (huey's graceful stop), as Ctrl-C does.
    consumer = q.huey.create_consumer(
        workers=concurrency,
        worker_type="process",
        periodic=False,
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


def _serve_health(port: int, last_beat: dict, concurrency: int) -> None:
    """GET /healthz: 200 while the heartbeat reached the database in the last 30 s, else 503."""
    import json
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from web.services import jobs

    class Health(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            age = time.time() - last_beat["ok"]
            known = self.path == "/healthz"
            ok = known and age < 30
            body = json.dumps(
                {
                    "worker": jobs.worker_name(),
                    "processes": concurrency,
                    "heartbeat_age_s": round(age, 1),
                    "status": "ok" if ok else "stale",
                }
            ).encode()
            self.send_response(200 if ok else (503 if known else 404))
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:  # the worker's log is JSON; no access log here
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Health)
    threading.Thread(target=server.serve_forever, name="health", daemon=True).start()
    click.echo(f"worker health on http://127.0.0.1:{server.server_port}/healthz")


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
@click.option("--course", default=DEFAULT_COURSE, show_default=True, help="Course id.")
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
