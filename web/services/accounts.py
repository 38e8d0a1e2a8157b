"""Accounts: registration, sign-in, passwords (Argon2id), reset and invitation links, API tokens."""

from __future__ import annotations

import re
import secrets
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from web.errors import NotFound, ServiceError
from web.extensions import db
from web.models import ApiToken, OneTimeToken, User
from web.models.types import utcnow
from web.models.users import LANGUAGES, ROLES
from web.security import end_all_sessions, token_digest

# OWASP's minimum for Argon2id: 19 MiB, 2 iterations, 1 lane.
HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
# Verified against when the email is unknown, so both paths cost the same.
_DUMMY_HASH = HASHER.hash("not a password of anyone")
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,189}\.[^@\s.]{2,}$")
MIN_PASSWORD = 10
MAX_PASSWORD = 256


def normalize_email(email: str) -> str:
    value = (email or "").strip().lower()
    if not EMAIL.match(value):
        raise ServiceError(_("“%(email)s” is not an email address.", email=email[:80]))
    return value


def check_password_rules(password: str, email: str = "") -> None:
    if len(password) < MIN_PASSWORD:
        raise ServiceError(_("The password needs at least %(n)d characters.", n=MIN_PASSWORD))
    if len(password) > MAX_PASSWORD:
        raise ServiceError(_("The password is longer than %(n)d characters.", n=MAX_PASSWORD))
    if email and password.lower() == email.lower():
        raise ServiceError(_("The password must not be your email address."))


def hash_password(password: str) -> str:
    return HASHER.hash(password)


def password_matches(user: User | None, password: str) -> bool:
    """Constant-work check; rehashes when the stored parameters are older than ours."""
    stored = user.password_hash if user is not None and user.password_hash else _DUMMY_HASH
    try:
        HASHER.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
    if user is None or not user.password_hash:
        return False
    if HASHER.check_needs_rehash(stored):
        user.password_hash = HASHER.hash(password)
        db.session.commit()
    return True


def find_user(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == (email or "").strip().lower()))


def create_user(
    email: str, name: str, password: str | None, role: str = "learner", language: str | None = None
) -> User:
    """A new account; `password` None leaves it to be set from an invitation link."""
    email = normalize_email(email)
    name = (name or "").strip()
    if not name or len(name) > 120:
        raise ServiceError(_("Please give a name of 1 to 120 characters."))
    if role not in ROLES:
        raise ServiceError(_("Unknown role %(role)s.", role=role))
    if language is not None and language not in LANGUAGES:
        raise ServiceError(_("Unknown language %(language)s.", language=language))
    if find_user(email) is not None:
        raise ServiceError(_("An account with this email address already exists."), status=409)
    user = User(email=email, name=name, role=role, language=language)
    if password is not None:
        check_password_rules(password, email)
        user.password_hash = hash_password(password)
    db.session.add(user)
    db.session.flush()
    return user


def authenticate(email: str, password: str) -> User | None:
    user = find_user(email)
    if not password_matches(user, password) or user is None or not user.active:
        return None
    return user


def change_password(user: User, current: str, new: str) -> None:
    if not password_matches(user, current):
        raise ServiceError(_("The current password is not right."))
    check_password_rules(new, user.email)
    user.password_hash = hash_password(new)
    db.session.commit()
    end_all_sessions(user, keep_current=True)


def set_language(user: User, language: str | None) -> None:
    if language not in (*LANGUAGES, None):
        raise ServiceError(_("Unknown language %(language)s.", language=language))
    user.language = language
    db.session.commit()


# --- mailed links ----------------------------------------------------------------------------


def issue_link_token(user: User, purpose: str) -> str:
    """A single-use token for a reset or invitation link; earlier ones of that purpose die."""
    if purpose == "reset":
        life = timedelta(minutes=int(current_app.config["RESET_TOKEN_MINUTES"]))
    else:
        life = timedelta(days=int(current_app.config["INVITE_TOKEN_DAYS"]))
    db.session.query(OneTimeToken).filter_by(
        user_id=user.id, purpose=purpose, used_at=None
    ).delete()
    token = secrets.token_urlsafe(32)
    db.session.add(
        OneTimeToken(
            user_id=user.id,
            purpose=purpose,
            token_hash=token_digest(token),
            expires_at=utcnow() + life,
        )
    )
    db.session.commit()
    return token


def user_for_link(token: str, purpose: str) -> tuple[User, OneTimeToken]:
    row = db.session.scalar(
        select(OneTimeToken).where(
            OneTimeToken.token_hash == token_digest(token or ""), OneTimeToken.purpose == purpose
        )
    )
    if row is None or row.used_at is not None or row.expires_at < utcnow():
        raise ServiceError(_("This link is invalid, already used or expired: ask for a new one."))
    return row.user, row


def set_password_from_link(token: str, purpose: str, new: str) -> User:
    user, row = user_for_link(token, purpose)
    check_password_rules(new, user.email)
    user.password_hash = hash_password(new)
    row.used_at = utcnow()
    db.session.commit()
    end_all_sessions(user)
    return user


# --- API tokens --------------------------------------------------------------------------------

TOKEN_PREFIX = "lune_"


def create_api_token(user: User, name: str) -> tuple[ApiToken, str]:
    """A new personal token; the plain text is returned once and never stored."""
    name = (name or "").strip() or _("token")
    if len(name) > 80:
        raise ServiceError(_("A token name has at most 80 characters."))
    plain = TOKEN_PREFIX + secrets.token_urlsafe(30)
    row = ApiToken(user_id=user.id, name=name, token_hash=token_digest(plain), prefix=plain[:12])
    db.session.add(row)
    db.session.commit()
    return row, plain


def revoke_api_token(user: User, token_id: int) -> None:
    row = db.session.get(ApiToken, token_id)
    if row is None or row.user_id != user.id:
        raise NotFound(_("No such token."))
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        db.session.commit()


def user_for_api_token(plain: str) -> User | None:
    row = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == token_digest(plain)))
    if row is None or row.revoked_at is not None or not row.user.active:
        return None
    row.last_used = utcnow()
    db.session.commit()
    return row.user


def api_tokens(user: User) -> list[ApiToken]:
    return list(
        db.session.scalars(
            select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())
        )
    )
