"""Errors, handled in one place: HTML for pages, JSON for the API; never a 500 for bad input.

Services raise `ServiceError` subclasses with a message meant for the user; views let them
propagate and this module turns them into the right status code.
"""

from __future__ import annotations

from flask import Flask, jsonify, make_response, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError


class ServiceError(Exception):
    """A request the rules refuse; `status` is its HTTP code, the message is for the user."""

    status = 400

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        if status is not None:
            self.status = status

    @property
    def message(self) -> str:
        return str(self.args[0])


class NotFound(ServiceError):
    status = 404


class Forbidden(ServiceError):
    status = 403


class Conflict(ServiceError):
    status = 409


class Unavailable(ServiceError):
    """A backing service (database, queue, node) is down: 503 with Retry-After."""

    status = 503


def wants_json() -> bool:
    if request.path.startswith("/api/"):
        return True
    accept = request.accept_mimetypes
    return accept["application/json"] > accept["text/html"]


def _respond(status: int, message: str, title: str):
    if wants_json():
        response = jsonify({"error": message, "status": status})
    else:
        page = render_template("errors/error.html", status=status, title=title, message=message)
        response = make_response(page)
    response.status_code = status
    if status in (503, 429):
        response.headers.setdefault("Retry-After", "30")
    return response


_TITLES = {
    400: _l("Bad request"),
    401: _l("Please sign in"),
    403: _l("Not allowed"),
    404: _l("Not found"),
    405: _l("Method not allowed"),
    409: _l("Conflict"),
    413: _l("Too large"),
    429: _l("Too many requests"),
    500: _l("Error"),
    503: _l("Temporarily unavailable"),
}


def _deepest_frame_in(exc: BaseException, path: str) -> bool:
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return tb is not None and path in tb.tb_frame.f_code.co_filename.replace("\\", "/")


def _lost_database(exc: BaseException | None) -> bool:
    """The connection to the database went away under this request (a restart, a failover):
    the driver's or SQLAlchemy's several ways of saying so. Bugs (integrity, SQL) stay 500."""
    from sqlalchemy import exc as sa

    if isinstance(exc, sa.DBAPIError):
        # No statement: it failed while checking out, pinging or resetting a connection.
        if exc.connection_invalidated or exc.statement is None:
            return True
        return isinstance(exc, sa.OperationalError | sa.InterfaceError)
    if isinstance(
        exc,
        sa.DisconnectionError | sa.ResourceClosedError | sa.PendingRollbackError | sa.TimeoutError,
    ):
        return True
    if isinstance(exc, NotImplementedError) and _deepest_frame_in(exc, "sqlalchemy/engine/"):
        # A result whose cursor vanished with its connection (SQLAlchemy's "no metadata" case,
        # seen when the server shuts down mid-query).
        return True
    try:
        import psycopg
    except ImportError:  # pragma: no cover - SQLite-only installs
        return False
    # SQLAlchemy wraps every statement's error; a bare driver error escaped from the pool while
    # it checked or reset a connection (e.g. one the restarted server had dropped).
    return isinstance(exc, psycopg.Error)


def init_app(app: Flask) -> None:
    @app.errorhandler(ServiceError)
    def service_error(exc: ServiceError):
        return _respond(exc.status, exc.message, str(_TITLES.get(exc.status, _TITLES[500])))

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        code = exc.code or 500
        if code == 413:
            limit = app.config["UPLOAD_MAX_BYTES"] // (1024 * 1024)
            message = _("The upload is larger than %(limit)s MiB.", limit=limit)
        elif code == 429:
            message = _("Too many attempts: wait a minute and try again.")
        elif code == 400 and "CSRF" in (exc.description or ""):
            message = _(
                "The form expired or did not come from this site: reload the page and try again."
            )
        else:
            message = exc.description or ""
        return _respond(code, message, str(_TITLES.get(code, _TITLES[500])))

    @app.errorhandler(OperationalError)
    def database_down(exc: OperationalError):
        app.logger.error("database unavailable: %s", exc)
        return _respond(
            503, _("The database is unavailable: try again shortly."), _("Temporarily unavailable")
        )

    @app.errorhandler(InternalServerError)
    def internal(exc: InternalServerError):
        if _lost_database(exc.original_exception):
            return database_down(exc.original_exception)
        app.logger.exception("internal error", exc_info=exc.original_exception)
        return _respond(500, _("Something went wrong on our side."), _("Error"))
