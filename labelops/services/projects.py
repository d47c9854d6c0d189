"""Projects, their members and roles, and the audit log."""

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from labelops.db.models import (
    AnnotationRow,
    AuditLogRow,
    DraftRow,
    ProjectMemberRow,
    ProjectRow,
    UserRow,
)
from labelops.domain.config_compat import check_results_fit
from labelops.domain.errors import InvalidInputError
from labelops.domain.json_limits import is_stored_id
from labelops.domain.label_config import LabelConfig, parse_label_config
from labelops.domain.permissions import Role, parse_role
from labelops.domain.sampling import SAMPLING_STRATEGIES
from labelops.services import jobs, project_settings
from labelops.services import organizations as organization_service
from labelops.services.errors import ConflictError, NotFoundError, PermissionDeniedError
from labelops.services.rows import get_row
from labelops.services.users import normalize_email
from labelops.services.webhook_events import project_event

SAMPLING_MODES = tuple(SAMPLING_STRATEGIES)
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
    "show_annotations_to_annotators",
)


def can_create_projects(user: UserRow | None) -> bool:
    """Returns True when the user may create projects (administrators and users granted it).

    ``None`` stands for the system itself (CLI imports, demo data) and may.
    """
    return user is None or user.is_admin or user.can_create_projects


def create_project(
    session: Session,
    *,
    created_by: UserRow | None,
    organization_id: int | None = None,
    **fields: Any,
) -> ProjectRow:
    """Returns a new project in the creator's active organization; the creator manages it.

    Args:
        session: The database session.
        created_by: The user creating it (None for system imports).
        organization_id: Where the system puts it (default: the creator's active organization,
            or the Default one when there is no creator). A user may only name their own.
        **fields: Any of EDITABLE_FIELDS or of Label Studio's kept settings
            (``project_settings.NAMES``). Without a title the project is "New Project #N", N
            counting the organization's projects, as Label Studio names it.

    Raises:
        PermissionDeniedError: The user may not create projects (see ``can_create_projects``),
            belongs to no organization, or names an organization that is not their active one.
        LabelConfigError: The labeling config is invalid.
        InvalidInputError: Another field has a bad value (named in the message).
    """
    if not can_create_projects(created_by):
        raise PermissionDeniedError(
            "creating projects needs the project-creation permission; "
            "ask an administrator to grant it"
        )
    organization_id = _organization_for_new_project(session, created_by, organization_id)
    project = ProjectRow(
        created_by_id=created_by.id if created_by else None, organization_id=organization_id
    )
    project.title = ""
    _apply(project, {"label_config": "<View></View>", **fields})
    if not project.title:
        count = session.scalar(
            sa.select(sa.func.count())
            .select_from(ProjectRow)
            .where(ProjectRow.organization_id == organization_id)
        )
        project.title = f"New Project #{(count or 0) + 1}"
    session.add(project)
    session.flush()
    if created_by is not None:
        session.add(ProjectMemberRow(project_id=project.id, user_id=created_by.id, role="manager"))
    audit(session, created_by, "project_created", project.id, "project", project.id)
    session.flush()
    project_event(session, project, "PROJECT_CREATED")
    return project


def _organization_for_new_project(
    session: Session, created_by: UserRow | None, organization_id: int | None
) -> int:
    if created_by is None:
        if organization_id is None:
            return organization_service.default_organization(session).id
        return organization_service.get_organization(session, organization_id).id
    active = organization_service.active_organization_id(session, created_by)
    if active is None:
        raise PermissionDeniedError(
            "you belong to no organization; ask an administrator to add you to one"
        )
    if organization_id not in (None, active):
        raise PermissionDeniedError(
            f"projects can only be created in your active organization ({active}); "
            f"switch to organization {organization_id} first"
        )
    return active


