"""Who may open what: every route in the app's url_map × every kind of user, with the status each
gets. A route missing from TABLE fails the test, so a new route is denied until someone decides.

Roles: anonymous, learner A and learner B (cohort 1), learner C (cohort 2), the instructor of
cohort 1, the instructor of cohort 2, an admin. The objects in the URLs belong to learner A and
cohort 1. CSRF is off here (its own tests are in test_security.py): a POST that passes the access
check fails its form validation with 400, or does what it does (303, 201).
"""

from __future__ import annotations

import pytest

from web.extensions import db

ROLES = ("anon", "a", "b", "c", "i1", "i2", "admin")
LOGIN = 302  # anonymous → redirected to the sign-in page

# "METHOD rule": statuses for (anon, a, b, c, i1, i2, admin)
TABLE: dict[str, tuple[int, ...]] = {
    "GET /": (200, 302, 302, 302, 302, 302, 302),
    "GET /register": (200, 200, 200, 200, 200, 200, 200),
    "POST /register": (400, 400, 400, 400, 400, 400, 400),
    "GET /login": (200, 200, 200, 200, 200, 200, 200),
    "POST /login": (400, 400, 400, 400, 400, 400, 400),
    "POST /logout": (302, 302, 302, 302, 302, 302, 302),
    "GET /reset": (200, 200, 200, 200, 200, 200, 200),
    "POST /reset": (400, 400, 400, 400, 400, 400, 400),
    "GET /reset/<token>": (400,) * 7,  # an unknown token
    "POST /reset/<token>": (400,) * 7,
    "GET /invite/<token>": (400,) * 7,
    "POST /invite/<token>": (400,) * 7,
    "POST /language/<code>": (303,) * 7,
    "GET /account": (LOGIN, 200, 200, 200, 200, 200, 200),
    "POST /account/password": (LOGIN, 303, 303, 303, 303, 303, 303),
    "POST /account/language": (LOGIN, 303, 303, 303, 303, 303, 303),
    "POST /account/tokens": (LOGIN, 201, 201, 201, 201, 201, 201),
    # A's token: only A may revoke it.
    "POST /account/tokens/<int:token_id>/revoke": (LOGIN, 303, 404, 404, 404, 404, 404),
    "GET /learn/": (LOGIN, 200, 200, 200, 200, 200, 200),
    "POST /learn/join": (LOGIN, 303, 303, 303, 303, 303, 303),
    "GET /learn/<course_id>/": (LOGIN, 200, 200, 200, 200, 200, 200),
    "GET /learn/<course_id>/<module_id>": (LOGIN, 200, 200, 200, 200, 200, 200),
    "GET /learn/<course_id>/<module_id>/notebook": (LOGIN, 200, 200, 200, 200, 200, 200),
    "POST /learn/<course_id>/<module_id>/submit": (LOGIN, 400, 400, 400, 400, 400, 400),
    "GET /learn/<course_id>/progress": (LOGIN, 200, 200, 200, 200, 200, 200),
    # A's submission: A, cohort 1's instructor and the admin; nobody else learns it exists.
    "GET /submissions/<int:submission_id>": (LOGIN, 200, 404, 404, 200, 404, 200),
    "GET /submissions/<int:submission_id>/status": (LOGIN, 200, 404, 404, 200, 404, 200),
    "GET /instruct/": (LOGIN, 403, 403, 403, 200, 200, 200),
    "POST /instruct/cohorts": (LOGIN, 403, 403, 403, 400, 400, 400),
    "GET /instruct/cohorts/<int:cohort_id>": (LOGIN, 403, 403, 403, 200, 404, 200),
    "GET /instruct/cohorts/<int:cohort_id>/modules/<module_id>": (
        LOGIN,
        403,
        403,
        403,
        200,
        404,
        200,
    ),
    "POST /instruct/cohorts/<int:cohort_id>/invite-code": (LOGIN, 403, 403, 403, 303, 404, 303),
    "POST /instruct/cohorts/<int:cohort_id>/import": (LOGIN, 403, 403, 403, 400, 404, 400),
    "POST /instruct/cohorts/<int:cohort_id>/due-dates": (LOGIN, 403, 403, 403, 303, 404, 303),
    "GET /instruct/cohorts/<int:cohort_id>/submissions/<int:submission_id>": (
        LOGIN,
        403,
        403,
        403,
        200,
        404,
        200,
    ),
    "POST /instruct/cohorts/<int:cohort_id>/submissions/<int:submission_id>/override": (
        LOGIN,
        403,
        403,
        403,
        400,
        404,
        400,
    ),
    "POST /instruct/cohorts/<int:cohort_id>/regrade": (LOGIN, 403, 403, 403, 400, 404, 400),
    "GET /instruct/cohorts/<int:cohort_id>/grades.<fmt>": (LOGIN, 403, 403, 403, 200, 404, 200),
    "GET /admin/users": (LOGIN, 403, 403, 403, 403, 403, 200),
    "POST /admin/users/<int:user_id>/role": (LOGIN, 403, 403, 403, 403, 403, 400),
    "POST /admin/users/<int:user_id>/active": (LOGIN, 403, 403, 403, 403, 403, 400),
    "GET /admin/courses": (LOGIN, 403, 403, 403, 403, 403, 200),
    "POST /admin/courses/sync": (LOGIN, 403, 403, 403, 403, 403, 303),
    "GET /admin/status": (LOGIN, 403, 403, 403, 403, 403, 200),
    # The API authenticates by bearer token only: without one, 401 for everybody.
    "GET /api/v1/me": (401,) * 7,
    "POST /api/v1/courses/<course_id>/modules/<module_id>/submissions": (401,) * 7,
    "GET /api/v1/submissions/<int:submission_id>": (401,) * 7,
    "GET /static/<path:filename>": (200,) * 7,
    "GET /healthz": (200,) * 7,
    # Certificates: verification and the issuer's public documents are for everybody; A's
    # certificate page for A, the instructor of A's cohort and admins; no node runs here (503).
    "GET /verify": (200,) * 7,
    "POST /verify": (400,) * 7,  # nothing uploaded
    "GET /verify/<cert_id>": (200,) * 7,
    "GET /certificates/<cert_id>/credential.json": (200,) * 7,
    "GET /issuer": (200,) * 7,
    "GET /status/<purpose>": (200,) * 7,
    "GET /status/<purpose>/v<int:version>": (200,) * 7,
    "GET /certificates/": (LOGIN, 200, 200, 200, 200, 200, 200),
    "GET /certificates/<cert_id>": (LOGIN, 200, 404, 404, 200, 404, 200),
    "GET /certificates/issued": (LOGIN, 403, 403, 403, 200, 200, 200),
    "POST /certificates/anchor": (LOGIN, 403, 403, 403, 503, 503, 503),
    "POST /certificates/<cert_id>/status": (LOGIN, 404, 404, 404, 400, 404, 400),
    # Explorer and wallet: everyone signed in. No node runs in this test, so a user who passes
    # the access check gets the 503 page. The wallet URLs name no user: each shows or pays the
    # signed-in user's own wallet only (tests/web/test_wallet.py checks that A never sees B's).
    "GET /explorer/": (LOGIN,) + (503,) * 6,
    "GET /explorer/search": (LOGIN,) + (503,) * 6,
    "GET /explorer/block/<key>": (LOGIN,) + (503,) * 6,
    "GET /explorer/tx/<key>": (LOGIN,) + (503,) * 6,
    "GET /explorer/address/<key>": (LOGIN,) + (503,) * 6,
    "GET /explorer/mempool": (LOGIN,) + (503,) * 6,
    "GET /explorer/tips": (LOGIN,) + (503,) * 6,
    "GET /wallet/": (LOGIN,) + (503,) * 6,
    "POST /wallet/faucet": (LOGIN,) + (503,) * 6,
    # Quizzes. Nobody here has graded notebooks, so nobody may start the certification.
    "GET /certify/<course_id>/": (LOGIN, 200, 200, 200, 200, 200, 200),
    "POST /certify/<course_id>/<quiz_id>/start": (LOGIN, 403, 403, 403, 403, 403, 403),
    # A's practice attempt: A, cohort 1's instructor and the admin see it; only A answers it.
    "GET /certify/attempts/<int:attempt_id>": (LOGIN, 200, 404, 404, 200, 404, 200),
    "GET /certify/attempts/<int:attempt_id>/state": (LOGIN, 200, 404, 404, 200, 404, 200),
    "POST /certify/attempts/<int:attempt_id>/answers": (LOGIN, 400, 404, 404, 404, 404, 404),
    "POST /certify/attempts/<int:attempt_id>/check/<int:position>": (
        LOGIN,
        400,
        404,
        404,
        404,
        404,
        404,
    ),
    "POST /certify/attempts/<int:attempt_id>/submit": (LOGIN, 303, 404, 404, 404, 404, 404),
    "GET /certify/<course_id>/<quiz_id>/stats": (LOGIN, 403, 403, 403, 200, 200, 200),
    "GET /certify/<course_id>/<quiz_id>/stats.csv": (LOGIN, 403, 403, 403, 200, 200, 200),
    "GET /certify/<course_id>/<quiz_id>/essays": (LOGIN, 403, 403, 403, 200, 200, 200),
    "POST /certify/slots/<int:slot_id>/grade": (LOGIN, 403, 403, 403, 400, 404, 400),
}


