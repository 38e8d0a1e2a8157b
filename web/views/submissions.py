"""A submission's page: queue position while it waits, then score, late penalty and feedback."""

from __future__ import annotations

from flask import Blueprint, jsonify, render_template
from flask_login import current_user, login_required

from web.services import submissions
from web.services.progress import course_progress

bp = Blueprint("submissions", __name__, url_prefix="/submissions")


@bp.route("/<int:submission_id>")
@login_required
def show(submission_id: int):
    sub = submissions.get_for(current_user, submission_id)
    status = submissions.status_of(sub)
    course = sub.module.course
    counting_id = None
    if sub.user_id == current_user.id:
        counting_id = next(
            (
                m.counting_id
                for m in course_progress(current_user, course).modules
                if m.module.id == sub.module_id
            ),
            None,
        )
    return render_template(
        "submissions/show.html", sub=sub, status=status, course=course, counting_id=counting_id
    )


@bp.route("/<int:submission_id>/status")
@login_required
def status(submission_id: int):
    sub = submissions.get_for(current_user, submission_id)
    return jsonify(submissions.status_of(sub).to_dict())
