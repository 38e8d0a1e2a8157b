"""The instructor's side: cohorts, invitations, due dates, the dashboard, overrides, exports."""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from web.errors import ServiceError
from web.security import role_required
from web.services import catalog, charts, dashboard
from web.services import cohorts as cohort_service

bp = Blueprint("instruct", __name__, url_prefix="/instruct")


class CohortForm(FlaskForm):
    name = StringField("name", validators=[DataRequired(), Length(max=120)])
    course_id = SelectField("course", choices=[])


class ImportForm(FlaskForm):
    csv_file = FileField("csv")


class DueForm(FlaskForm):
    pass


class OverrideForm(FlaskForm):
    score = StringField("score", validators=[DataRequired(), Length(max=20)])
    reason = TextAreaField("reason", validators=[DataRequired(), Length(max=2000)])


class ActionForm(FlaskForm):
    target = HiddenField("target")


@bp.route("/")
@role_required("instructor")
def cohorts():
    form = CohortForm()
    form.course_id.choices = [SelectChoice(c.id, c.title) for c in catalog.courses()]
    return render_template(
        "instruct/cohorts.html", cohorts=cohort_service.cohorts_taught(current_user), form=form
    )


@bp.route("/cohorts", methods=["POST"])
@role_required("instructor")
def create_cohort():
    form = CohortForm()
    form.course_id.choices = [SelectChoice(c.id, c.title) for c in catalog.courses()]
    if not form.validate_on_submit():
        raise ServiceError(_("Please give the cohort a name and choose its course."))
    cohort = cohort_service.create_cohort(current_user, form.course_id.data, form.name.data)
    flash(_("Cohort %(name)s created.", name=cohort.name), "success")
    return redirect(url_for("instruct.cohort", cohort_id=cohort.id), code=303)


@bp.route("/cohorts/<int:cohort_id>")
@role_required("instructor")
def cohort(cohort_id: int):
    c = cohort_service.cohort_for_instructor(current_user, cohort_id)
    module_slug = request.args.get("module", "")
    state = request.args.get("state", "")
    sort = request.args.get("sort", "name")
    g = dashboard.grid(c, module_slug=module_slug, state=state, sort=sort)
    dues = cohort_service.due_dates(c.id)
    return render_template(
        "instruct/cohort.html",
        cohort=c,
        grid=g,
        dues=dues,
        invite_link=cohort_service.invite_link(c),
        filters={"module": module_slug, "state": state, "sort": sort},
        states=dashboard.CELL_STATES,
        import_form=ImportForm(),
        due_form=DueForm(),
        action_form=ActionForm(),
    )


@bp.route("/cohorts/<int:cohort_id>/modules/<module_id>")
@role_required("instructor")
def module_stats(cohort_id: int, module_id: str):
    c = cohort_service.cohort_for_instructor(current_user, cohort_id)
    module = catalog.get_module(c.course_id, module_id)
    g = dashboard.grid(c)
    exercises, fractions = dashboard.module_stats(g, module)
    chart = charts.histogram(fractions, title=_("Score distribution: %(m)s", m=module.title))
    return render_template(
        "instruct/module_stats.html",
        cohort=c,
        module=module,
        exercises=exercises,
        chart=chart,
        count=len(fractions),
        action_form=ActionForm(),
    )


@bp.route("/cohorts/<int:cohort_id>/invite-code", methods=["POST"])
@role_required("instructor")
def new_code(cohort_id: int):
    c = cohort_service.cohort_for_instructor(current_user, cohort_id)
    if not ActionForm().validate_on_submit():
        raise ServiceError(_("The form expired: reload the page."))
    cohort_service.regenerate_code(c)
    flash(
        _("New invite code: %(code)s (the old one no longer works).", code=c.invite_code), "success"
    )
    return redirect(url_for("instruct.cohort", cohort_id=c.id), code=303)


