"""The feature flags page (``/admin/flags``): defaults, rollouts and overrides, for administrators.

Every change goes through the feature flags service, the same calls the API and CLI make.
"""

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from werkzeug.exceptions import HTTPException

from labelops.domain.errors import InvalidInputError
from labelops.services import feature_flags as flag_service
from labelops.services import users as user_service
from labelops.services.errors import ConflictError, NotFoundError
from labelops.web.admin.forms import DeleteFlagForm, FlagSettingsForm, NewFlagForm, OverrideForm
from labelops.web.admin.page_flags import register_page_flags
from labelops.web.extensions import db

bp = Blueprint("admin", __name__, url_prefix="/admin")
register_page_flags(bp)

F = TypeVar("F", bound=Callable[..., Any])


def admin_required(view: F) -> F:
    """Decorates a view so that only signed-in administrators reach it (403 page otherwise)."""

    @wraps(view)
    @login_required
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_admin:
            abort(403)
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


@bp.errorhandler(403)
@bp.errorhandler(404)
def _refused(error: HTTPException) -> tuple[str, int]:
    status = error.code or 500
    return render_template("admin/refused.html", status=status), status


def _page(
    *, status: int = 200, error: str | None = None, new_form: NewFlagForm | None = None
) -> tuple[str, int]:
    states = flag_service.list_flags(db.session)
    emails, titles = flag_service.override_targets(db.session, states)
    return render_template(
        "admin/flags.html",
        flags=states,
        emails=emails,
        titles=titles,
        new_form=new_form or NewFlagForm(formdata=None),
        error=error,
    ), status


def form_errors(form: Any) -> str:
    """Returns a form's errors as one line: ``Label: message; Label: message``."""
    return "; ".join(
        f"{getattr(form, name).label.text}: {' '.join(messages)}"
        for name, messages in form.errors.items()
    )


def _known(key: str) -> None:
    flag_service.get_flag(db.session, key)


@bp.get("/flags")
@admin_required
def flags() -> Any:
    """Lists every feature flag with its default, rollout and overrides."""
    return _page()


@bp.post("/flags")
@admin_required
def create_flag() -> Any:
    """Defines a new flag."""
    form = NewFlagForm()
    if not form.validate_on_submit():
        return _page(status=400, error=f"New flag: {form_errors(form)}", new_form=form)
    try:
        flag_service.create_flag(
            db.session,
            form.key.data or "",
            by=current_user,
            description=form.description.data or "",
            default=form.default.data == "on",
            rollout=form.rollout.data,
        )
    except (InvalidInputError, ConflictError) as exc:
        db.session.rollback()
        return _page(status=400, error=f"New flag: {exc}", new_form=form)
    db.session.commit()
    flash(f"Feature flag {form.key.data} created.", "success")
    return redirect(url_for("admin.flags"))


@bp.post("/flags/<key>")
@admin_required
def update_flag(key: str) -> Any:
    """Changes a flag's description, default and rollout."""
    _known(key)
    form = FlagSettingsForm()
    if not form.validate_on_submit():
        return _page(status=400, error=f"{key}: {form_errors(form)}")
    try:
        flag_service.update_flag(
            db.session,
            key,
            by=current_user,
            description=form.description.data or "",
            default=form.default.data == "on",
            rollout=form.rollout.data,
        )
    except InvalidInputError as exc:
        db.session.rollback()
        return _page(status=400, error=f"{key}: {exc}")
    db.session.commit()
    flash(f"Feature flag {key} saved.", "success")
    return redirect(url_for("admin.flags"))


@bp.post("/flags/<key>/overrides")
@admin_required
def set_override(key: str) -> Any:
    """Turns a flag on or off for one user or one project, or removes that override."""
    _known(key)
    form = OverrideForm()
    if not form.validate_on_submit():
        return _page(status=400, error=f"{key}: {form_errors(form)}")
    who = (form.who.data or "").strip()
    target: dict[str, Any] = {}
    if form.target.data == "user":
        user = user_service.get_user_by_email(db.session, who)
        if user is None:
            return _page(status=400, error=f"{key}: no user with email {who!r}")
        target["user"] = user
    elif who.isdigit():
        target["project"] = int(who)
    else:
        return _page(status=400, error=f"{key}: a project is named by its id, got {who!r}")
    enabled = None if form.state.data == "clear" else form.state.data == "on"
    try:
        flag_service.set_override(db.session, key, by=current_user, enabled=enabled, **target)
    except (InvalidInputError, NotFoundError) as exc:
        db.session.rollback()
        return _page(status=400, error=f"{key}: {exc}")
    db.session.commit()
    flash(f"Feature flag {key}: override for {form.target.data} {who} saved.", "success")
    return redirect(url_for("admin.flags"))


@bp.post("/flags/<key>/delete")
@admin_required
def delete_flag(key: str) -> Any:
    """Deletes a flag with its overrides (a shipped flag returns to its defaults)."""
    _known(key)
    if not DeleteFlagForm().validate_on_submit():
        return _page(status=400, error=f"{key}: the form expired, please try again")
    flag_service.delete_flag(db.session, key, by=current_user)
    db.session.commit()
    flash(f"Feature flag {key} deleted.", "success")
    return redirect(url_for("admin.flags"))
