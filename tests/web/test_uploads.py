"""Bad uploads get a 4xx naming the problem and leave nothing behind; good ones are one row."""

from __future__ import annotations

import json
from io import BytesIO

import pytest
from portalkit import csrf_token, solved

from web.extensions import db
from web.models import Submission


def _post(client, data: bytes, module: str = "01-hashing", name: str = "nb.ipynb"):
    token = csrf_token(client, f"/learn/lune-101/{module}")
    return client.post(
        f"/learn/lune-101/{module}/submit",
        data={"csrf_token": token, "notebook": (BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def _deep(n: int) -> bytes:
    return b'{"cells": ' + b"[" * n + b"]" * n + b"}"


def _cells(n: int) -> bytes:
    nb = json.loads(solved("01-hashing"))
    nb["cells"] = [{"cell_type": "markdown", "metadata": {}, "source": ""}] * n
    return json.dumps(nb).encode()


def _nbformat(version: int) -> bytes:
    nb = json.loads(solved("01-hashing"))
    nb["nbformat"] = version
    return json.dumps(nb).encode()


BAD = [
    (b"", 400, "empty"),
    (b"not json at all", 400, "not a notebook we can grade"),
    (b'{"cells": "oops"}', 400, "not a notebook we can grade"),
    (_nbformat(99), 400, "not a notebook we can grade"),
    (_deep(100_000), 400, "not a notebook we can grade"),
    (_cells(20_000), 400, "more than 1000 cells"),
    (
        json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": []}).encode(),
        400,
        "no graded cells",
    ),
    (solved("02-blocks-pow"), 400, "notebook of module"),
]


@pytest.mark.parametrize("data,status,words", BAD, ids=[b[2] for b in BAD])
def test_bad_notebooks_are_refused_and_nothing_is_stored(client, world, auth, data, status, words):
    auth.login("a@lune.test")
    r = _post(client, data)
    assert r.status_code == status
    assert words in r.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count()).select_from(Submission)) == 0


def test_an_upload_over_the_cap_is_413(app_factory, world):
    app = app_factory(UPLOAD_MAX_BYTES=64 * 1024)
    client = app.test_client()
    with app.app_context():
        from portalkit import PASSWORD

        token = csrf_token(client, "/login")
        client.post(
            "/login", data={"email": "a@lune.test", "password": PASSWORD, "csrf_token": token}
        )
        r = _post(client, b"x" * (64 * 1024 + 1))
        assert r.status_code == 413 and "MiB" in r.get_data(as_text=True)
        r = _post(client, b"x" * (2 * 1024 * 1024))  # larger than the whole request cap
        assert r.status_code == 413
        assert db.session.scalar(db.select(db.func.count()).select_from(Submission)) == 0


def test_a_good_upload_is_one_row_with_hash_size_and_server_time(client, world, auth):
    import hashlib

    auth.login("a@lune.test")
    data = solved("01-hashing")
    r = _post(client, data)
    assert r.status_code == 303
    sub = db.session.scalars(db.select(Submission)).one()
    assert sub.sha256 == hashlib.sha256(data).hexdigest() and sub.size == len(data)
    assert sub.notebook == data and sub.received_at.tzinfo is not None
    assert sub.cohort_id == world.cohort1.id and sub.enqueued_at is not None


def test_the_api_takes_a_token_and_answers_202(client, world, auth):
    from web.services import accounts

    _row, plain = accounts.create_api_token(world.learner_a, "cli")
    headers = {"Authorization": f"Bearer {plain}"}
    url = "/api/v1/courses/lune-101/modules/01-hashing/submissions"
    r = client.post(
        url,
        headers=headers,
        data={"notebook": (BytesIO(solved("01-hashing")), "x")},
        content_type="multipart/form-data",
    )
    assert r.status_code == 202, r.get_json()
    body = r.get_json()
    assert body["status"] == "queued" and body["queue_position"] == 1
    assert client.get(r.headers["Location"], headers=headers).get_json()["id"] == body["id"]
    # Another learner's token cannot read it; a revoked token reads nothing.
    _row_b, plain_b = accounts.create_api_token(world.learner_b, "cli")
    other = client.get(r.headers["Location"], headers={"Authorization": f"Bearer {plain_b}"})
    assert other.status_code == 404
    accounts.revoke_api_token(world.learner_a, _row.id)
    assert client.get(r.headers["Location"], headers=headers).status_code == 401
    bad = client.post(url, headers={"Authorization": "Bearer nope"}, data=b"{}")
    assert bad.status_code == 401 and "token" in bad.get_json()["error"]


def test_lesson_markdown_cannot_carry_script():
    from web.services.lessons import render_markdown

    html = render_markdown(
        "# Hi\n<script>alert(1)</script><img src=x onerror=alert(2)>[x](javascript:alert(3))"
    )
    assert "<script" not in html and "onerror" not in html and "javascript:" not in html


def test_the_same_notebook_twice_is_two_attempts_in_upload_order(client, world, auth):
    """Documented outcome (docs/operations.md): two rows, ordered by id even within a second."""
    auth.login("a@lune.test")
    data = solved("01-hashing")
    assert _post(client, data).status_code == 303
    assert _post(client, data).status_code == 303
    first, second = db.session.scalars(db.select(Submission).order_by(Submission.id)).all()
    assert first.sha256 == second.sha256 and first.id < second.id
    assert first.received_at <= second.received_at


def test_upload_time_is_the_database_clock_not_the_portal_hosts(client, world, auth, monkeypatch):
    """A portal host whose clock runs backwards cannot backdate an upload."""
    import datetime as dt

    from web.models import types

    auth.login("a@lune.test")
    monkeypatch.setattr(types, "utcnow", lambda: dt.datetime(2001, 1, 1, tzinfo=dt.UTC))
    assert _post(client, solved("01-hashing")).status_code == 303
    sub = db.session.scalars(db.select(Submission)).one()
    db_now = db.session.scalar(db.select(db.func.current_timestamp()))
    db_now = db_now if isinstance(db_now, dt.datetime) else dt.datetime.fromisoformat(db_now)
    assert sub.received_at.year > 2001
    assert abs(sub.received_at.replace(tzinfo=None) - db_now.replace(tzinfo=None)) < dt.timedelta(
        minutes=5
    )