@bp.route("/cohorts/<int:cohort_id>/import", methods=["POST"])
@role_required("instructor")
def import_learners(cohort_id: int):
    c = cohort_service.cohort_for_instructor(current_user, cohort_id)
    form = ImportForm()
    file = request.files.get("csv_file")
    if not form.validate_on_submit() or file is None or not file.filename:
        raise ServiceError(_("Choose a CSV file of name,email rows."))
    report = cohort_service.import_csv(c, file.read(1024 * 1024 + 1))
    return render_template("instruct/import_report.html", cohort=c, report=report)


@bp.route("/cohorts/<int:cohort_id>/due-dates", methods=["POST"])
@role_required("instructor")
def due_dates(cohort_id: int):
    c = cohort_service.cohort_for_instructor(current_user, cohort_id)
    if not DueForm().validate_on_submit():
        raise ServiceError(_("The form expired: reload the page."))
    parsed = []
    for m in catalog.active_modules(c.course):
        parsed.append((m, cohort_service.parse_due(request.form.get(f"due-{m.slug}", ""))))
    for m, when in parsed:  # all parsed first: one bad date changes nothing
        cohort_service.set_due_date(c, m, when)
    flash(_("Due dates saved."), "success")
    return redirect(url_for("instruct.cohort", cohort_id=c.id), code=303)


@bp.route("/cohorts/<int:cohort_id>/submissions/<int:submission_id>", methods=["GET"])
@role_required("instructor")
def submission(cohort_id: int, submission_id: int):
    c = cohort_service.cohort_for_instructor(current_user, cohort_id)
    sub = dashboard.submission_in_cohort(c, submission_id)
    return render_template(
        "instruct/submission.html", cohort=c, sub=sub, form=OverrideForm(), action_form=ActionForm()
    )


@bp.route("/cohorts/<int:cohort_id>/submissions/<int:submission_id>/override", methods=["POST"])
@role_required("instructor")
def override(cohort_id: int, submission_id: int):
    c = cohort_service.cohort_for_instructor(current_user, cohort_id)
    sub = dashboard.submission_in_cohort(c, submission_id)
    form = OverrideForm()
    if not form.validate_on_submit():
        raise ServiceError(_("An override needs a score and a reason."))
    dashboard.override(current_user, sub, form.score.data, form.reason.data)
    flash(_("Score overridden; the change is in the audit trail."), "success")
    return redirect(url_for("instruct.submission", cohort_id=c.id, submission_id=sub.id), code=303)


@bp.route("/cohorts/<int:cohort_id>/regrade", methods=["POST"])
@role_required("instructor")
def regrade(cohort_id: int):
    c = cohort_service.cohort_for_instructor(current_user, cohort_id)
    form = ActionForm()
    if not form.validate_on_submit():
        raise ServiceError(_("The form expired: reload the page."))
    kind, _sep, value = (form.target.data or "").partition(":")
    if kind == "submission" and value.isdigit():
        n = dashboard.regrade_cohort(c, submission=dashboard.submission_in_cohort(c, int(value)))
    elif kind == "learner" and value.isdigit():
        n = dashboard.regrade_cohort(c, learner_id=int(value))
    elif kind == "module" and value:
        n = dashboard.regrade_cohort(c, module=catalog.get_module(c.course_id, value))
    else:
        raise ServiceError(_("Nothing to regrade: unknown target."))
    flash(_("%(n)d submission(s) queued for regrading.", n=n), "success")
    return redirect(
        request.referrer
        if _local(request.referrer)
        else url_for("instruct.cohort", cohort_id=c.id),
        code=303,
    )


def _local(url: str | None) -> bool:
    return bool(url) and url.startswith(request.host_url)


@bp.route("/cohorts/<int:cohort_id>/grades.<fmt>")
@role_required("instructor")
def export(cohort_id: int, fmt: str):
    c = cohort_service.cohort_for_instructor(current_user, cohort_id)
    g = dashboard.grid(c)
    name = f"{c.course_id}-cohort-{c.id}-grades"
    if fmt == "csv":
        body, mime = dashboard.export_csv(g), "text/csv"
    elif fmt == "json":
        body, mime = dashboard.export_json(g), "application/json"
    else:
        raise ServiceError(_("Export formats: csv or json."), 404)
    return Response(
        body, mimetype=mime, headers={"Content-Disposition": f'attachment; filename="{name}.{fmt}"'}
    )
