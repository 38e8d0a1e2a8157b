"""Certificates in the portal: issued on success, anchored, verified at /verify, revoked by an
instructor who re-enters their password, and still verifiable after the learner's account is
deleted (which leaves no personal field behind)."""

from __future__ import annotations

import json
import re

import pytest

from web.extensions import db

PASSWORD = "correct horse battery"


def _csrf(client, path):
    html = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)


def _login(app, email):
    client = app.test_client()
    token = _csrf(client, "/login")
    r = client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
    assert r.status_code == 302
    return client


def _make_eligible(user):
    """Graded notebooks at full marks for every module (what the grader would have written)."""
    import hashlib

    from web.models import Course, GradingResult, Submission

    course = db.session.get(Course, "lune-101")
    for m in course.modules:
        if not m.active:
            continue
        sub = Submission(
            user_id=user.id, module_id=m.id, filename=f"{m.slug}.ipynb", notebook=b"{}",
            sha256=hashlib.sha256(b"{}").hexdigest(), size=2, status="graded",
        )  # fmt: skip
        sub.result = GradingResult(
            status="graded", raw_score=m.points, score=m.points, max_score=m.points
        )
        db.session.add(sub)
    db.session.commit()


def test_without_an_issuer_the_public_documents_answer_404(app, client):
    r = client.get("/issuer")
    assert r.status_code == 404
    assert "lune cert init --issuer-dir" in r.get_data(as_text=True)
    assert client.get("/verify").status_code == 200


def test_status_lists_and_unknown_ids(app, client, world):
    from web.services import certificates

    certificates.init_issuer("Lune Academy")
    assert client.get("/status/revocation").json["type"] == [
        "VerifiableCredential", "BitstringStatusListCredential",
    ]  # fmt: skip
    assert client.get("/status/revocation/v0").status_code == 200
    assert client.get("/status/revocation/v7").status_code == 404
    assert client.get("/status/nonsense").status_code == 404
    assert client.get("/verify/not-an-id").status_code == 404
    assert client.get("/issuer").json["id"] == "http://127.0.0.1:5000/issuer"
    # Not eligible (no graded notebook): the exam hook issues nothing.
    assert certificates.on_exam_passed(world.learner_b, "lune-101", 95.0) is None


def test_verify_page_reports_steps_without_a_node(app, client, world):
    from web.models import Course
    from web.services import certificates

    certificates.init_issuer("Lune Academy")
    cert = certificates.issue(world.learner_a, db.session.get(Course, "lune-101"), 80.0)
    r = client.get(f"/verify/{cert.id}")
    assert r.status_code == 200
    page = r.get_data(as_text=True)
    assert "NOT valid" in page and "no merkle-proof-2019 proof" in page  # not anchored yet
    assert page.count("✓") == 5
    token = _csrf(client, "/verify")
    r = client.post("/verify", data={"credential_text": "{oops", "csrf_token": token})
    assert r.status_code == 422 and "malformed JSON" in r.get_data(as_text=True)
    r = client.post("/verify", data={"credential_text": " ", "csrf_token": token})
    assert r.status_code == 400
    r = client.post("/verify", data={"credential_text": "x" * 300_000, "csrf_token": token})
    assert r.status_code == 413 and "at most 256 kB" in r.get_data(as_text=True)