def update_project(
    session: Session, project: ProjectRow, changes: Mapping[str, Any], *, by: UserRow | None
) -> ProjectRow:
    """Returns the project with the given fields changed (unknown fields are refused).

    Raises:
        LabelConfigError: A new labeling config is invalid, or drops what the project's
            annotations or drafts use (``check_config_change``).
        InvalidInputError: A field is unknown or has a bad value.
    """
    if "label_config" in changes:
        check_config_change(session, project, str(changes["label_config"]))
    _apply(project, changes)
    audit(session, by, "project_updated", project.id, "project", project.id, sorted(changes))
    session.flush()
    project_event(session, project, "PROJECT_UPDATED")
    return project


def _apply(project: ProjectRow, fields: Mapping[str, Any]) -> None:
    unknown = sorted(set(fields) - set(EDITABLE_FIELDS) - project_settings.NAMES)
    if unknown:
        raise InvalidInputError(f"unknown project field(s): {', '.join(unknown)}")
    project_settings.apply_settings(project, fields)
    fields = {k: v for k, v in fields.items() if k not in project_settings.NAMES}
    if "label_config" in fields:
        parse_label_config(str(fields["label_config"]))
    if "maximum_annotations" in fields:
        overlap = fields["maximum_annotations"]
        if not isinstance(overlap, int) or isinstance(overlap, bool) or not 1 <= overlap <= 100:
            raise InvalidInputError(
                f"maximum_annotations must be an integer from 1 to 100, got {overlap!r}"
            )
    if "sampling" in fields and fields["sampling"] not in SAMPLING_MODES:
        raise InvalidInputError(
            f"sampling must be one of {', '.join(SAMPLING_MODES)}, got {fields['sampling']!r}"
        )
    for flag in ("show_annotations_to_annotators",):
        if flag in fields and not isinstance(fields[flag], bool):
            raise InvalidInputError(f"{flag} must be true or false, got {fields[flag]!r}")
    if "title" in fields:
        title = str(fields["title"] or "").strip()
        if not title or len(title) > 200:
            raise InvalidInputError("title must have 1 to 200 characters")
    for name, value in fields.items():
        setattr(project, name, value.strip() if name == "title" else value)


def check_config_change(session: Session, project: ProjectRow, label_config: str) -> LabelConfig:
    """Returns the parsed new config once it still fits the project's annotations and drafts.

    As Label Studio, a config may not drop a control, object, result type or label that a
    stored annotation or draft uses; the results are streamed, and skipped when the config is
    unchanged.

    Raises:
        LabelConfigError: The config is invalid, or names the results it no longer fits.
    """
    config = parse_label_config(label_config)
    if label_config == project.label_config:
        return config
    results = (
        result
        for query in (
            sa.select(AnnotationRow.result).where(AnnotationRow.project_id == project.id),
            sa.select(DraftRow.result).where(DraftRow.project_id == project.id),
        )
        for result in session.scalars(query.execution_options(yield_per=1000))
    )
    check_results_fit(config, results)
    return config


def project_config(project: ProjectRow) -> LabelConfig:
    """Returns the project's parsed labeling config."""
    return parse_label_config(project.label_config)


def get_project(session: Session, project_id: int) -> ProjectRow:
    """Returns the project with this id.

    Raises:
        NotFoundError: There is none.
    """
    return get_row(session, ProjectRow, project_id, "project")


def delete_project(session: Session, project: ProjectRow, *, by: UserRow | None) -> None:
    """Deletes the project with its tasks, annotations, predictions and export snapshot files."""
    audit(session, by, "project_deleted", project.id, "project", project.id, project.title)
    project_event(session, project, "PROJECT_DELETED")
    jobs.delete_project_job_files(session, project.id)
    session.delete(project)
    session.flush()


