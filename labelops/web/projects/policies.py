"""Who may open which project page: the domain's role predicates applied to the signed-in user.

Outsiders get 404 (a project's existence is not leaked); members whose role does not allow the
page get 403.
"""

from collections.abc import Callable
from dataclasses import dataclass

from flask import Blueprint, abort, render_template
from flask_login import current_user
from werkzeug.exceptions import HTTPException

from labelops.db.models import ProjectRow, UserRow
from labelops.domain import permissions
from labelops.domain.permissions import Role
from labelops.services import projects as project_service
from labelops.services.errors import NotFoundError
from labelops.web.extensions import db


def can_view(user: UserRow, role: Role | None) -> bool:
    """Returns True when the user may open the project at all."""
    return permissions.can_view(role, is_admin=user.is_admin)


def can_annotate(user: UserRow, role: Role | None) -> bool:
    """Returns True when the user may label the project's tasks."""
    return permissions.can_annotate(role, is_admin=user.is_admin)


def can_review(user: UserRow, role: Role | None) -> bool:
    """Returns True when the user may accept or reject annotations."""
    return permissions.can_review(role, is_admin=user.is_admin)


def can_manage(user: UserRow, role: Role | None) -> bool:
    """Returns True when the user may change settings, import, export and manage members."""
    return permissions.can_manage(role, is_admin=user.is_admin)


@dataclass(frozen=True)
class ProjectAccess:
    """A project with the signed-in user's role in it and what that role allows."""

    project: ProjectRow
    role: Role | None
    can_annotate: bool
    can_review: bool
    can_manage: bool


def project_access(
    project_id: int, policy: Callable[[UserRow, Role | None], bool]
) -> ProjectAccess:
    """Returns the project and the user's rights if ``policy`` allows them; aborts otherwise.

    Aborts with 404 when there is no such project, it belongs to another organization than the
    user's active one, or the user is not a member (and not an administrator), and with 403
    when the user is a member whose role fails ``policy``.
    """
    user: UserRow = current_user._get_current_object()  # noqa: SLF001 - Flask-Login proxy
    try:
        project, role = project_service.project_for_user(db.session, user, project_id)
    except NotFoundError:
        abort(404)
    if not can_view(user, role):
        abort(404)
    if not policy(user, role):
        abort(403)
    return ProjectAccess(
        project=project,
        role=role,
        can_annotate=can_annotate(user, role),
        can_review=can_review(user, role),
        can_manage=can_manage(user, role),
    )


def explain_refusals(blueprint: Blueprint) -> None:
    """Makes the blueprint answer 403 and 404 with a page that says what happened."""

    def page(error: HTTPException) -> tuple[str, int]:
        status = error.code or 500
        return render_template("errors/refused.html", status=status), status

    blueprint.register_error_handler(403, page)
    blueprint.register_error_handler(404, page)
