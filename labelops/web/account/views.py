"""The signed-in user's own pages: the personal API token and the password."""

from typing import Any

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required, login_user
from werkzeug.exceptions import TooManyRequests

from labelops.domain.errors import InvalidInputError
from labelops.services import users as user_service
from labelops.services.errors import PermissionDeniedError
from labelops.web.account.forms import NewTokenForm, PasswordForm
from labelops.web.extensions import db, limiter

bp = Blueprint("account", __name__, url_prefix="/account")


@bp.route("/token", methods=["GET", "POST"])
@login_required
def token() -> Any:
    """Shows how to use the API and issues a new token (the old ones stop working)."""
    form = NewTokenForm()
    key = None
    if form.validate_on_submit():
        key = user_service.issue_token(db.session, current_user, name="web", revoke_others=True)
        db.session.commit()
    response = render_template("account/token.html", form=form, key=key)
    return response, 200, {"Cache-Control": "no-store"}


def _password_key() -> str:
    """Returns the rate-limit key of the signed-in user's password-change attempts."""
    return f"password-change:{current_user.get_id()}"


@bp.route("/password", methods=["GET", "POST"])
@login_required
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"],
    key_func=_password_key,
    methods=["POST"],
    deduct_when=lambda response: response.status_code != 302,
)
def password() -> Any:
    """Changes the password; every other session, remember cookie and API token stops working."""
    form = PasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()  # noqa: SLF001 - Flask-Login proxy unwrapping
        try:
            user_service.change_password(
                db.session,
                user,
                current_password=form.current_password.data or "",
                new_password=form.new_password.data or "",
            )
        except PermissionDeniedError as exc:
            form.current_password.errors = [str(exc)]
        except InvalidInputError as exc:
            form.new_password.errors = [str(exc)]
        else:
            db.session.commit()
            login_user(user)  # this browser goes on with the new session version
            flash(
                "Password changed. You were signed out everywhere else and your API tokens were "
                "revoked (make a new one on the token page).",
                "success",
            )
            return redirect(url_for("account.password"))
    status = 400 if request.method == "POST" else 200
    return (
        render_template("account/password.html", form=form),
        status,
        {"Cache-Control": "no-store"},
    )


@bp.errorhandler(429)
def _too_many_attempts(error: TooManyRequests) -> Any:
    """Answers a rate-limited password change with the form and a message."""
    flash(
        f"Too many wrong current passwords (limit: {error.description}). Wait a while, then try "
        "again.",
        "error",
    )
    return render_template("account/password.html", form=PasswordForm()), 429
