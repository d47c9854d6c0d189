"""The users page (``/admin/users``): list, create, invite, deactivate, reset, grant creation.

Every change goes through ``services.user_admin`` and ``services.users``, the calls the API and
the CLI make; these views translate forms to those calls. A one-time link is shown on the page
that answers the request which issued it, never again (only its digest is stored). The routes
hang on the admin blueprint, so this module hands it on complete.
"""

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from labelops.db.models import UserRow
from labelops.services import organizations as organization_service
from labelops.services import user_admin
from labelops.services import users as user_service
from labelops.services.user_links import IssuedLink
from labelops.web.admin.forms import (
    ActiveForm,
    InviteForm,
    NewUserForm,
    ProjectCreationForm,
    ResetPasswordForm,
)
from labelops.web.admin.views import admin_required, bp, form_errors
from labelops.web.extensions import db

__all__ = ["bp"]

PAGE_SIZE = 25


def _admin() -> UserRow:
    return current_user._get_current_object()  # type: ignore[no-any-return]  # noqa: SLF001


def _page(
    *,
    status: int = 200,
    error: str | None = None,
    issued: IssuedLink | None = None,
    issued_for: UserRow | None = None,
    new_form: NewUserForm | None = None,
    invite_form: InviteForm | None = None,
) -> tuple[str, int]:
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    listing = user_admin.page_users(db.session, by=_admin(), page=page, per_page=PAGE_SIZE)
    if listing.page > listing.pages:
        listing = user_admin.page_users(
            db.session, by=_admin(), page=listing.pages, per_page=PAGE_SIZE
        )
    return render_template(
        "admin/users.html",
        listing=listing,
        state_of=user_admin.account_state,
        error=error,
        issued=issued,
        issued_for=issued_for,
        issued_url=url_for("auth.link", token=issued.token, _external=True) if issued else None,
        new_form=new_form or NewUserForm(formdata=None, prefix="new"),
        invite_form=invite_form or InviteForm(formdata=None, prefix="invite"),
    ), status


def _target(user_id: int) -> UserRow:
    return user_service.visible_user(db.session, user_id, by=_admin())


def _back() -> Any:
    return redirect(url_for("admin.users", page=request.args.get("page", type=int)))


@bp.get("/users")
@admin_required
def users() -> Any:
    """Lists the organization's users, a page at a time, with their state and actions."""
    return _page()


@bp.post("/users")
@admin_required
def create_user() -> Any:
    """Creates an account with the password the administrator gives."""
    form = NewUserForm(prefix="new")
    if not form.validate_on_submit():
        return _page(status=400, error=f"New user: {form_errors(form)}", new_form=form)
    admin = _admin()
    created = user_service.create_user(
        db.session,
        email=form.email.data or "",
        password=form.password.data or "",
        organization_id=organization_service.active_organization_id(db.session, admin),
    )
    if form.can_create_projects.data:
        user_service.grant_project_creation(db.session, created, by=admin)
    db.session.commit()
    flash(f"User {created.email} created.", "success")
    return _back()


@bp.post("/users/invite")
@admin_required
def invite_user() -> Any:
    """Creates an account without a password and shows its one-time invitation link."""
    form = InviteForm(prefix="invite")
    if not form.validate_on_submit():
        return _page(status=400, error=f"Invite: {form_errors(form)}", invite_form=form)
    admin = _admin()
    invited, link = user_admin.invite_user(
        db.session,
        email=form.email.data or "",
        by=admin,
        organization_id=organization_service.active_organization_id(db.session, admin),
    )
    db.session.commit()
    return _page(status=201, issued=link, issued_for=invited)


@bp.post("/users/<int:user_id>/active")
@admin_required
def set_active(user_id: int) -> Any:
    """Deactivates or reactivates an account."""
    form = ActiveForm()
    if not form.validate_on_submit():
        return _page(status=400, error=f"User {user_id}: {form_errors(form)}")
    user = user_admin.set_active(
        db.session, _target(user_id), form.active.data == "on", by=_admin()
    )
    db.session.commit()
    flash(f"User {user.email} {'reactivated' if user.is_active else 'deactivated'}.", "success")
    return _back()


@bp.post("/users/<int:user_id>/password")
@admin_required
def reset_password(user_id: int) -> Any:
    """Sets a temporary password, or issues a one-time reset link when none is given."""
    form = ResetPasswordForm()
    if not form.validate_on_submit():
        return _page(status=400, error=f"User {user_id}: {form_errors(form)}")
    user = _target(user_id)
    link = user_admin.reset_password(
        db.session, user, by=_admin(), password=form.password.data or None
    )
    db.session.commit()
    if link is not None:
        return _page(issued=link, issued_for=user)
    flash(f"Temporary password set for {user.email}; their sessions and tokens ended.", "success")
    return _back()


@bp.post("/users/<int:user_id>/project-creation")
@admin_required
def project_creation(user_id: int) -> Any:
    """Grants or withdraws the right to create projects."""
    form = ProjectCreationForm()
    if not form.validate_on_submit():
        return _page(status=400, error=f"User {user_id}: {form_errors(form)}")
    user = user_service.grant_project_creation(
        db.session, _target(user_id), form.allowed.data == "on", by=_admin()
    )
    db.session.commit()
    verb = "may now create" if user.can_create_projects else "may no longer create"
    flash(f"{user.email} {verb} projects.", "success")
    return _back()
