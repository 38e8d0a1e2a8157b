"""The JSON API for `lune submit`: personal bearer tokens, CSRF-exempt (no cookies are read)."""

from __future__ import annotations

from flask import Blueprint, jsonify, request, url_for
from flask_babel import gettext as _

from web.errors import ServiceError
from web.extensions import csrf, limiter
from web.models import User
from web.services import accounts, catalog, submissions

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)


def _token_user() -> User:
    header = request.headers.get("Authorization", "")
    scheme, _sep, token = header.partition(" ")
    user = accounts.user_for_api_token(token.strip()) if scheme.lower() == "bearer" else None
    if user is None:
        raise ServiceError(
            _("A valid personal API token is required (Authorization: Bearer …)."), 401
        )
    return user


def _token_key() -> str:
    return "token:" + request.headers.get("Authorization", "")[-16:]


@bp.route("/me")
def me():
    user = _token_user()
    return jsonify({"email": user.email, "name": user.name, "role": user.role})


@bp.route("/courses/<course_id>/modules/<module_id>/submissions", methods=["POST"])
@limiter.limit("20 per minute", key_func=_token_key)
def submit(course_id: str, module_id: str):
    user = _token_user()
    module = catalog.get_module(course_id, module_id)
    file = request.files.get("notebook")
    data = file.read() if file is not None else request.get_data()
    name = file.filename if file is not None and file.filename else f"{module.slug}.ipynb"
    sub = submissions.accept_upload(user, module, name, data, via="api")
    body = submissions.status_of(sub).to_dict()
    body["url"] = url_for("submissions.show", submission_id=sub.id, _external=True)
    response = jsonify(body)
    response.status_code = 202
    response.headers["Location"] = url_for("api.submission", submission_id=sub.id)
    return response


@bp.route("/submissions/<int:submission_id>")
def submission(submission_id: int):
    user = _token_user()
    sub = submissions.get_for(user, submission_id)
    body = submissions.status_of(sub).to_dict()
    if sub.result is not None:
        body["late_penalty"] = sub.result.late_penalty
        body["exercises"] = [
            {
                k: ex.get(k)
                for k in ("function", "score", "max_score", "checks_passed", "checks_total")
            }
            for ex in sub.result.exercises
        ]
        body["message"] = sub.result.message
    return jsonify(body)
