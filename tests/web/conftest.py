"""Fixtures of the portal's tests: `app` (a fresh SQLite database with lune-101 synced),
`client`, `auth` (creates users and signs them in), `world` (two cohorts and their people).

The course is synced once per session into a template database (nbgrader builds the learner
notebooks, ~15 s); each test gets a copy of that file.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from portalkit import COURSES, Auth

from web import create_app


def _config(instance: Path, db_file: Path, **extra) -> dict:
    return {
        "INSTANCE_PATH": str(instance),
        "SECRET_KEY": "test-secret-key",
        "DATABASE_URL": f"sqlite:///{db_file}",
        "COURSES_DIR": str(COURSES),
        "REDIS_URL": None,
        "TESTING": True,
        **extra,
    }


@pytest.fixture(scope="session")
def template_db(tmp_path_factory) -> Path:
    from web.commands import upgrade_database
    from web.services.catalog import sync_courses

    base = tmp_path_factory.mktemp("portal-template")
    db_file = base / "portal.db"
    app = create_app(_config(base, db_file))
    upgrade_database(app)
    with app.app_context():
        sync_courses(COURSES)
        from sqlalchemy import text

        from web.extensions import db

        db.session.remove()
        with db.engine.connect() as conn:  # everything into the main file before it is copied
            conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        db.engine.dispose()
    return db_file


@pytest.fixture
def app_factory(template_db, tmp_path):
    """`app_factory(**config)`: an app on a fresh copy of the template database."""

    def make(**extra):
        instance = tmp_path / "instance"
        instance.mkdir(exist_ok=True)
        db_file = instance / "portal.db"
        if not db_file.exists():
            shutil.copy(template_db, db_file)
        app = create_app(_config(instance, db_file, **extra))
        _fresh_g_per_request(app)
        return app

    return make


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