@pytest.fixture
def objects(app, world):
    """A's token and a submission of A (stored directly: nothing is graded here)."""
    import hashlib

    from web.models import Module, Submission
    from web.services import accounts

    token, _plain = accounts.create_api_token(world.learner_a, "laptop")
    module = db.session.query(Module).filter_by(slug="01-hashing").one()
    sub = Submission(
        user_id=world.learner_a.id,
        module_id=module.id,
        cohort_id=world.cohort1.id,
        filename="01-hashing.ipynb",
        notebook=b"{}",
        sha256=hashlib.sha256(b"{}").hexdigest(),
        size=2,
        status="queued",
    )
    db.session.add(sub)
    db.session.commit()
    from web.models import Course
    from web.services import certificates

    certificates.init_issuer("Lune Academy")
    cert = certificates.issue(world.learner_a, db.session.get(Course, "lune-101"), 88.0)
    from web.services import certify

    with app.test_request_context():
        attempt = certify.start_attempt(world.learner_a, "lune-101", "practice-01-hashing")
    return {
        "cert_id": cert.id,
        "purpose": "revocation",
        "version": 0,
        "course_id": "lune-101",
        "module_id": "01-hashing",
        "cohort_id": world.cohort1.id,
        "submission_id": sub.id,
        "token_id": token.id,
        "user_id": world.learner_b.id,
        "token": "not-a-real-token",
        "code": "fr",
        "fmt": "csv",
        "filename": "css/lune.css",
        "key": "00" * 32,  # a block hash / txid for the explorer's pages
        "quiz_id": "certification",
        "attempt_id": attempt.id,
        "position": 0,
        "slot_id": attempt.slots[0].id,
    }