@pytest.mark.network
def test_issue_anchor_verify_revoke_erase(app_factory, node):
    client_rpc, _url, node_datadir = node
    app = app_factory(NODE_DATADIR=str(node_datadir))
    with app.app_context():
        from portalworld import make_world

        w = make_world()
        from web.models import Certificate, User
        from web.services import certificates

        d = certificates.init_issuer("Lune Academy")
        address = d.load_profile().addresses[0].address
        client_rpc.call("generatetoaddress", 101, address)
        _make_eligible(w.learner_a)
        _make_eligible(w.learner_c)
        cert = certificates.on_exam_passed(w.learner_a, "lune-101", 88.0, "Lune 101 exam")
        assert cert is not None
        assert certificates.on_exam_passed(w.learner_a, "lune-101", 90.0).id == cert.id
        cert_c = certificates.on_exam_passed(w.learner_c, "lune-101", 75.0)
        cert_id, cert_c_id = cert.id, cert_c.id

        teacher = _login(app, "inst1@lune.test")
        assert "2 certificates wait" in teacher.get("/certificates/issued").get_data(as_text=True)
        token = _csrf(teacher, "/certificates/issued")
        r = teacher.post("/certificates/anchor", data={"csrf_token": token})
        assert r.status_code == 303
        client_rpc.call("generatetoaddress", 1, address)

        anon = app.test_client()
        page = anon.get(f"/verify/{cert_id}").get_data(as_text=True)
        assert "This certificate is valid" in page, page
        assert page.count("✓") == 10  # the banner and the nine steps
        credential = anon.get(f"/certificates/{cert_id}/credential.json").get_data(as_text=True)
        token = _csrf(anon, "/verify")
        r = anon.post("/verify", data={"credential_text": credential, "csrf_token": token})
        assert r.status_code == 200 and "This certificate is valid" in r.get_data(as_text=True)

        learner = _login(app, "a@lune.test")
        page = learner.get(f"/certificates/{cert_id}").get_data(as_text=True)
        assert "<svg" in page and f"/verify/{cert_id}" in page
        assert "Change its status" not in page  # learners cannot revoke
        assert _login(app, "b@lune.test").get(f"/certificates/{cert_id}").status_code == 404

        # Revocation needs the instructor's password again; another cohort's instructor: 404.
        token = _csrf(teacher, f"/certificates/{cert_id}")
        form = {"action": "suspend", "reason": "exam review", "csrf_token": token}
        assert teacher.post(f"/certificates/{cert_id}/status",
                            data=form | {"password": "wrong"}).status_code == 403  # fmt: skip
        other = _login(app, "inst2@lune.test")
        theirs = form | {"password": PASSWORD, "csrf_token": _csrf(other, "/certificates/issued")}
        assert other.post(f"/certificates/{cert_id}/status", data=theirs).status_code == 404
        assert teacher.post(f"/certificates/{cert_id}/status",
                            data=form | {"password": PASSWORD}).status_code == 303  # fmt: skip
        page = anon.get(f"/verify/{cert_id}").get_data(as_text=True)
        assert "suspended since" in page
        form["action"] = "reinstate"
        teacher.post(f"/certificates/{cert_id}/status", data=form | {"password": PASSWORD})
        assert "This certificate is valid" in anon.get(f"/verify/{cert_id}").get_data(as_text=True)
        form["action"] = "revoke"
        teacher.post(f"/certificates/{cert_id}/status", data=form | {"password": PASSWORD})
        assert "revoked since" in anon.get(f"/verify/{cert_id}").get_data(as_text=True)
        listed = anon.get("/status/revocation").json
        assert listed["credentialSubject"]["id"].endswith("/status/revocation/v3#list")

        # The cohort dashboard links to its certificates; each instructor sees their cohort's.
        cohort_page = teacher.get("/instruct/").get_data(as_text=True)
        assert "Paris 2027" in cohort_page
        mine_listed = teacher.get("/certificates/issued").get_data(as_text=True)
        assert "Alice Martin" in mine_listed and "Chloé Durand" not in mine_listed
        admin = _login(app, "admin@lune.test")
        assert "Chloé Durand" in admin.get("/certificates/issued").get_data(as_text=True)
        from web.models import Cohort

        lyon = db.session.query(Cohort).filter_by(name="Lyon 2027").one()
        only_lyon = admin.get(f"/certificates/issued?cohort={lyon.id}").get_data(as_text=True)
        assert "Chloé Durand" in only_lyon and "Alice Martin" not in only_lyon

        # Erasure: deleting C's account keeps C's certificate verifiable, with nothing personal.
        c = db.session.get(User, w.learner_c.id)
        email, name = c.email, c.name
        db.session.delete(c)
        db.session.commit()
        row = db.session.get(Certificate, cert_c_id)
        assert row.user_id is None
        assert "This certificate is valid" in anon.get(f"/verify/{cert_c_id}").get_data(
            as_text=True
        )
        # Every row of every table, on SQLite and PostgreSQL alike.
        dump = "\n".join(
            repr(tuple(row))
            for table in db.metadata.sorted_tables
            for row in db.session.execute(table.select())
        )
        assert email not in dump and name not in dump
        assert email not in json.dumps(json.loads(row.credential))
        listed = admin.get("/certificates/issued").get_data(as_text=True)
        assert "(account deleted)" in listed and name not in listed


def test_a_damaged_issuer_is_a_503_never_a_500(app, client, world):
    from web.errors import Unavailable
    from web.models import Course
    from web.services import certificates

    d = certificates.init_issuer("Lune Academy")
    (d.root / "keys" / "key-1.json").write_text("{not json")
    with pytest.raises(Unavailable, match="key-1.json is not a readable key file"):
        certificates.issue(world.learner_a, db.session.get(Course, "lune-101"), 90.0)
    assert client.get("/status/revocation").status_code == 503
    d.profile_path.write_text("[]")
    assert client.get("/issuer").status_code == 503
