"""Administration pages: users and roles, course sync, the platform's status."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import HiddenField

from web.errors import ServiceError
from web.security import role_required
from web.services import admin, catalog

bp = Blueprint("admin", __name__, url_prefix="/admin")


class ActionForm(FlaskForm):
    value = HiddenField("value")


@bp.route("/users")
@role_required("admin")
def users():
    q = request.args.get("q", "")
    return render_template("admin/users.html", users=admin.users(q), q=q, form=ActionForm())


@bp.route("/users/<int:user_id>/role", methods=["POST"])
@role_required("admin")
def set_role(user_id: int):
    form = ActionForm()
    if not form.validate_on_submit():
        raise ServiceError(_("The form expired: reload the page."))
    user = admin.set_role(current_user, user_id, form.value.data or "")
    flash(_("%(email)s is now %(role)s.", email=user.email, role=user.role), "success")
    return redirect(url_for("admin.users"), code=303)


@bp.route("/users/<int:user_id>/active", methods=["POST"])
@role_required("admin")
def set_active(user_id: int):
    form = ActionForm()
    if not form.validate_on_submit() or form.value.data not in ("0", "1"):
        raise ServiceError(_("The form expired: reload the page."))
    user = admin.set_active(current_user, user_id, form.value.data == "1")
    flash(_("%(email)s updated.", email=user.email), "success")
    return redirect(url_for("admin.users"), code=303)


@bp.route("/courses")
@role_required("admin")
def courses():
    return render_template(
        "admin/courses.html",
        courses=catalog.courses(),
        form=ActionForm(),
        courses_dir=current_app.config["COURSES_DIR"],
    )


@bp.route("/courses/sync", methods=["POST"])
@role_required("admin")
def sync():
    if not ActionForm().validate_on_submit():
        raise ServiceError(_("The form expired: reload the page."))
    synced = catalog.sync_courses(Path(current_app.config["COURSES_DIR"]))
    flash(_("Synced: %(ids)s.", ids=", ".join(synced)), "success")
    return redirect(url_for("admin.courses"), code=303)


@bp.route("/status")
@role_required("admin")
def status():
    return render_template("admin/status.html", status=admin.status())