EMAILS = {
    "a": "a@lune.test",
    "b": "b@lune.test",
    "c": "c@lune.test",
    "i1": "inst1@lune.test",
    "i2": "inst2@lune.test",
    "admin": "admin@lune.test",
}


def _routes(app) -> list[tuple[str, str]]:
    out = []
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            out.append((method, rule.rule))
    return sorted(out)


def test_every_route_is_in_the_table(app):
    missing = [f"{m} {r}" for m, r in _routes(app) if f"{m} {r}" not in TABLE]
    assert not missing, f"routes without an access rule (add them to TABLE): {missing}"
    gone = sorted(set(TABLE) - {f"{m} {r}" for m, r in _routes(app)})
    assert not gone, f"TABLE lists routes that no longer exist: {gone}"


def _url(rule: str, objects: dict) -> str:
    import re

    def fill(match: re.Match) -> str:
        return str(objects[match.group(2)])

    return re.sub(r"<(?:[a-z]+:)?(?:(path):)?([a-z_]+)>", fill, rule).replace("<", "")


@pytest.mark.parametrize("role_index,role", list(enumerate(ROLES)))
def test_access_table(app_factory, world, objects, role_index, role):
    app = app_factory(WTF_CSRF_ENABLED=False, RATELIMIT_ENABLED=False)
    client = app.test_client()
    with app.app_context():
        if role != "anon":
            r = client.post(
                "/login", data={"email": EMAILS[role], "password": "correct horse battery"}
            )
            assert r.status_code == 302, f"{role} could not sign in"
        wrong = []
        for method, rule in _routes(app):
            if rule == "/logout":
                continue  # it would end this client's session: checked last
            expected = TABLE[f"{method} {rule}"][role_index]
            url = _url(rule, objects)
            got = client.open(url, method=method).status_code
            if got != expected:
                wrong.append(f"{method} {url}: expected {expected}, got {got}")
        assert client.post("/logout").status_code == TABLE["POST /logout"][role_index]
        assert not wrong, f"{role}: " + "; ".join(wrong)
