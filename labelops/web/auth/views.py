"""Sign-in and sign-out pages."""

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import login_required, login_user, logout_user

from labelops.services.users import authenticate
from labelops.web.auth.forms import LoginForm
from labelops.web.extensions import db

bp = Blueprint("auth", __name__, url_prefix="/auth")


def _safe_next(target: str | None) -> str | None:
    if not target:
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc and target.startswith("/") else None


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    """Shows the sign-in form and signs the user in."""
    form = LoginForm()
    if form.validate_on_submit():
        user = authenticate(db.session, form.email.data or "", form.password.data or "")
        if user is None:
            flash("Wrong email or password.", "error")
        else:
            login_user(user, remember=bool(form.remember.data))
            return redirect(_safe_next(request.args.get("next")) or _home())
    return render_template("auth/login.html", form=form), 200 if request.method == "GET" else 400


def _home() -> str:
    try:
        return url_for("projects.index")
    except Exception:  # the projects blueprint is optional in API-only deployments
        return url_for("api_users.whoami")


@bp.post("/logout")
@login_required
def logout() -> Any:
    """Signs the user out."""
    logout_user()
    return redirect(url_for("auth.login"))
