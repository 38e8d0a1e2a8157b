"""Helpers shared by the portal's tests (imported by name: a conftest cannot be imported)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
COURSES = ROOT / "courses"
PASSWORD = "correct horse battery"


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
