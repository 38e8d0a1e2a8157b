"""Sign-up, sign-in and out, password reset, account settings and personal API tokens."""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from web.errors import ServiceError
from web.extensions import db, limiter
from web.security import end_session, start_session
from web.services import accounts, cohorts, mail

bp = Blueprint("auth", __name__)


class RegisterForm(FlaskForm):
    name = StringField(_l("Your name"), validators=[DataRequired(), Length(max=120)])
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password (at least 10 characters)"), validators=[DataRequired()])
    invite_code = StringField(_l("Cohort invite code (optional)"), validators=[Length(max=32)])


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired()])


class ResetRequestForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])


class NewPasswordForm(FlaskForm):
    password = PasswordField(
        _l("New password (at least 10 characters)"), validators=[DataRequired()]
    )


class ChangePasswordForm(FlaskForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired()])
    password = PasswordField(
        _l("New password (at least 10 characters)"), validators=[DataRequired()]
    )


class LanguageForm(FlaskForm):
    language = SelectField(
        _l("Language"),
        choices=[
            SelectChoice("", _l("As my browser says")),
            SelectChoice("en", "English"),
            SelectChoice("fr", "Français"),
        ],
    )


class TokenForm(FlaskForm):
    name = StringField(_l("Token name"), validators=[Length(max=80)])


def _local_path(target: str) -> str:
    """`target` if it is a path on this site, else the start page: never an open redirect."""
    if not target.startswith("/") or target.startswith("//"):
        return url_for("auth.index")
    return target


def _login_key() -> str:
    """Failed sign-ins are limited per account, whatever address they come from."""
    return "login:" + (request.form.get("email") or "").strip().lower()[:254]


def _failed_login(response) -> bool:
    return response.status_code == 401


@bp.route("/")
def index():
    if current_user.is_authenticated:
        if current_user.is_instructor:
            return redirect(url_for("instruct.cohorts"))
        return redirect(url_for("learn.courses"))
    return render_template("auth/index.html")


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"])
def register():
    form = RegisterForm(invite_code=request.args.get("code", ""))
    if form.validate_on_submit():
        try:
            code = (form.invite_code.data or "").strip()
            cohort = cohorts.cohort_for_code(code) if code else None
            user = accounts.create_user(
                form.email.data,
                form.name.data,
                form.password.data,
                language=str(get_locale()) if str(get_locale()) in ("en", "fr") else None,
            )
            if cohort is not None:
                cohorts.enroll(user, cohort)
            db.session.commit()
        except ServiceError as exc:
            db.session.rollback()
            flash(exc.message, "error")
            return render_template("auth/register.html", form=form), exc.status
        start_session(user)
        flash(_("Welcome to Lune Academy, %(name)s.", name=user.name), "success")
        return redirect(url_for("learn.courses"))
    status = 400 if form.is_submitted() else 200
    return render_template("auth/register.html", form=form), status


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT"],
    key_func=_login_key,
    methods=["POST"],
    deduct_when=_failed_login,
)
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT"], methods=["POST"], deduct_when=_failed_login
)
def login():
    form = LoginForm()
    if form.validate_on_submit():
        user = accounts.authenticate(form.email.data, form.password.data)
        if user is None:
            flash(_("Email or password is not right."), "error")
            return render_template("auth/login.html", form=form), 401
        start_session(user)
        return redirect(_local_path(request.args.get("next", "")))
    status = 400 if form.is_submitted() else 200
    return render_template("auth/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
def logout():
    if current_user.is_authenticated:
        end_session()
    flash(_("You are signed out."), "success")
    return redirect(url_for("auth.index"))


@bp.route("/reset", methods=["GET", "POST"])
@limiter.limit("5 per hour", methods=["POST"])
def reset_request():
    form = ResetRequestForm()
    if form.validate_on_submit():
        user = accounts.find_user(form.email.data)
        if user is not None and user.active:
            token = accounts.issue_link_token(user, "reset")
            link = current_app.config["BASE_URL"].rstrip("/") + url_for(
                "auth.reset_confirm", token=token
            )
            mail.send(
                user.email,
                _("Lune Academy: choose a new password"),
                _(
                    "Someone (we hope you) asked to reset your Lune Academy password.\n\n"
                    "Choose a new one here (the link works once, for %(minutes)s minutes):\n"
                    "%(link)s\n\nIf it was not you, ignore this message.",
                    minutes=current_app.config["RESET_TOKEN_MINUTES"],
                    link=link,
                ),
            )
        # The same answer whether or not the address has an account.
        flash(_("If an account uses this address, a reset link is on its way."), "success")
        return redirect(url_for("auth.login"))
    return render_template(
        "auth/reset_request.html", form=form
    ), 400 if form.is_submitted() else 200


@bp.route("/reset/<token>", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"])
def reset_confirm(token: str):
    return _new_password(token, "reset")


@bp.route("/invite/<token>", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"])
def invite_accept(token: str):
    return _new_password(token, "invite")


def _new_password(token: str, purpose: str):
    try:
        user, _row = accounts.user_for_link(token, purpose)
    except ServiceError as exc:
        return render_template("auth/link_invalid.html", message=exc.message), 400
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            user = accounts.set_password_from_link(token, purpose, form.password.data)
        except ServiceError as exc:
            flash(exc.message, "error")
            return render_template("auth/new_password.html", form=form, user=user), exc.status
        start_session(user)
        flash(_("Your password is set."), "success")
        return redirect(url_for("auth.index"))
    status = 400 if form.is_submitted() else 200
    return render_template("auth/new_password.html", form=form, user=user), status


@bp.route("/account", methods=["GET"])
@login_required
def account():
    return render_template(
        "auth/account.html",
        password_form=ChangePasswordForm(),
        language_form=LanguageForm(language=current_user.language or ""),
        token_form=TokenForm(),
        tokens=accounts.api_tokens(current_user),
        new_token=None,
    )


@bp.route("/account/password", methods=["POST"])
@login_required
@limiter.limit("10 per hour")
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            accounts.change_password(current_user, form.current.data, form.password.data)
        except ServiceError as exc:
            flash(exc.message, "error")
            return redirect(url_for("auth.account")), 303
        flash(_("Password changed; your other browsers are signed out."), "success")
        return redirect(url_for("auth.account")), 303
    flash(_("Please fill in both passwords."), "error")
    return redirect(url_for("auth.account")), 303


@bp.route("/account/language", methods=["POST"])
@login_required
def change_language():
    form = LanguageForm()
    if not form.validate_on_submit():
        flash(_("Unknown language."), "error")
        return redirect(url_for("auth.account")), 303
    accounts.set_language(current_user, form.language.data or None)
    return redirect(url_for("auth.account")), 303


@bp.route("/account/tokens", methods=["POST"])
@login_required
def create_token():
    form = TokenForm()
    if not form.validate_on_submit():
        flash(_("A token name has at most 80 characters."), "error")
        return redirect(url_for("auth.account")), 303
    _row, plain = accounts.create_api_token(current_user, form.name.data)
    return render_template(
        "auth/account.html",
        password_form=ChangePasswordForm(),
        language_form=LanguageForm(language=current_user.language or ""),
        token_form=TokenForm(formdata=None),
        tokens=accounts.api_tokens(current_user),
        new_token=plain,
    ), 201


@bp.route("/account/tokens/<int:token_id>/revoke", methods=["POST"])
@login_required
def revoke_token(token_id: int):
    accounts.revoke_api_token(current_user, token_id)
    flash(_("Token revoked."), "success")
    return redirect(url_for("auth.account")), 303


@bp.route("/language/<code>", methods=["POST"])
def switch_language(code: str):
    """The language switch in the page footer: kept in the account, or in the session."""
    if code not in ("en", "fr"):
        return redirect(url_for("auth.index")), 303
    if current_user.is_authenticated:
        accounts.set_language(current_user, code)
    else:
        from flask import session

        session["language"] = code
    return redirect(_local_path(request.form.get("next", ""))), 303
