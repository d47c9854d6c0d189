"""The signed-in user's own pages: the personal API token and the password."""

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user

from labelops.services import users as user_service
from labelops.services.errors import PermissionDeniedError
from labelops.web.account.forms import NewTokenForm, PasswordForm
from labelops.web.extensions import db

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


@bp.route("/password", methods=["GET", "POST"])
@login_required
def password() -> Any:
    """Changes the password; every other session and remember cookie of the user stops working."""
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
        except ValueError as exc:
            form.new_password.errors = [str(exc)]
        else:
            db.session.commit()
            login_user(user)  # this browser goes on with the new session version
            flash("Password changed. You were signed out everywhere else.", "success")
            return redirect(url_for("account.password"))
    status = 400 if request.method == "POST" else 200
    return (
        render_template("account/password.html", form=form),
        status,
        {"Cache-Control": "no-store"},
    )
