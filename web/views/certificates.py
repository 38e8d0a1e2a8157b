"""Certificates: public verification, the learner's certificate, the issuer's public documents,
and the instructors' list with revocation. Thin: the rules are in `web.services.certificates`."""

from __future__ import annotations

import json

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import PasswordField, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from web.errors import ServiceError
from web.extensions import limiter
from web.nav import add_nav
from web.security import role_required
from web.services import certificates as service

bp = Blueprint("certificates", __name__)

STEP_TITLES = {
    "json": lazy_gettext("JSON and contexts"),
    "signature": lazy_gettext("Signature (eddsa-rdfc-2022)"),
    "issuer_key": lazy_gettext("Issuer key"),
    "merkle": lazy_gettext("Merkle proof (merkle-proof-2019)"),
    "anchor": lazy_gettext("Anchor transaction"),
    "best_chain": lazy_gettext("Best chain"),
    "issuing_address": lazy_gettext("Issuing address"),
    "status": lazy_gettext("Status"),
    "validity": lazy_gettext("Validity window"),
}


@bp.record_once
def _menu(state) -> None:
    add_nav(state.app, "certificates.mine", lazy_gettext("My certificates"))
    add_nav(
        state.app,
        "certificates.issued",
        lazy_gettext("Certificates"),
        lambda user: bool(getattr(user, "is_instructor", False)),
    )


class VerifyForm(FlaskForm):
    credential_file = FileField("file")
    credential_text = TextAreaField("text")  # its size is checked by the service (413)


class StatusForm(FlaskForm):
    action = SelectField("action", choices=[SelectChoice(a, a) for a in service.ACTIONS])
    reason = TextAreaField("reason", validators=[DataRequired(), Length(max=2000)])
    password = PasswordField("password", validators=[DataRequired()])


def _json(data: dict) -> Response:
    return Response(
        json.dumps(data, indent=2, ensure_ascii=False) + "\n",
        mimetype="application/json",
        headers={"Access-Control-Allow-Origin": "*"},
    )


# --- public --------------------------------------------------------------


@bp.route("/verify", methods=["GET"])
def verify_form():
    return render_template("certificates/verify.html", form=VerifyForm(), report=None)


@bp.route("/verify", methods=["POST"])
@limiter.limit("30 per minute")  # canonicalizing JSON-LD costs CPU: bound what one client asks
def verify_upload():
    form = VerifyForm()
    if not form.validate_on_submit():
        raise ServiceError(_("Upload a certificate file or paste its JSON."))
    data: bytes | str = form.credential_text.data or ""
    upload = form.credential_file.data
    if upload and getattr(upload, "filename", ""):
        data = upload.read(service.MAX_UPLOAD + 1)
    if not data or (isinstance(data, str) and not data.strip()):
        raise ServiceError(_("Upload a certificate file or paste its JSON."))
    report = service.verify(data)
    return render_template(
        "certificates/verify.html", form=form, report=report, titles=STEP_TITLES
    ), (200 if report.ok else 422)


@bp.route("/verify/<cert_id>")
def verify_issued(cert_id: str):
    cert = service.get(cert_id)
    report = service.verify(cert.credential)
    return render_template(
        "certificates/verify.html", form=None, report=report, titles=STEP_TITLES, cert=cert
    )


@bp.route("/certificates/<cert_id>/credential.json")
def download(cert_id: str):
    cert = service.get(cert_id)
    response = Response(cert.credential, mimetype="application/json")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="lune-certificate-{cert.id}.json"'
    )
    return response


@bp.route("/issuer")
def issuer_profile():
    return _json(service.profile().to_json())


@bp.route("/status/<purpose>")
def status_list(purpose: str):
    return _json(service.status_list(purpose))


@bp.route("/status/<purpose>/v<int:version>")
def status_list_version(purpose: str, version: int):
    return _json(service.status_list(purpose, version))


# --- learners --------------------------------------------------------------


@bp.route("/certificates/")
@login_required
def mine():
    return render_template("certificates/mine.html", certificates=service.of_learner(current_user))


@bp.route("/certificates/<cert_id>")
@login_required
def show(cert_id: str):
    cert = service.for_viewer(current_user, cert_id)
    credential = json.loads(cert.credential)
    verify_url = url_for("certificates.verify_issued", cert_id=cert.id, _external=True)
    return render_template(
        "certificates/show.html",
        cert=cert,
        credential=credential,
        verify_url=verify_url,
        qr=service.qr_svg(verify_url),
        state=service.state(cert),
        form=StatusForm() if service.can_manage(current_user, cert) else None,
    )


# --- instructors --------------------------------------------------------------


@bp.route("/certificates/issued")
@role_required("instructor")
def issued():
    cohort = request.args.get("cohort", type=int)
    certs = service.managed_by(current_user, cohort)
    reg = service.registry() if certs else None
    rows = [(c, service.state(c, reg), service.learner_name(c)) for c in certs]
    return render_template(
        "certificates/issued.html", rows=rows, pending=len(service.pending()), form=FlaskForm()
    )


@bp.route("/certificates/anchor", methods=["POST"])
@role_required("instructor")
def anchor():
    if not FlaskForm().validate_on_submit():
        raise ServiceError(_("The form expired; please try again."))
    txid, count = service.anchor_pending()
    flash(_("%(n)s certificates anchored in transaction %(txid)s.", n=count, txid=txid), "success")
    return redirect(url_for("certificates.issued"), 303)


@bp.route("/certificates/<cert_id>/status", methods=["POST"])
@login_required
def change_status(cert_id: str):
    cert = service.for_viewer(current_user, cert_id)
    if not service.can_manage(current_user, cert):
        raise ServiceError(_("No certificate has this id."), 404)
    form = StatusForm()
    if not form.validate_on_submit():
        raise ServiceError(_("Choose an action, give a reason and re-enter your password."))
    service.change_status(
        current_user, cert.id, form.action.data, form.reason.data, form.password.data
    )
    flash(_("Status changed: the published status lists are updated."), "success")
    return redirect(url_for("certificates.show", cert_id=cert.id), 303)
