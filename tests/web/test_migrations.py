"""The database schema comes only from migrations: from empty to head, from every earlier revision
with data in it, and with no drift between the models and the migrations (`alembic check`).
Run on SQLite and on PostgreSQL (marker `postgres`)."""

from __future__ import annotations

import os
import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import upgrade
from portalkit import COURSES, admin_sql, postgres_url
from sqlalchemy import text

from web import create_app
from web.app import MIGRATIONS
from web.extensions import db


def _revisions() -> list[str]:
    script = ScriptDirectory(str(MIGRATIONS))
    heads = script.get_heads()
    assert len(heads) == 1, f"the migration history must be linear, heads: {heads}"
    return [r.revision for r in reversed(list(script.walk_revisions()))]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_app(request, tmp_path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'empty.db'}"
        name = None
    else:
        name = f"lune_mig_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        url = postgres_url(name)
        admin_sql(f'CREATE DATABASE "{name}"')
    app = create_app(
        {
            "INSTANCE_PATH": str(tmp_path),
            "SECRET_KEY": "x",
            "DATABASE_URL": url,
            "COURSES_DIR": str(COURSES),
            "REDIS_URL": None,
        }
    )
    yield app
    with app.app_context():
        db.engine.dispose()
    if name:
        admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


FIRST_REVISION_ROWS = [
    (
        'INSERT INTO "user" (id, email, name, password_hash, role, active, created_at) VALUES '
        "(1, 'keep@lune.test', 'Keep Me', '', 'learner', true, '2026-01-01 10:00:00')"
    ),
    (
        "INSERT INTO course (id, title, pass_mark, resubmission, late_policy, synced_at) VALUES "
        "('lune-101', 'Lune 101', 70, 'best', '{}', '2026-01-01 10:00:00')"
    ),
    (
        "INSERT INTO module (id, course_id, slug, position, title, goals, minutes, points, "
        "prerequisites, grade_ids, release_notebook, lesson_html, active) VALUES "
        "(1, 'lune-101', '01-hashing', 0, 'Hashing', '[]', 60, 12, '[]', '[]', :nb, '', true)"
    ),
    (
        "INSERT INTO submission (id, user_id, module_id, filename, notebook, sha256, size, "
        "received_at, status, via, attempts, infra_error) VALUES "
        "(1, 1, 1, 'x.ipynb', :nb, '00', 2, '2026-01-02 10:00:00', 'graded', 'web', 1, '')"
    ),
    (
        "INSERT INTO grading_result (id, submission_id, status, raw_score, late_penalty, score, "
        "max_score, exercises, feedback, message, seconds, graded_at, worker) VALUES "
        "(1, 1, 'graded', 11, 0, 11, 12, '[]', '', '', 1.5, '2026-01-02 10:00:05', 'w')"
    ),
]


def test_upgrade_from_empty_then_no_drift(empty_app):
    with empty_app.app_context():
        upgrade(directory=str(MIGRATIONS))
        with db.engine.connect() as conn:
            diffs = compare_metadata(MigrationContext.configure(conn), db.metadata)
        assert diffs == [], f"models and migrations differ (alembic check): {diffs}"


@pytest.mark.parametrize("start", _revisions())
def test_upgrade_from_every_revision_keeps_the_data(empty_app, start):
    """Rows written as SQL of the first revision's schema survive every later migration."""
    with empty_app.app_context():
        upgrade(directory=str(MIGRATIONS), revision=_revisions()[0])
        for sql in FIRST_REVISION_ROWS:
            db.session.execute(text(sql), {"nb": b"{}"} if ":nb" in sql else {})
        db.session.commit()
        upgrade(directory=str(MIGRATIONS), revision=start)
        upgrade(directory=str(MIGRATIONS))
        from web.models import Submission, User

        db.session.expire_all()
        user = db.session.get(User, 1)
        sub = db.session.get(Submission, 1)
        assert user.email == "keep@lune.test" and sub.result.score == 11
        assert sub.received_at.tzinfo is not None
