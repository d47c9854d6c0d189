"""Who may do what: one :func:`authorize` that sees the object it is asked about.

Pages, the API, the CLI and the services themselves ask :func:`authorize`, so a rule written
here holds on every entry point. Outsiders (no membership, or a project of another organization
than the user's active one) get :class:`NotFoundError`, so a project's existence is not leaked;
members whose role does not allow the action get :class:`PermissionDeniedError`. Policies that
need the object see it: reviewing an annotation knows its author, so nobody but an administrator
reviews their own work.
"""

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy.orm import Session

from labelops.db.models import AnnotationRow, CommentRow, ProjectRow, TaskRow, UserRow
from labelops.domain import permissions
from labelops.domain.permissions import Role
from labelops.services import organizations as organization_service
from labelops.services.errors import NotFoundError, PermissionDeniedError
from labelops.services.projects import project_for_user, role_of


class Action(StrEnum):
    """What a user asks to do with a project, or with a task or annotation of it."""

    VIEW = "view"
    ANNOTATE = "annotate"
    REVIEW = "review"
    MANAGE = "manage"
    CHANGE = "change"
    """Change or delete an annotation: its author, or a manager for anyone's."""
    COMMENT = "comment"
    """Comment on an annotation: any member (who may see it, ``services.comments`` checks)."""
    RESOLVE_COMMENT = "resolve_comment"
    """Resolve or reopen a comment: its writer, the annotation's author, or a manager."""
    EDIT_COMMENT = "edit_comment"
    """Change a comment's text: its writer only."""
    DELETE_COMMENT = "delete_comment"
    """Delete a comment: its writer, or a manager."""


_RULES: dict[Action, Callable[..., bool]] = {
    Action.VIEW: permissions.can_view,
    Action.ANNOTATE: permissions.can_annotate,
    Action.REVIEW: permissions.can_review,
    Action.MANAGE: permissions.can_manage,
    Action.CHANGE: permissions.can_annotate,
    Action.COMMENT: permissions.can_view,
    Action.RESOLVE_COMMENT: permissions.can_view,
    Action.EDIT_COMMENT: permissions.can_view,
    Action.DELETE_COMMENT: permissions.can_view,
}
_DOING = {
    Action.VIEW: "see it",
    Action.ANNOTATE: "label its tasks",
    Action.REVIEW: "review its annotations",
    Action.MANAGE: "manage it",
    Action.CHANGE: "change its annotations",
    Action.COMMENT: "comment on its annotations",
    Action.RESOLVE_COMMENT: "resolve comments",
    Action.EDIT_COMMENT: "change comments",
    Action.DELETE_COMMENT: "delete comments",
}
_ALLOWED = {
    Action.VIEW: "members may",
    Action.ANNOTATE: "annotators, reviewers and managers may",
    Action.REVIEW: "reviewers and managers may",
    Action.MANAGE: "managers may",
    Action.CHANGE: "annotators, reviewers and managers may",
    Action.COMMENT: "members may",
    Action.RESOLVE_COMMENT: "members may",
    Action.EDIT_COMMENT: "members may",
    Action.DELETE_COMMENT: "members may",
}

Subject = ProjectRow | TaskRow | AnnotationRow | CommentRow
"""What an action is asked about: a project, or a task, annotation or comment of one."""


@dataclass(frozen=True)
class ProjectAccess:
    """A project with the user's role in it and what that role allows (pages show or hide by it)."""

    project: ProjectRow
    role: Role | None
    is_admin: bool

    def allows(self, action: Action) -> bool:
        """Returns True when the user's role (or being an administrator) allows ``action``."""
        return _RULES[action](self.role, is_admin=self.is_admin)

    @property
    def can_annotate(self) -> bool:
        """Returns True when the user may label the project's tasks."""
        return self.allows(Action.ANNOTATE)

    @property
    def can_review(self) -> bool:
        """Returns True when the user may accept or reject annotations."""
        return self.allows(Action.REVIEW)

    @property
    def can_manage(self) -> bool:
        """Returns True when the user may change settings, import, export and manage members."""
        return self.allows(Action.MANAGE)


