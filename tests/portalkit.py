"""Helpers shared by the portal's tests (imported by name: a conftest cannot be imported)."""

from __future__ import annotations

import json
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COURSES = ROOT / "courses"
SHOTS = ROOT / "build" / "screenshots"
PASSWORD = "correct horse battery"
# The scale-out services on these machines (DESIGN.md); LUNE_TEST_* point elsewhere.
POSTGRES = os.environ.get("LUNE_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432")
REDIS = os.environ.get("LUNE_TEST_REDIS", "redis://127.0.0.1:6379/0")


def _unavailable(what: str, why: str):
    """Skip with the reason on a user's machine; under CI the service must be there."""
    import pytest

    message = f"{what} is not reachable ({why}); `.ci/run` starts it"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def postgres_url(database: str) -> str:
    """The SQLAlchemy URL of `database` on the test server (skips when there is none)."""
    try:
        import psycopg

        with psycopg.connect(_libpq(POSTGRES, "postgres"), connect_timeout=3):
            pass
    except Exception as exc:  # no driver, no server, refused: all mean "not here"
        _unavailable(f"PostgreSQL at {POSTGRES}", f"{type(exc).__name__}: {exc}".strip())
    return f"{POSTGRES}/{database}"


def _libpq(url: str, database: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://") + f"/{database}"


def admin_sql(*statements: str) -> None:
    """Run statements (CREATE/DROP DATABASE) outside a transaction on the test server."""
    import psycopg

    with psycopg.connect(_libpq(POSTGRES, "postgres"), autocommit=True) as conn:
        for sql in statements:
            conn.execute(sql)


def redis_url() -> str:
    """The test Redis server's URL (skips when there is none)."""
    try:
        import redis

        redis.Redis.from_url(REDIS, socket_connect_timeout=3).ping()
    except Exception as exc:
        _unavailable(f"Redis at {REDIS}", f"{type(exc).__name__}: {exc}")
    return REDIS


def csrf_token(client, path: str = "/login") -> str:
    """The CSRF token of the client's session, read from a page's form."""
    import re

    html = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


class Auth:
    def __init__(self, app, client):
        self.app, self.client = app, client

    def user(self, email: str, name: str = "", role: str = "learner", password: str = PASSWORD):
        from web.extensions import db
        from web.services import accounts

        user = accounts.create_user(email, name or email.split("@")[0].title(), password, role=role)
        db.session.commit()
        return user

    def login(self, email: str, password: str = PASSWORD, client=None):
        client = client or self.client
        token = csrf_token(client, "/login")
        return client.post(
            "/login", data={"email": email, "password": password, "csrf_token": token}
        )

    def logout(self, client=None):
        client = client or self.client
        token = csrf_token(client, "/account")
        return client.post("/logout", data={"csrf_token": token})


# --- notebooks the tests upload ---------------------------------------------------------------

COURSE = COURSES / "lune-101"


def solved(module: str) -> bytes:
    """The module's source notebook: every solution written, as a learner who finished it."""
    return (COURSE / "source" / module / f"{module}.ipynb").read_bytes()


FORGED_SHA256 = '''class _AlwaysEqual(str):
    """Claims to equal anything: the classic way to fool an in-kernel assert."""

    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    __hash__ = str.__hash__


def sha256_hex(data: bytes) -> str:
    return _AlwaysEqual("forged")
'''


def forged(module: str = "01-hashing", function: str = "sha256_hex") -> bytes:
    """The solved notebook with one exercise answered by an always-equal object."""
    nb = json.loads(solved(module))
    for cell in nb["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("solution") and meta.get("grade_id") == function:
            cell["source"] = FORGED_SHA256
    return json.dumps(nb).encode()


def shot(page, name: str) -> Path:
    """A full-page screenshot of a browser test's step, for a person to look at."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
