"""``/organizations/``: the active organization's members for its admins, and the switcher.

Every rule (who may manage members, the last admin, no account enumeration, which organizations a
user may switch to) is in ``services.organizations``; these views translate forms to its calls.
"""

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from labelops.db.models import OrganizationRow, UserRow
from labelops.domain.errors import InvalidInputError
from labelops.services import organizations as organization_service
from labelops.services.errors import ConflictError, NotFoundError
from labelops.web.extensions import db
from labelops.web.organizations.forms import ActionForm, AddMemberForm, RoleForm

bp = Blueprint("organizations", __name__, url_prefix="/organizations")

PAGE_SIZE = 100


def _user() -> UserRow:
    return current_user._get_current_object()  # type: ignore[no-any-return]  # noqa: SLF001


@bp.app_context_processor
def organization_switcher() -> dict[str, Any]:
    """Gives every page the signed-in user's organizations and the active one (for the top bar)."""
    if not current_user.is_authenticated:
        return {"user_organizations": [], "active_organization_id": None}
    user = _user()
    active = organization_service.active_organization_id(db.session, user)
    return {
        "user_organizations": organization_service.organizations_of(db.session, user),
        "active_organization_id": active,
        "administers_organization": active is not None
        and organization_service.can_administer(db.session, user, active),
    }


def _administered() -> OrganizationRow:
    """Returns the active organization if the user administers it; aborts 404/403 otherwise."""
    user = _user()
    organization = organization_service.active_organization(db.session, user)
    if organization is None:
        abort(404)
    if not organization_service.can_administer(db.session, user, organization.id):
        abort(403)
    return organization


@bp.get("/")
@login_required
def index() -> Any:
    """Lists the active organization's members with forms to add, re-role and remove them."""
    organization = _administered()
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    result = organization_service.members(db.session, organization, page=page, page_size=PAGE_SIZE)
    return render_template(
        "organizations/index.html",
        organization=organization,
        members=result.members,
        total=result.total,
        page=page,
        pages=max((result.total + PAGE_SIZE - 1) // PAGE_SIZE, 1),
        form=AddMemberForm(),
        role_form=RoleForm(),
    )


@bp.post("/members")
@login_required
def add_member() -> Any:
    """Adds an account by email; the answer is the same whether or not the account exists."""
    organization = _administered()
    form = AddMemberForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            flash(f"Not added: {' '.join(errors)}.", "error")
        return redirect(url_for(".index"))
    email = form.email.data or ""
    try:
        organization_service.add_member(
            db.session, organization, email=email, role=form.role.data or "member", by=_user()
        )
    except (NotFoundError, InvalidInputError) as exc:
        db.session.rollback()
        flash(f"Not added: {exc}.", "error")
        return redirect(url_for(".index"))
    db.session.commit()
    flash(f"If {email} has an account, they are now a member of {organization.title}.", "success")
    return redirect(url_for(".index"))


@bp.post("/members/<int:user_id>/role")
@login_required
def set_role(user_id: int) -> Any:
    """Changes a member's role (the last admin keeps theirs)."""
    organization = _administered()
    form = RoleForm()
    if not form.validate_on_submit():
        flash("Not saved: choose admin or member.", "error")
        return redirect(url_for(".index"))
    try:
        organization_service.change_role(
            db.session, organization, user_id, form.role.data or "", by=_user()
        )
    except (ConflictError, InvalidInputError) as exc:
        db.session.rollback()
        flash(f"Not saved: {exc}.", "error")
        return redirect(url_for(".index"))
    db.session.commit()
    flash("Role saved.", "success")
    return redirect(url_for(".index"))


@bp.post("/members/<int:user_id>/remove")
@login_required
def remove_member(user_id: int) -> Any:
    """Removes a member from the organization and its projects (the last admin stays)."""
    organization = _administered()
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        organization_service.remove_member(db.session, organization, user_id, by=_user())
    except ConflictError as exc:
        db.session.rollback()
        flash(f"Not removed: {exc}.", "error")
        return redirect(url_for(".index"))
    db.session.commit()
    flash("Member removed.", "success")
    return redirect(url_for(".index"))


@bp.post("/switch/<int:organization_id>")
@login_required
def switch(organization_id: int) -> Any:
    """Makes one of the user's organizations the active one, then shows its projects."""
    if not ActionForm().validate_on_submit():
        abort(400)
    organization = organization_service.switch_organization(db.session, _user(), organization_id)
    db.session.commit()
    flash(f"You are now working in {organization.title}.", "success")
    return redirect(url_for("projects.index"))