def project_for_user(
    session: Session, user: UserRow, project_id: int
) -> tuple[ProjectRow, Role | None]:
    """Returns the project and the user's role in it, if the user may see it at all.

    The one lookup every entry point (pages, API) makes before its role check: the project must
    belong to the user's active organization, and the user must be a member of the project or an
    administrator.

    Raises:
        NotFoundError: No such project, or one of another organization, or one the user is not
            a member of (all get the same answer: a project's existence is not leaked).
    """
    # The project and the user's membership in one query (every API request asks this).
    found = (
        session.execute(
            sa.select(ProjectRow, ProjectMemberRow.role)
            .outerjoin(
                ProjectMemberRow,
                sa.and_(
                    ProjectMemberRow.project_id == ProjectRow.id,
                    ProjectMemberRow.user_id == user.id,
                ),
            )
            .where(ProjectRow.id == project_id)
        ).one_or_none()
        if is_stored_id(project_id)
        else None
    )
    active = organization_service.active_organization_id(session, user)
    if found is None or active is None or found[0].organization_id != active:
        raise NotFoundError(f"project {project_id} not found")
    project, value = found
    role = Role(value) if value else None
    if role is None and not user.is_admin:
        raise NotFoundError(f"project {project_id} not found")
    return project, role


def visible_projects(
    session: Session,
    user: UserRow,
    *,
    search: str = "",
    offset: int = 0,
    limit: int | None = None,
) -> list[ProjectRow]:
    """Returns the projects of the user's active organization the user may see, newest first.

    Administrators see every project of their active organization, others the ones they are
    members of; nobody sees another organization's projects in this list. ``search`` keeps the
    projects whose title contains it (any case); ``offset`` and ``limit`` take one page.
    """
    query = _visible_query(session, user, search)
    if query is None:
        return []
    return list(session.scalars(query.order_by(ProjectRow.id.desc()).offset(offset).limit(limit)))


def count_visible_projects(session: Session, user: UserRow, *, search: str = "") -> int:
    """Returns how many projects :func:`visible_projects` lists for the user and search."""
    query = _visible_query(session, user, search)
    if query is None:
        return 0
    return session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0


