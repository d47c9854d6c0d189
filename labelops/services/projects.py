"""Projects, their members and roles, and the audit log."""

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from labelops.db.models import AuditLogRow, ProjectMemberRow, ProjectRow, UserRow
from labelops.domain.label_config import LabelConfig, parse_label_config
from labelops.domain.permissions import Role, parse_role
from labelops.services.errors import NotFoundError

SAMPLING_MODES = ("Sequential sampling", "Uniform sampling", "Uncertainty sampling")
EDITABLE_FIELDS = (
    "title",
    "description",
    "label_config",
    "expert_instruction",
    "show_instruction",
    "show_skip_button",
    "maximum_annotations",
    "sampling",
    "model_version",
    "color",
)


def create_project(session: Session, *, created_by: UserRow | None, **fields: Any) -> ProjectRow:
    """Returns a new project; its creator becomes its manager.

    Args:
        session: The database session.
        created_by: The user creating it (None for system imports).
        **fields: Any of EDITABLE_FIELDS.

    Raises:
        LabelConfigError: The labeling config is invalid.
        ValueError: Another field has a bad value (named in the message).
    """
    project = ProjectRow(created_by_id=created_by.id if created_by else None)
    project.title = ""
    _apply(project, {"label_config": "<View></View>", **fields})
    if not project.title:
        project.title = "New project"
    session.add(project)
    session.flush()
    if created_by is not None:
        session.add(ProjectMemberRow(project_id=project.id, user_id=created_by.id, role="manager"))
    audit(session, created_by, "project_created", project.id, "project", project.id)
    session.flush()
    return project


def update_project(
    session: Session, project: ProjectRow, changes: Mapping[str, Any], *, by: UserRow | None
) -> ProjectRow:
    """Returns the project with the given fields changed (unknown fields are refused).

    Raises:
        LabelConfigError: A new labeling config is invalid.
        ValueError: A field is unknown or has a bad value.
    """
    _apply(project, changes)
    audit(session, by, "project_updated", project.id, "project", project.id, sorted(changes))
    session.flush()
    return project


def _apply(project: ProjectRow, fields: Mapping[str, Any]) -> None:
    unknown = sorted(set(fields) - set(EDITABLE_FIELDS))
    if unknown:
        raise ValueError(f"unknown project field(s): {', '.join(unknown)}")
    if "label_config" in fields:
        parse_label_config(str(fields["label_config"]))
    if "maximum_annotations" in fields:
        overlap = fields["maximum_annotations"]
        if not isinstance(overlap, int) or isinstance(overlap, bool) or not 1 <= overlap <= 100:
            raise ValueError(
                f"maximum_annotations must be an integer from 1 to 100, got {overlap!r}"
            )
    if "sampling" in fields and fields["sampling"] not in SAMPLING_MODES:
        raise ValueError(
            f"sampling must be one of {', '.join(SAMPLING_MODES)}, got {fields['sampling']!r}"
        )
    if "title" in fields:
        title = str(fields["title"] or "").strip()
        if not title or len(title) > 200:
            raise ValueError("title must have 1 to 200 characters")
    for name, value in fields.items():
        setattr(project, name, value.strip() if name == "title" else value)


def project_config(project: ProjectRow) -> LabelConfig:
    """Returns the project's parsed labeling config."""
    return parse_label_config(project.label_config)


def get_project(session: Session, project_id: int) -> ProjectRow:
    """Returns the project with this id.

    Raises:
        NotFoundError: There is none.
    """
    project = session.get(ProjectRow, project_id)
    if project is None:
        raise NotFoundError(f"project {project_id} not found")
    return project


def delete_project(session: Session, project: ProjectRow, *, by: UserRow | None) -> None:
    """Deletes the project with its tasks, annotations and predictions."""
    audit(session, by, "project_deleted", project.id, "project", project.id, project.title)
    session.delete(project)
    session.flush()


def visible_projects(session: Session, user: UserRow) -> list[ProjectRow]:
    """Returns the projects the user may see (all of them for an admin), newest first."""
    query = sa.select(ProjectRow).order_by(ProjectRow.id.desc())
    if not user.is_admin:
        query = query.join(ProjectMemberRow, ProjectMemberRow.project_id == ProjectRow.id).where(
            ProjectMemberRow.user_id == user.id
        )
    return list(session.scalars(query))


def role_of(session: Session, user: UserRow, project_id: int) -> Role | None:
    """Returns the user's role in the project, or None if they are not a member."""
    value = session.scalar(
        sa.select(ProjectMemberRow.role).where(
            ProjectMemberRow.project_id == project_id, ProjectMemberRow.user_id == user.id
        )
    )
    return Role(value) if value else None


def set_member(
    session: Session, project: ProjectRow, user: UserRow, role: str, *, by: UserRow | None
) -> ProjectMemberRow:
    """Returns the membership after giving the user this role in the project.

    Raises:
        ValueError: The role is not manager, reviewer or annotator.
    """
    parsed = parse_role(role)
    member = session.scalar(
        sa.select(ProjectMemberRow).where(
            ProjectMemberRow.project_id == project.id, ProjectMemberRow.user_id == user.id
        )
    )
    if member is None:
        member = ProjectMemberRow(project_id=project.id, user_id=user.id, role=parsed.value)
        session.add(member)
    else:
        member.role = parsed.value
    audit(session, by, "member_set", project.id, "user", user.id, parsed.value)
    session.flush()
    return member


def remove_member(
    session: Session, project: ProjectRow, user: UserRow, *, by: UserRow | None
) -> None:
    """Removes the user from the project (their annotations stay)."""
    session.execute(
        sa.delete(ProjectMemberRow).where(
            ProjectMemberRow.project_id == project.id, ProjectMemberRow.user_id == user.id
        )
    )
    audit(session, by, "member_removed", project.id, "user", user.id)
    session.flush()


def members(session: Session, project_id: int) -> list[ProjectMemberRow]:
    """Returns the project's members with their users, by role then email."""
    return list(
        session.scalars(
            sa.select(ProjectMemberRow)
            .join(UserRow, UserRow.id == ProjectMemberRow.user_id)
            .where(ProjectMemberRow.project_id == project_id)
            .order_by(ProjectMemberRow.role, UserRow.email)
        )
    )


def audit(
    session: Session,
    user: UserRow | None,
    action: str,
    project_id: int | None,
    object_type: str = "",
    object_id: int | None = None,
    detail: Any = None,
) -> None:
    """Appends one line to the audit log."""
    session.add(
        AuditLogRow(
            user_id=user.id if user else None,
            project_id=project_id,
            action=action,
            object_type=object_type,
            object_id=object_id,
            detail={"detail": detail} if detail is not None else {},
        )
    )
