"""Fixtures of the portal's tests: `app` (a fresh database with lune-101 synced), `client`,
`auth` (creates users and signs them in), `world` (two cohorts and their people).

The whole suite runs twice: on SQLite (the embedded default) and on PostgreSQL (marker
`postgres`, the scale-out path). The course is synced once per session into a template database
(nbgrader builds the learner notebooks, ~15 s); each test gets a copy of it — a copied file for
SQLite, `CREATE DATABASE … TEMPLATE` for PostgreSQL.
"""

from __future__ import annotations

import itertools
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from portalkit import COURSES, Auth, postgres_url

from web import create_app

_COUNTER = itertools.count()


def _config(instance: Path, database_url: str, **extra) -> dict:
    return {
        "INSTANCE_PATH": str(instance),
        "SECRET_KEY": "test-secret-key",
        "DATABASE_URL": database_url,
        "COURSES_DIR": str(COURSES),
        "REDIS_URL": None,
        "TESTING": True,
        **extra,
    }


@pytest.fixture(
    scope="session", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def backend(request) -> str:
    if request.param == "postgres":
        postgres_url("postgres")  # skips (or fails under CI) when the server is not there
    return request.param


def _build(app) -> None:
    from sqlalchemy import text

    from web.commands import upgrade_database
    from web.extensions import db
    from web.services.catalog import sync_courses

    upgrade_database(app)
    with app.app_context():
        sync_courses(COURSES)
        db.session.remove()
        if db.engine.dialect.name == "sqlite":
            with db.engine.connect() as conn:  # everything into the main file before the copy
                conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        db.engine.dispose()


@pytest.fixture(scope="session")
def template_db(backend, tmp_path_factory) -> str:
    """The template database's URL (a file for SQLite, a database for PostgreSQL)."""
    base = tmp_path_factory.mktemp(f"portal-template-{backend}")
    if backend == "sqlite":
        url = f"sqlite:///{base / 'portal.db'}"
        _build(create_app(_config(base, url)))
        yield url
        return
    from portalkit import admin_sql

    name = f"lune_tpl_{os.getpid()}"
    admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"')
    url = postgres_url(name)
    _build(create_app(_config(base, url)))
    yield url
    admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def app_factory(template_db, tmp_path):
    """`app_factory(**config)`: an app on a fresh copy of the template database."""
    created: list[str] = []

    def copy() -> str:
        if template_db.startswith("sqlite"):
            db_file = tmp_path / "instance" / "portal.db"
            if not db_file.exists():
                shutil.copy(template_db.removeprefix("sqlite:///"), db_file)
            return f"sqlite:///{db_file}"
        from portalkit import admin_sql

        if not created:
            template = template_db.rsplit("/", 1)[1]
            name = f"lune_t_{os.getpid()}_{next(_COUNTER)}"
            admin_sql(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
            created.append(name)
        return postgres_url(created[0])

    def make(**extra):
        instance = tmp_path / "instance"
        instance.mkdir(exist_ok=True)
        app = create_app(_config(instance, copy(), **extra))
        _fresh_g_per_request(app)
        return app

    yield make
    if created:
        from portalkit import admin_sql

        admin_sql(*(f'DROP DATABASE IF EXISTS "{n}" WITH (FORCE)' for n in created))


def _fresh_g_per_request(app) -> None:
    """The test body holds an app context so it can use the database; Flask then reuses that
    context (and its `g`, where Flask-Login and Flask-Babel cache the user and the locale) for
    every test-client request. In production each request has its own: so here too."""
    from flask import g

    @app.before_request
    def _clear_g() -> None:
        for name in list(vars(g)):
            delattr(g, name)


@pytest.fixture
def app(app_factory):
    app = app_factory()
    with app.app_context():
        yield app
        from web.extensions import db

        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def auth(app, client) -> Auth:
    return Auth(app, client)


@dataclass
class World:
    admin: object
    instructor1: object
    instructor2: object
    learner_a: object
    learner_b: object
    learner_c: object
    cohort1: object
    cohort2: object


@pytest.fixture
def world(app, auth) -> World:
    """Cohort 1 (instructor 1; learners A and B) and cohort 2 (instructor 2; learner C)."""
    from web.extensions import db
    from web.services import cohorts

    admin = auth.user("admin@lune.test", "Ada Admin", role="admin")
    i1 = auth.user("inst1@lune.test", "Ines Un", role="instructor")
    i2 = auth.user("inst2@lune.test", "Igor Deux", role="instructor")
    a = auth.user("a@lune.test", "Alice Martin")
    b = auth.user("b@lune.test", "Bruno Petit")
    c = auth.user("c@lune.test", "Chloé Durand")
    c1 = cohorts.create_cohort(i1, "lune-101", "Paris 2027")
    c2 = cohorts.create_cohort(i2, "lune-101", "Lyon 2027")
    cohorts.enroll(a, c1)
    cohorts.enroll(b, c1)
    cohorts.enroll(c, c2)
    db.session.commit()
    return World(admin, i1, i2, a, b, c, c1, c2)
