"""The portal's application factory: settings, extensions, blueprints, error pages, headers.

`create_app` has no side effects (no network, no files written, no prompts): the CLI creates the
instance folder and migrates the database before it serves.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask, request, session
from flask_login import current_user
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.middleware.proxy_fix import ProxyFix

from web import errors, nav, security
from web.extensions import babel, csrf, db, limiter, login_manager, migrate
from web.settings import SettingsError, load_settings

SUPPORTED_LANGUAGES = ("en", "fr")
MIGRATIONS = Path(__file__).with_name("migrations")
TRANSLATIONS = Path(__file__).with_name("translations")


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the portal. `config` overrides every other source of settings (tests use it)."""
    settings = load_settings(config)
    if not settings.get("SECRET_KEY"):
        raise SettingsError(
            "no SECRET_KEY: set LUNE_SECRET_KEY or run `lune portal init` to create "
            f"{settings['INSTANCE_PATH']}/secret_key"
        )
    app = Flask(__name__, instance_path=settings["INSTANCE_PATH"], instance_relative_config=False)
    app.config.update(settings)
    app.config.update(
        SQLALCHEMY_DATABASE_URI=settings["DATABASE_URL"],
        SQLALCHEMY_ENGINE_OPTIONS=_engine_options(settings["DATABASE_URL"]),
        MAX_CONTENT_LENGTH=int(settings["UPLOAD_MAX_BYTES"]) + 256 * 1024,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=bool(settings["SECURE_COOKIES"]),
        SESSION_COOKIE_NAME="lune_session",
        REMEMBER_COOKIE_SECURE=bool(settings["SECURE_COOKIES"]),
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session
        RATELIMIT_STORAGE_URI=settings["REDIS_URL"] or "memory://",
        # Redis down: count in this process rather than refuse every limited request.
        RATELIMIT_IN_MEMORY_FALLBACK_ENABLED=True,
        RATELIMIT_SWALLOW_ERRORS=True,
        RATELIMIT_HEADERS_ENABLED=True,
        BABEL_DEFAULT_LOCALE="en",
        BABEL_TRANSLATION_DIRECTORIES=str(TRANSLATIONS),
    )
    if config:
        app.config.update(config)
    if int(app.config["PROXY_FIX"]):
        n = int(app.config["PROXY_FIX"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]

    db.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS), render_as_batch=True)
    csrf.init_app(app)
    limiter.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    login_manager.init_app(app)
    security.init_app(app)
    errors.init_app(app)
    nav.init_app(app)

    from web.views import register_blueprints

    register_blueprints(app)
    app.jinja_env.globals["LANGUAGES"] = SUPPORTED_LANGUAGES
    return app


def select_locale() -> str:
    """The user's own choice, then the browser's Accept-Language, then English."""
    if current_user and getattr(current_user, "is_authenticated", False) and current_user.language:
        return current_user.language
    chosen = session.get("language")
    if chosen in SUPPORTED_LANGUAGES:
        return chosen
    return request.accept_languages.best_match(SUPPORTED_LANGUAGES) or "en"


def _engine_options(url: str) -> dict[str, Any]:
    if url.startswith("sqlite"):
        return {"connect_args": {"timeout": 30}}
    options: dict[str, Any] = {"pool_pre_ping": True}
    if url.startswith("postgresql"):
        # Server-side timestamps (CURRENT_TIMESTAMP) are stored without a zone: in UTC, always.
        options["connect_args"] = {"options": "-c timezone=UTC", "connect_timeout": 10}
    return options


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record) -> None:
    """SQLite: foreign keys on, WAL so readers never block the writer, a patient lock wait."""
    module = type(dbapi_connection).__module__
    if "sqlite" not in module:
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()
