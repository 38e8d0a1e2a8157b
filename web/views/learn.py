"""The learner's side: course map, module pages (lesson, download, upload), progress."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from web.errors import ServiceError
from web.extensions import limiter
from web.services import catalog, charts, cohorts, submissions
from web.services.progress import course_progress

bp = Blueprint("learn", __name__, url_prefix="/learn")


class UploadForm(FlaskForm):
    notebook = FileField("notebook")


class JoinForm(FlaskForm):
    code = StringField("code", validators=[DataRequired(), Length(max=32)])


@bp.route("/")
@login_required
def courses():
    items = [(c, course_progress(current_user, c)) for c in catalog.courses()]
    return render_template("learn/courses.html", items=items, join_form=JoinForm())


@bp.route("/join", methods=["POST"])
@login_required
def join():
    form = JoinForm()
    if not form.validate_on_submit():
        flash(_("Please type the invite code your instructor gave you."), "error")
        return redirect(url_for("learn.courses")), 303
    cohort = cohorts.join(current_user, form.code.data)
    flash(_("You joined %(name)s.", name=cohort.name), "success")
    return redirect(url_for("learn.course", course_id=cohort.course_id)), 303


@bp.route("/<course_id>/")
@login_required
def course(course_id: str):
    course = catalog.get_course(course_id)
    return render_template(
        "learn/course.html", course=course, progress=course_progress(current_user, course)
    )


@bp.route("/<course_id>/<module_id>")
@login_required
def module(course_id: str, module_id: str):
    course = catalog.get_course(course_id)
    module = catalog.get_module(course_id, module_id)
    progress = course_progress(current_user, course)
    mine = next(m for m in progress.modules if m.module.id == module.id)
    return render_template(
        "learn/module.html",
        course=course,
        module=module,
        mine=mine,
        attempts=list(reversed(submissions.attempts(current_user.id, module.id))),
        form=UploadForm(),
    )


@bp.route("/<course_id>/<module_id>/notebook")
@login_required
def download(course_id: str, module_id: str):
    module = catalog.get_module(course_id, module_id)
    return Response(
        module.release_notebook,
        mimetype="application/x-ipynb+json",
        headers={"Content-Disposition": f'attachment; filename="{module.slug}.ipynb"'},
    )


def _learner_key() -> str:
    return f"upload:{current_user.id}" if current_user.is_authenticated else "upload:anonymous"


@bp.route("/<course_id>/<module_id>/submit", methods=["POST"])
@login_required
@limiter.limit(lambda: current_app.config["UPLOAD_LIMIT"], key_func=_learner_key)
def upload(course_id: str, module_id: str):
    module = catalog.get_module(course_id, module_id)
    form = UploadForm()
    if not form.validate_on_submit():
        raise ServiceError(_("The form expired: reload the page and upload again."))
    file = request.files.get("notebook")
    if file is None or not file.filename:
        raise ServiceError(_("Choose a notebook file (.ipynb) to upload."))
    sub = submissions.accept_upload(current_user, module, file.filename, file.read())
    return redirect(url_for("submissions.show", submission_id=sub.id), code=303)


@bp.route("/<course_id>/progress")
@login_required
def progress(course_id: str):
    course = catalog.get_course(course_id)
    prog = course_progress(current_user, course)
    chart = charts.bar_chart(
        [(m.module.slug[:2], m.fraction) for m in prog.modules],
        title=_("Score per module"),
        threshold=course.pass_mark / 100.0,
        threshold_label=_("pass mark %(p)s%%", p=f"{course.pass_mark:g}"),
    )
    return render_template("learn/progress.html", course=course, progress=prog, chart=chart)
