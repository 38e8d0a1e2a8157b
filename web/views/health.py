"""`/healthz`: what a load balancer or an operator asks of a portal process (JSON, no auth).

200 while the database answers (the queue being down only degrades it: uploads are still taken,
the sweep queues them later); 503 when the database does not answer.
"""

from __future__ import annotations

from flask import Blueprint, jsonify
from sqlalchemy import text

from web.extensions import db, limiter
from web.services import jobs

bp = Blueprint("health", __name__)


@bp.route("/healthz")
@limiter.exempt
def healthz():
    report = {"database": "ok", "queue": "ok"}
    status = 200
    try:
        db.session.execute(text("SELECT 1"))
    except Exception as exc:  # any failure to reach it is "down", with its reason
        db.session.rollback()
        report["database"] = f"down: {type(exc).__name__}"
        status = 503
    depth = jobs.pending_count()
    if depth < 0:
        report["queue"] = "down"
    else:
        report["queue_depth"] = depth
    report["status"] = (
        "ok" if status == 200 and depth >= 0 else ("degraded" if status == 200 else "down")
    )
    response = jsonify(report)
    response.status_code = status
    return response
