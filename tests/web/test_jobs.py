"""The queue around grading: a down queue loses nothing, the sweep re-queues what waited too long,
workers show on the status page, and `lune submit` talks to a real portal."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from portalkit import solved

from web.extensions import db
from web.models import Module, Submission, WorkerHeartbeat
from web.models.types import utcnow
from web.services import jobs, submissions


def _module(slug: str = "01-hashing") -> Module:
    return db.session.scalars(db.select(Module).filter_by(slug=slug)).one()


def test_an_upload_is_accepted_when_the_queue_is_down(app, world):
    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"  # nothing listens there
    app.extensions.pop("lune_queue", None)
    sub = submissions.accept_upload(world.learner_a, _module(), "nb.ipynb", solved("01-hashing"))
    assert db.session.get(Submission, sub.id).status == "queued"  # the sweep will queue it


def test_the_sweep_requeues_what_waited_too_long(app, world):
    sub = submissions.accept_upload(world.learner_a, _module(), "nb.ipynb", solved("01-hashing"))
    before = len(jobs.queue().huey)
    assert jobs.sweep() == 0  # just queued: not stale
    sub.enqueued_at = utcnow() - timedelta(hours=1)
    grading = submissions.accept_upload(
        world.learner_b, _module(), "nb.ipynb", solved("01-hashing")
    )
    # Being graded for a minute: its worker may still be on it, so it is left alone...
    grading.status, grading.enqueued_at = "grading", utcnow() - timedelta(hours=1)
    grading.started_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    assert jobs.sweep() == 1
    # ... until GRADING_TIMEOUT says its worker died.
    grading.started_at = utcnow() - timedelta(hours=1)
    db.session.commit()
    assert jobs.sweep() == 1  # A was queued again by the first sweep: not stale any more
    assert len(jobs.queue().huey) == before + 3  # B's upload, then A's and B's re-queued
    db.session.expire_all()
    assert grading.status == "retrying"  # graded again, never scored 0


def test_two_workers_never_grade_one_submission_at_once(app, world):
    from web.services.jobs import _claim

    sub = submissions.accept_upload(world.learner_a, _module(), "nb.ipynb", solved("01-hashing"))
    assert _claim(sub.id) is True
    assert _claim(sub.id) is False  # a duplicate message while the first run is going
    assert jobs.grade(sub.id) == "skipped"
    db.session.expire_all()
    assert sub.attempts == 1 and sub.status == "grading"


def test_a_graded_submission_is_never_graded_again_by_a_stale_message(app, world):
    sub = submissions.accept_upload(world.learner_a, _module(), "nb.ipynb", solved("01-hashing"))
    sub.status = "graded"
    db.session.commit()
    assert jobs.grade(sub.id) == "skipped"
    assert jobs.grade(987654) == "skipped"


def test_workers_and_queue_on_the_status_page(client, world, auth):
    submissions.accept_upload(world.learner_a, _module(), "nb.ipynb", solved("01-hashing"))
    jobs.heartbeat()
    db.session.add(WorkerHeartbeat(name="gone:1", last_seen=utcnow() - timedelta(minutes=5)))
    db.session.commit()
    auth.login("admin@lune.test")
    page = client.get("/admin/status").get_data(as_text=True)
    assert jobs.worker_name() in page and "gone:1" not in page
    assert '<dd id="queued">1</dd>' in page and '<dd id="workers">1' in page
    assert "does not answer" in page or "node" in page  # no node runs in this test


def _grade_next(app, stop: threading.Event) -> None:
    """A stand-in worker thread: grade each queued submission as it arrives."""
    with app.app_context():
        while not stop.wait(0.2):
            sub = db.session.scalars(db.select(Submission).filter_by(status="queued")).first()
            if sub is not None:
                jobs.grade(sub.id)
            db.session.remove()


@pytest.mark.network
@pytest.mark.notebook
def test_lune_submit_uploads_and_waits_for_the_score(app, world, tmp_path):
    from click.testing import CliRunner
    from werkzeug.serving import make_server

    from web.cli import main
    from web.services import accounts

    _row, token = accounts.create_api_token(world.learner_a, "cli")
    notebook = tmp_path / "01-hashing.ipynb"
    notebook.write_bytes(solved("01-hashing"))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}"
    stop = threading.Event()
    try:
        worker = threading.Thread(target=_grade_next, args=(app, stop), daemon=True)
        worker.start()
        waited = CliRunner().invoke(
            main,
            [
                "submit",
                "01-hashing",
                str(notebook),
                "--portal",
                url,
                "--token",
                token,
                "--timeout",
                "300",
            ],
        )
        assert waited.exit_code == 0, waited.output
        assert "score 12 / 12" in waited.output and "sha256_hex: 3 / 3" in waited.output
        stop.set()
        worker.join(60)
        no_wait = CliRunner().invoke(
            main,
            ["submit", "01-hashing", str(notebook), "--portal", url, "--token", token, "--no-wait"],
        )
        assert no_wait.exit_code == 0, no_wait.output
        assert "queued (position 1)" in no_wait.output  # the first one is graded
        bad = CliRunner().invoke(
            main, ["submit", "01-hashing", str(notebook), "--portal", url, "--token", "lune_wrong"]
        )
        assert bad.exit_code == 1 and "401" in bad.output and "token" in bad.output
        other = CliRunner().invoke(
            main, ["submit", "02-blocks-pow", str(notebook), "--portal", url, "--token", token]
        )
        assert other.exit_code == 1 and "notebook of module" in other.output
        missing = CliRunner().invoke(
            main, ["submit", "01-hashing", str(tmp_path / "nope.ipynb"), "--token", token]
        )
        assert missing.exit_code == 1 and "no such notebook" in missing.output
        down = CliRunner().invoke(
            main,
            [
                "submit",
                "01-hashing",
                str(notebook),
                "--portal",
                "http://127.0.0.1:9",
                "--token",
                token,
            ],
        )
        assert down.exit_code == 1 and "cannot reach the portal" in down.output
    finally:
        stop.set()
        server.shutdown()
