"""Certification and practice quizzes: start or resume, answer (autosaved), check, submit,
review; for instructors the item statistics, their CSV and essay grading."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from web.errors import ServiceError
from web.services import catalog, certify, charts

bp = Blueprint("certify", __name__, url_prefix="/certify")


# web.quiz.stats flags, as the statistics page names them.
FLAG_LABELS = {
    "very-hard": _l("very hard (facility below 10%)"),
    "very-easy": _l("very easy (facility above 90%)"),
    "negative-discrimination": _l("negative discrimination: check the key"),
    "weak-discrimination": _l("weak discrimination (below 20)"),
    "low-efficiency": _l("low discriminative efficiency (below 15)"),
}


class ActionForm(FlaskForm):
    """CSRF only: every form of this area is a button or carries its own fields."""


def _form_answers(attempt) -> dict[str, object]:
    """Answers from an HTML form: `q<position>` (one value or several) and `q<pos>-<stem>`."""
    answers: dict[str, object] = {}
    for row in attempt.slots:
        name = f"q{row.position}"
        values = request.form.getlist(name)
        stems = {
            key.split("-", 1)[1]: value
            for key, value in request.form.items()
            if key.startswith(name + "-") and value != ""
        }
        if stems:
            answers[str(row.position)] = stems
        elif len(values) > 1 or request.form.get("many-" + name):
            answers[str(row.position)] = values
        elif values and values[0] != "":
            answers[str(row.position)] = values[0]
    return answers


def _require_form() -> None:
    if not ActionForm().validate_on_submit():
        raise ServiceError(_("The form expired: reload the page and try again."))


@bp.route("/<course_id>/")
@login_required
def index(course_id: str):
    course = catalog.get_course(course_id)
    cert, practice = certify.quizzes_for(current_user, course)
    return render_template(
        "certify/index.html", course=course, cert=cert, practice=practice, form=ActionForm()
    )


@bp.route("/<course_id>/<quiz_id>/start", methods=["POST"])
@login_required
def start(course_id: str, quiz_id: str):
    _require_form()
    attempt = certify.start_attempt(current_user, course_id, quiz_id)
    return redirect(url_for("certify.attempt", attempt_id=attempt.id), code=303)


@bp.route("/attempts/<int:attempt_id>")
@login_required
def attempt(attempt_id: int):
    attempt, cq = certify.get_attempt(current_user, attempt_id)
    view = certify.attempt_view(current_user, attempt, cq)
    return render_template("certify/attempt.html", view=view, form=ActionForm())


@bp.route("/attempts/<int:attempt_id>/state")
@login_required
def state(attempt_id: int):
    attempt, cq = certify.get_attempt(current_user, attempt_id)
    view = certify.attempt_view(current_user, attempt, cq)
    return jsonify(finished=attempt.finished, remaining_seconds=view.remaining_seconds)


@bp.route("/attempts/<int:attempt_id>/answers", methods=["POST"])
@login_required
def answers(attempt_id: int):
    if request.is_json:
        body = request.get_json(silent=True)
        given = body.get("answers") if isinstance(body, dict) else None
        if not isinstance(given, dict):
            raise ServiceError(_("No answer was sent."))
        attempt = certify.save_answers(current_user, attempt_id, given)
        return jsonify(saved=len(given), finished=attempt.finished)
    _require_form()
    attempt, _cq = certify.get_attempt(current_user, attempt_id)
    certify.save_answers(current_user, attempt_id, _form_answers(attempt))
    return redirect(url_for("certify.attempt", attempt_id=attempt_id), code=303)


@bp.route("/attempts/<int:attempt_id>/check/<int:position>", methods=["POST"])
@login_required
def check(attempt_id: int, position: int):
    _require_form()
    attempt, _cq = certify.get_attempt(current_user, attempt_id)
    given = {k: v for k, v in _form_answers(attempt).items() if k == str(position)}
    if given:
        certify.save_answers(current_user, attempt_id, given)
    certify.check_question(current_user, attempt_id, position)
    url = url_for("certify.attempt", attempt_id=attempt_id, _anchor=f"q{position}")
    return redirect(url, code=303)


@bp.route("/attempts/<int:attempt_id>/submit", methods=["POST"])
@login_required
def submit(attempt_id: int):
    _require_form()
    attempt, _cq = certify.get_attempt(current_user, attempt_id)
    given = _form_answers(attempt) if attempt.user_id == current_user.id else {}
    if given and not attempt.finished:
        unchecked = {k: v for k, v in given.items() if not attempt.slots[int(k)].checked_at}
        if unchecked:
            certify.save_answers(current_user, attempt_id, unchecked)
    certify.submit(current_user, attempt_id)
    return redirect(url_for("certify.attempt", attempt_id=attempt_id), code=303)


@bp.route("/<course_id>/<quiz_id>/stats")
@login_required
def stats(course_id: str, quiz_id: str):
    cq = certify.course_quizzes(course_id)
    stats, types = certify.statistics(current_user, course_id, quiz_id)
    quiz = cq.quiz(quiz_id)
    chart = charts.histogram(
        [p / 100 for p in stats.percents],
        title=_("Score distribution: %(m)s", m=quiz.localized_title(certify.language())),
    )
    flagged = [q for q in stats.questions if q.flags]
    return render_template(
        "certify/stats.html",
        course_id=course_id,
        quiz=quiz,
        title=quiz.localized_title(certify.language()),
        stats=stats,
        types=types,
        flagged=flagged,
        flag_labels=FLAG_LABELS,
        chart=chart,
    )


@bp.route("/<course_id>/<quiz_id>/stats.csv")
@login_required
def stats_csv(course_id: str, quiz_id: str):
    body = certify.statistics_csv(current_user, course_id, quiz_id)
    name = f"{course_id}-{quiz_id}-item-statistics.csv"
    return Response(
        body,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@bp.route("/<course_id>/<quiz_id>/essays")
@login_required
def essays(course_id: str, quiz_id: str):
    items = certify.essays(current_user, course_id, quiz_id)
    quiz = certify.course_quizzes(course_id).quiz(quiz_id)
    return render_template(
        "certify/essays.html",
        course_id=course_id,
        quiz=quiz,
        title=quiz.localized_title(certify.language()),
        items=items,
        form=ActionForm(),
    )


@bp.route("/slots/<int:slot_id>/grade", methods=["POST"])
@login_required
def grade(slot_id: int):
    _require_form()
    grade = certify.grade_essay(
        current_user, slot_id, request.form.get("mark", ""), request.form.get("reason", "")
    )
    attempt = grade.slot.attempt
    url = url_for("certify.essays", course_id=attempt.course_id, quiz_id=attempt.quiz_id)
    return redirect(url, code=303)
