"""Sessions, CSRF, rate limits and headers, as an attacker or a careless browser would meet them."""

from __future__ import annotations

import re

import pytest
from portalkit import PASSWORD, csrf_token


def _session_cookie(client) -> str | None:
    cookie = client.get_cookie("lune_session")
    return cookie.value if cookie else None


def test_a_post_without_or_with_a_wrong_csrf_token_is_400(client, world):
    r = client.post("/login", data={"email": "a@lune.test", "password": PASSWORD})
    assert r.status_code == 400
    r = client.post(
        "/login", data={"email": "a@lune.test", "password": PASSWORD, "csrf_token": "forged"}
    )
    assert r.status_code == 400
    assert "reload the page" in r.get_data(as_text=True)


def test_the_session_changes_at_login_and_dies_at_logout(app, client, world, auth):
    client.get("/login")
    before = _session_cookie(client)
    assert auth.login("a@lune.test").status_code == 302
    after = _session_cookie(client)
    assert after and after != before
    stolen = after
    assert client.get("/account").status_code == 200
    auth.logout()
    # A copy of the old cookie is worthless once signed out: the session row is gone.
    thief = app.test_client()
    thief.set_cookie("lune_session", stolen)
    assert thief.get("/account").status_code == 302


def test_a_password_change_signs_out_the_other_browsers(app, client, world, auth):
    other = app.test_client()
    auth.login("a@lune.test", client=other)
    auth.login("a@lune.test")
    token = csrf_token(client, "/account")
    r = client.post(
        "/account/password",
        data={"current": PASSWORD, "password": "a new passphrase!", "csrf_token": token},
    )
    assert r.status_code == 303
    assert client.get("/account").status_code == 200  # this browser stays signed in
    assert other.get("/account").status_code == 302


def test_the_eleventh_failed_login_in_a_minute_is_429(app_factory, world):
    app = app_factory(RATELIMIT_ENABLED=True)
    client = app.test_client()
    statuses = []
    for _ in range(11):
        token = csrf_token(client, "/login")
        r = client.post(
            "/login",
            data={"email": "a@lune.test", "password": "wrong password", "csrf_token": token},
        )
        statuses.append(r.status_code)
    assert statuses[:10] == [401] * 10
    assert statuses[10] == 429
    # Another address is limited per account too: the account is what is protected.
    other = app.test_client()
    token = csrf_token(other, "/login")
    r = other.post(
        "/login",
        data={"email": "a@lune.test", "password": PASSWORD, "csrf_token": token},
        environ_base={"REMOTE_ADDR": "10.0.0.9"},
    )
    assert r.status_code == 429


def test_security_headers_on_every_page(client):
    r = client.get("/login")
    csp = r.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["X-Frame-Options"] == "DENY"
    cookie = r.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_no_inline_script_in_any_template():
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "web" / "templates"
    offenders = []
    for page in root.rglob("*.html"):
        text = page.read_text()
        for match in re.finditer(r"<script(?P<attrs>[^>]*)>(?P<body>.*?)</script>", text, re.S):
            if "src=" not in match.group("attrs") or match.group("body").strip():
                offenders.append(str(page.relative_to(root)))
        if re.search(r"\son[a-z]+\s*=", text):
            offenders.append(f"{page.relative_to(root)} (event handler attribute)")
    assert not offenders, offenders


def test_login_never_redirects_off_site(client, world):
    token = csrf_token(client, "/login")
    r = client.post(
        "/login?next=//evil.example/",
        data={"email": "a@lune.test", "password": PASSWORD, "csrf_token": token},
    )
    assert r.status_code == 302 and r.headers["Location"] == "/"


@pytest.mark.parametrize("email", ["", "not-an-email", "a@b", "x" * 300 + "@lune.test"])
def test_registration_refuses_bad_addresses(client, email):
    token = csrf_token(client, "/register")
    r = client.post(
        "/register",
        data={"name": "X", "email": email, "password": "long enough pw", "csrf_token": token},
    )
    assert r.status_code == 400


def test_password_reset_is_single_use_and_mailed_to_the_outbox(app, client, world):
    from pathlib import Path

    token = csrf_token(client, "/reset")
    assert (
        client.post("/reset", data={"email": "a@lune.test", "csrf_token": token}).status_code == 302
    )
    # Unknown addresses get the same answer and no mail.
    client.post("/reset", data={"email": "nobody@lune.test", "csrf_token": token})
    mails = list((Path(app.config["INSTANCE_PATH"]) / "outbox").glob("*.eml"))
    assert len(mails) == 1
    link = re.search(r"http://\S+/reset/(\S+)", mails[0].read_text()).group(1)
    page = client.get(f"/reset/{link}")
    assert page.status_code == 200
    token = csrf_token(client, f"/reset/{link}")
    r = client.post(
        f"/reset/{link}", data={"password": "brand new passphrase", "csrf_token": token}
    )
    assert r.status_code == 302
    assert client.get(f"/reset/{link}").status_code == 400  # used
