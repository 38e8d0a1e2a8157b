"""Who may do what, and the headers every response carries.

Sessions: the cookie holds a random token whose SHA-256 names a `LoginSession` row; signing in
creates a new row (the session id changes at login), signing out deletes it, a password change
deletes all of the user's rows. Access rules are checked in the service layer; the decorators here
only say which role a whole view needs.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Flask, abort, session
from flask_login import current_user, login_user, logout_user
from sqlalchemy.orm import joinedload

from web.extensions import db, login_manager
from web.models import LoginSession, User

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def init_app(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    login_manager.session_protection = None  # the server-side session row is the protection
    app.after_request(_headers)


@login_manager.user_loader
def _load_user(token: str) -> User | None:
    if not token:
        return None
    # One query for the session row and its user: this runs on every signed-in request.
    row = db.session.get(LoginSession, token_digest(token), options=[joinedload(LoginSession.user)])
    if row is None or not row.user.active:
        return None
    user = row.user
    user.current_session_id = token
    return user


def _headers(response):
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if response.mimetype == "text/html":
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def start_session(user: User) -> None:
    """Sign `user` in with a brand-new session (old cookie contents are dropped)."""
    session.clear()
    token = secrets.token_urlsafe(32)
    db.session.add(LoginSession(id=token_digest(token), user_id=user.id))
    db.session.commit()
    user.current_session_id = token
    login_user(user)
    session.permanent = False


def end_session() -> None:
    """Sign out: the session row is deleted, so a copy of the cookie is worthless."""
    token = getattr(current_user, "current_session_id", None)
    if token:
        db.session.query(LoginSession).filter_by(id=token_digest(token)).delete()
        db.session.commit()
    logout_user()
    session.clear()


def end_all_sessions(user: User, keep_current: bool = False) -> None:
    """After a password change or reset: every other browser of `user` is signed out."""
    query = db.session.query(LoginSession).filter_by(user_id=user.id)
    token = getattr(user, "current_session_id", None)
    if keep_current and token:
        query = query.filter(LoginSession.id != token_digest(token))
    query.delete()
    db.session.commit()


def role_required(*roles: str) -> Callable:
    """The view needs a signed-in user with one of `roles` (admin passes every role check)."""

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in roles and current_user.role != "admin":
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorate
