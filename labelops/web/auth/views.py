"""Sign-in and sign-out pages."""

from typing import Any
from urllib.parse import urlsplit

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
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.exceptions import TooManyRequests

from labelops.services import user_admin, user_links
from labelops.services import users as user_service
from labelops.web.auth.forms import LoginForm, SetPasswordForm
from labelops.web.extensions import db, limiter

bp = Blueprint("auth", __name__, url_prefix="/auth")


def _safe_next(target: str | None) -> str | None:
    if not target:
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc and target.startswith("/") else None


def _sign_in_account() -> str:
    """Returns the rate-limit key of the account a sign-in attempt names."""
    return "sign-in-account:" + (request.form.get("email") or "").strip().lower()[:254]


def _failed(response: Response) -> bool:
    """Returns True for a sign-in attempt that did not sign anyone in (it counts)."""
    return response.status_code != 302


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"],
    key_func=_sign_in_account,
    methods=["POST"],
    deduct_when=_failed,
)
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_IP"],
    key_func=get_remote_address,
    methods=["POST"],
    deduct_when=_failed,
)
def login() -> Any:
    """Shows the sign-in form and signs the user in."""
    form = LoginForm()
    if form.validate_on_submit():
        user = user_service.authenticate(
            db.session, form.email.data or "", form.password.data or ""
        )
        if user is None:
            flash("Wrong email or password.", "error")
        else:
            login_user(user, remember=bool(form.remember.data))
            return redirect(_safe_next(request.args.get("next")) or _home())
    return render_template("auth/login.html", form=form), 200 if request.method == "GET" else 400


@bp.errorhandler(429)
def _too_many_attempts(error: TooManyRequests) -> Any:
    """Answers a rate-limited sign-in with the form and a message saying when to retry."""
    flash(
        "Too many failed sign-in attempts for this account or from this address "
        f"(limit: {error.description}). Wait a while, then try again.",
        "error",
    )
    return render_template("auth/login.html", form=LoginForm()), 429


def _home() -> str:
    try:
        return url_for("projects.index")
    except Exception:  # the projects blueprint is optional in API-only deployments
        return url_for("api_users.whoami")


@bp.post("/logout")
@login_required
def logout() -> Any:
    """Signs the user out everywhere: every session and remember cookie of theirs stops working."""
    user_service.end_sessions(db.session, current_user._get_current_object())  # noqa: SLF001
    db.session.commit()
    logout_user()
    return redirect(url_for("auth.login"))


@bp.route("/link/<token>", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_IP"],
    key_func=get_remote_address,
    deduct_when=lambda response: response.status_code == 410,
)
def link(token: str) -> Any:
    """Lets an invited user (or one whose password was reset) set a password and signs them in.

    The link works once and until it expires; a wrong, used or expired link is answered 410.
    """
    opened = user_links.open_link(db.session, token)
    form = SetPasswordForm()
    if form.validate_on_submit():
        user = user_admin.set_password_by_link(db.session, token, form.password.data or "")
        db.session.commit()
        logout_user()
        login_user(user)
        flash("Your password is set. Welcome!", "success")
        return redirect(_home())
    status = 200 if request.method == "GET" else 400
    return render_template("auth/link.html", form=form, link=opened), status