def authorize(session: Session, user: UserRow, action: Action, obj: Subject) -> ProjectAccess:
    """Returns the user's access to the object's project when the user may do ``action`` on it.

    Args:
        session: The database session.
        user: The signed-in user or the API token's owner.
        action: What the user asks to do.
        obj: The project, or the task or annotation of a project, the action is about.

    Raises:
        NotFoundError: The project belongs to another organization than the user's active one,
            or the user is neither a member nor an administrator (the same answer as for a
            project that does not exist).
        PermissionDeniedError: The user's role does not allow the action, the action is a
            review of an annotation the user wrote (administrators excepted), or a change to
            an annotation someone else wrote by a user who does not manage the project.
    """
    project = obj if isinstance(obj, ProjectRow) else session.get_one(ProjectRow, obj.project_id)
    active = organization_service.active_organization_id(session, user)
    role = role_of(session, user, project.id)
    if project.organization_id != active or (role is None and not user.is_admin):
        raise NotFoundError(f"project {project.id} not found")
    return _checked(
        user, action, obj, ProjectAccess(project=project, role=role, is_admin=user.is_admin)
    )


def authorize_project(
    session: Session, user: UserRow, action: Action, project_id: int
) -> ProjectAccess:
    """Returns the user's access to the project with this id when they may do ``action`` there.

    The project and the user's role come in one query (every API request asks this).

    Raises:
        NotFoundError: No such project, or one the user may not see (see :func:`authorize`).
        PermissionDeniedError: The user's role does not allow the action.
    """
    project, role = project_for_user(session, user, project_id)
    return _checked(
        user, action, project, ProjectAccess(project=project, role=role, is_admin=user.is_admin)
    )


def _checked(user: UserRow, action: Action, obj: Subject, access: ProjectAccess) -> ProjectAccess:
    role = access.role
    if not access.allows(action):
        raise PermissionDeniedError(
            f"your role ({role.value if role else 'none'}) in project {access.project.id} does "
            f"not allow you to {_DOING[action]}: {_ALLOWED[action]}"
        )
    if action is Action.REVIEW:
        _check_not_own_work(user, obj)
    if action is Action.CHANGE:
        _check_own_or_managed(access, user, obj)
    if isinstance(obj, CommentRow):
        _check_comment(access, user, action, obj)
    return access


def _check_not_own_work(user: UserRow, obj: Subject) -> None:
    """Refuses a review of the user's own annotation (administrators excepted)."""
    if not isinstance(obj, AnnotationRow):
        return
    if not permissions.can_review_annotation(
        is_author=obj.completed_by_id == user.id, is_admin=user.is_admin
    ):
        raise PermissionDeniedError(
            f"annotation {obj.id} is your own; reviewers cannot review their own annotations"
        )


def _check_own_or_managed(access: ProjectAccess, user: UserRow, obj: Subject) -> None:
    """Refuses a change to someone else's annotation unless the user manages the project."""
    if isinstance(obj, AnnotationRow) and obj.completed_by_id != user.id and not access.can_manage:
        raise PermissionDeniedError(
            f"annotation {obj.id} is not yours; only managers of project {access.project.id} "
            "may change other people's annotations"
        )


def _check_comment(
    access: ProjectAccess, user: UserRow, action: Action, comment: CommentRow
) -> None:
    """Refuses resolving, editing or deleting a comment to everyone the action is not for."""
    writer = comment.created_by_id == user.id
    if action is Action.RESOLVE_COMMENT:
        allowed = writer or comment.annotation.completed_by_id == user.id or access.can_manage
        who = "its writer, the annotation's author or a manager"
    elif action is Action.EDIT_COMMENT:
        allowed, who = writer, "its writer"
    elif action is Action.DELETE_COMMENT:
        allowed, who = writer or access.can_manage, "its writer or a manager"
    else:
        return
    if not allowed:
        raise PermissionDeniedError(
            f"comment {comment.id} is not yours to {_DOING[action].split()[0]}: only {who} may"
        )