def _visible_query(session: Session, user: UserRow, search: str) -> sa.Select[Any] | None:
    active = organization_service.active_organization_id(session, user)
    if active is None:
        return None
    query = sa.select(ProjectRow).where(ProjectRow.organization_id == active)
    if search.strip():
        query = query.where(ProjectRow.title.icontains(search.strip(), autoescape=True))
    if not user.is_admin:
        query = query.join(ProjectMemberRow, ProjectMemberRow.project_id == ProjectRow.id).where(
            ProjectMemberRow.user_id == user.id
        )
    return query


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
        InvalidInputError: The role is not manager, reviewer or annotator.
        NotFoundError: The user is not a member of the project's organization.
        ConflictError: The user is the project's last manager and the role is not manager.
    """
    parsed = parse_role(role)
    if not organization_service.same_organization(session, project.organization_id, user.id):
        raise NotFoundError(
            f"no user with id {user.id} in the organization of project {project.id}; "
            "add them to the organization first"
        )
    member = _membership(session, project.id, user.id)
    if member is None:
        member = ProjectMemberRow(project_id=project.id, user_id=user.id, role=parsed.value)
        session.add(member)
    else:
        if parsed is not Role.MANAGER:
            _keep_a_manager(session, project, member, "demote")
        member.role = parsed.value
    audit(session, by, "member_set", project.id, "user", user.id, parsed.value)
    session.flush()
    return member


def add_member(
    session: Session,
    project: ProjectRow,
    *,
    role: str,
    by: UserRow | None,
    user_id: int | None = None,
    email: str | None = None,
) -> ProjectMemberRow | None:
    """Returns the membership after adding a user, named by id or email, with this role.

    Nobody may learn from this call which accounts exist unless they may list users anyway:

    - Administrators (and the system, ``by=None``) get a NotFoundError naming an unknown id or
      email.
    - Anyone else adding by email gets the same answer, ``None``, for an unknown email as for
      one that was added (the page and API then answer identically); the member list shows who
      joined, one guessed address at a time.
    - Anyone else adding by id may only name people they already share a project with; every
      other id, existing or not, gets the same NotFoundError.
    - Only members of the project's organization can be added: anyone else counts as unknown,
      with the same answer as an email or id that names nobody.

    Raises:
        InvalidInputError: Neither or both of ``user_id`` and ``email`` are given, or the role
            is bad.
        NotFoundError: No such user that the caller may add (see above).
        ConflictError: The change would leave the project without a manager.
    """
    parse_role(role)
    if (user_id is None) == (email is None):
        raise InvalidInputError("name the member by exactly one of 'user' (an id) or 'email'")
    sees_everyone = by is None or by.is_admin
    if email is not None:
        user = _user_by_email(session, email)
        if user is None or not _in_organization(session, project, user):
            if sees_everyone:
                raise NotFoundError(
                    f"no user with email {email!r} in the organization of project {project.id}"
                )
            return None
    else:
        user = session.get(UserRow, user_id)
        if (
            user is None
            or not _in_organization(session, project, user)
            or not (sees_everyone or _shares_a_project(session, by, user.id))
        ):
            raise NotFoundError(f"no user with id {user_id} that you can add; add people by email")
    return set_member(session, project, user, role, by=by)


def _user_by_email(session: Session, email: str) -> UserRow | None:
    user = session.scalar(sa.select(UserRow).where(UserRow.email == normalize_email(email)))
    return user if user is not None and user.is_active and not user.is_imported else None


def _in_organization(session: Session, project: ProjectRow, user: UserRow) -> bool:
    return organization_service.same_organization(session, project.organization_id, user.id)


def _shares_a_project(session: Session, by: UserRow | None, user_id: int) -> bool:
    if by is None:
        return True
    mine = sa.select(ProjectMemberRow.project_id).where(ProjectMemberRow.user_id == by.id)
    return (
        session.scalar(
            sa.select(ProjectMemberRow.id)
            .where(ProjectMemberRow.user_id == user_id, ProjectMemberRow.project_id.in_(mine))
            .limit(1)
        )
        is not None
    )


def change_member_role(
    session: Session, project: ProjectRow, user_id: int, role: str, *, by: UserRow | None
) -> ProjectMemberRow:
    """Returns the membership after changing an existing member's role.

    Raises:
        NotFoundError: The user is not a member of the project (ids of non-members and of
            unknown users get the same answer).
        InvalidInputError: The role is not manager, reviewer or annotator.
        ConflictError: The member is the project's last manager and the role is not manager.
    """
    member = _membership(session, project.id, user_id)
    if member is None:
        raise NotFoundError(f"user {user_id} is not a member of project {project.id}")
    return set_member(session, project, member.user, role, by=by)


def remove_member(
    session: Session, project: ProjectRow, user_id: int, *, by: UserRow | None
) -> UserRow:
    """Returns the user after removing them from the project (their annotations stay).

    Raises:
        NotFoundError: The user is not a member of the project.
        ConflictError: The member is the project's last manager.
    """
    member = _membership(session, project.id, user_id)
    if member is None:
        raise NotFoundError(f"user {user_id} is not a member of project {project.id}")
    _keep_a_manager(session, project, member, "remove")
    user = member.user
    session.delete(member)
    audit(session, by, "member_removed", project.id, "user", user_id)
    session.flush()
    return user


def _membership(session: Session, project_id: int, user_id: int) -> ProjectMemberRow | None:
    return session.scalar(
        sa.select(ProjectMemberRow).where(
            ProjectMemberRow.project_id == project_id, ProjectMemberRow.user_id == user_id
        )
    )


def _keep_a_manager(
    session: Session, project: ProjectRow, member: ProjectMemberRow, verb: str
) -> None:
    if member.role != Role.MANAGER.value:
        return
    # Row locks on PostgreSQL: two managers demoting each other at once cannot both pass.
    managers = session.scalars(
        sa.select(ProjectMemberRow.id)
        .where(
            ProjectMemberRow.project_id == project.id,
            ProjectMemberRow.role == Role.MANAGER.value,
        )
        .with_for_update()
    ).all()
    if len(managers) <= 1:
        raise ConflictError(
            f"cannot {verb} {member.user.email}: they are the last manager of project "
            f"{project.id}; make another member manager first"
        )


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


def project_ids(session: Session) -> list[int]:
    """Returns every project id, ascending."""
    return list(session.scalars(sa.select(ProjectRow.id).order_by(ProjectRow.id)))
