"""Organizations, the outer tenant: their members, their admins and each user's active one.

Users, projects and (through their users) API tokens belong to an organization, and nothing
crosses from one organization to another: every project lookup compares the project's
organization with the user's active organization (``policies.authorize``). An
organization's admins manage its members; instance administrators may create organizations and
administer any of them, but they too see only the projects of their active organization.
"""

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from labelops.db.models import (
    OrganizationMemberRow,
    OrganizationRow,
    ProjectMemberRow,
    ProjectRow,
    UserRow,
)
from labelops.domain.errors import InvalidInputError
from labelops.services import users as user_service
from labelops.services.errors import ConflictError, NotFoundError, PermissionDeniedError
from labelops.services.rows import get_row

DEFAULT_TITLE = "Default"
ADMIN = "admin"
MEMBER = "member"
ROLES = (ADMIN, MEMBER)
MAX_TITLE_LENGTH = 200


@dataclass(frozen=True)
class MembersPage:
    """One page of an organization's members, with the total count."""

    members: list[OrganizationMemberRow]
    total: int


def parse_org_role(role: str) -> str:
    """Returns the organization role, checked.

    Raises:
        InvalidInputError: The role is not "admin" or "member".
    """
    if role not in ROLES:
        raise InvalidInputError(
            f"organization role must be one of {', '.join(ROLES)}, got {role!r}"
        )
    return role


def create_organization(
    session: Session, title: str, *, by: UserRow | None, admin: UserRow | None = None
) -> OrganizationRow:
    """Returns a new organization; ``admin`` (if given) becomes its first admin.

    Raises:
        PermissionDeniedError: ``by`` is a user who is not an instance administrator.
        InvalidInputError: The title is empty or longer than 200 characters.
    """
    if by is not None and not by.is_admin:
        raise PermissionDeniedError("only instance administrators may create organizations")
    title = (title or "").strip()
    if not title or len(title) > MAX_TITLE_LENGTH:
        raise InvalidInputError(f"organization title must have 1 to {MAX_TITLE_LENGTH} characters")
    organization = OrganizationRow(title=title)
    session.add(organization)
    session.flush()
    if admin is not None:
        join(session, organization, admin, ADMIN)
    return organization


def default_organization(session: Session) -> OrganizationRow:
    """Returns the organization named "Default" (the oldest one), creating it if there is none."""
    organization = session.scalar(
        sa.select(OrganizationRow)
        .where(OrganizationRow.title == DEFAULT_TITLE)
        .order_by(OrganizationRow.id)
        .limit(1)
    )
    if organization is None:
        organization = OrganizationRow(title=DEFAULT_TITLE)
        session.add(organization)
        session.flush()
    return organization


def get_organization(session: Session, organization_id: int) -> OrganizationRow:
    """Returns the organization with this id.

    Raises:
        NotFoundError: There is none.
    """
    return get_row(session, OrganizationRow, organization_id, "organization")


def join(
    session: Session, organization: OrganizationRow, user: UserRow, role: str = MEMBER
) -> OrganizationMemberRow:
    """Returns the membership after putting the user in the organization with this role.

    A user without an active organization gets this one. No permission check: callers are the
    services that create users and organizations, and ``add_member``.
    """
    role = parse_org_role(role)
    member = membership(session, organization.id, user.id)
    if member is None:
        member = OrganizationMemberRow(organization_id=organization.id, user_id=user.id, role=role)
        session.add(member)
    else:
        member.role = role
    if active_organization_id(session, user) is None:
        user.active_organization_id = organization.id
    session.flush()
    return member


def membership(
    session: Session, organization_id: int, user_id: int
) -> OrganizationMemberRow | None:
    """Returns the user's membership of the organization, or None."""
    return session.scalar(
        sa.select(OrganizationMemberRow).where(
            OrganizationMemberRow.organization_id == organization_id,
            OrganizationMemberRow.user_id == user_id,
        )
    )


def organizations_of(session: Session, user: UserRow) -> list[OrganizationRow]:
    """Returns the organizations the user belongs to, oldest first."""
    return list(
        session.scalars(
            sa.select(OrganizationRow)
            .join(OrganizationMemberRow)
            .where(OrganizationMemberRow.user_id == user.id)
            .order_by(OrganizationRow.id)
        )
    )


def list_organizations(session: Session, *, by: UserRow | None) -> list[OrganizationRow]:
    """Returns every organization, oldest first (instance administrators and the system only).

    Raises:
        PermissionDeniedError: ``by`` is a user who is not an instance administrator.
    """
    if by is not None and not by.is_admin:
        raise PermissionDeniedError("only instance administrators may list every organization")
    return list(session.scalars(sa.select(OrganizationRow).order_by(OrganizationRow.id)))


def active_organization_id(session: Session, user: UserRow) -> int | None:
    """Returns the id of the organization the user acts in, or None if they belong to none.

    The stored choice counts only while the user is still a member (an instance administrator
    may also have chosen any existing organization); otherwise their oldest membership counts.
    """
    chosen = user.active_organization_id
    if chosen is not None:
        if membership(session, chosen, user.id) is not None:
            return chosen
        if user.is_admin and session.get(OrganizationRow, chosen) is not None:
            return chosen
    return session.scalar(
        sa.select(OrganizationMemberRow.organization_id)
        .where(OrganizationMemberRow.user_id == user.id)
        .order_by(OrganizationMemberRow.organization_id)
        .limit(1)
    )


def active_organization(session: Session, user: UserRow) -> OrganizationRow | None:
    """Returns the organization the user acts in, or None."""
    organization_id = active_organization_id(session, user)
    return session.get(OrganizationRow, organization_id) if organization_id is not None else None


def switch_organization(session: Session, user: UserRow, organization_id: int) -> OrganizationRow:
    """Returns the organization after making it the user's active one.

    Raises:
        NotFoundError: No such organization among the user's (instance administrators may
            switch to any existing one).
    """
    organization = session.get(OrganizationRow, organization_id)
    allowed = organization is not None and (
        user.is_admin or membership(session, organization.id, user.id) is not None
    )
    if not allowed or organization is None:
        raise NotFoundError(f"organization {organization_id} not found")
    user.active_organization_id = organization.id
    session.flush()
    return organization


def organization_of(session: Session, project: ProjectRow) -> OrganizationRow:
    """Returns the organization the project belongs to."""
    return session.get_one(OrganizationRow, project.organization_id)


def same_organization(session: Session, organization_id: int, user_id: int) -> bool:
    """Returns True when the user is a member of the organization."""
    return membership(session, organization_id, user_id) is not None


def visible_organization(session: Session, user: UserRow, organization_id: int) -> OrganizationRow:
    """Returns the organization if the user belongs to it (or is an instance administrator).

    Raises:
        NotFoundError: Otherwise (an outsider does not learn that it exists).
    """
    organization = session.get(OrganizationRow, organization_id)
    if organization is None or not (
        user.is_admin or membership(session, organization.id, user.id) is not None
    ):
        raise NotFoundError(f"organization {organization_id} not found")
    return organization


def can_administer(session: Session, user: UserRow | None, organization_id: int) -> bool:
    """Returns True when the user may manage the organization's members.

    ``None`` stands for the system itself (CLI) and may.
    """
    if user is None or user.is_admin:
        return True
    member = membership(session, organization_id, user.id)
    return member is not None and member.role == ADMIN


def _require_admin(session: Session, user: UserRow | None, organization: OrganizationRow) -> None:
    if not can_administer(session, user, organization.id):
        raise PermissionDeniedError(
            f"only admins of organization {organization.id} may manage its members"
        )


def members(
    session: Session, organization: OrganizationRow, *, page: int = 1, page_size: int = 100
) -> MembersPage:
    """Returns one page of the organization's members with their users, by email.

    Raises:
        InvalidInputError: The page or page size is not a positive number (page size at most 1000).
    """
    if page < 1 or not 1 <= page_size <= 1000:
        raise InvalidInputError("page must be 1 or more and page_size from 1 to 1000")
    where = OrganizationMemberRow.organization_id == organization.id
    total = session.scalar(sa.select(sa.func.count()).where(where)) or 0
    rows = session.scalars(
        sa.select(OrganizationMemberRow)
        .join(UserRow, UserRow.id == OrganizationMemberRow.user_id)
        .where(where)
        .order_by(UserRow.email)
        .offset((page - 1) * page_size)
        .limit(page_size)
    )
    return MembersPage(members=list(rows), total=int(total))


def member_users(session: Session, organization_id: int | None) -> list[UserRow]:
    """Returns the users of the organization, oldest account first (none for None)."""
    if organization_id is None:
        return []
    return list(
        session.scalars(
            sa.select(UserRow)
            .join(OrganizationMemberRow, OrganizationMemberRow.user_id == UserRow.id)
            .where(OrganizationMemberRow.organization_id == organization_id)
            .order_by(UserRow.id)
        )
    )


def add_member(
    session: Session,
    organization: OrganizationRow,
    *,
    email: str,
    role: str = MEMBER,
    by: UserRow | None,
) -> OrganizationMemberRow | None:
    """Returns the membership after adding the user with this email to the organization.

    An organization admin who is not an instance administrator gets the same answer, ``None``,
    for an unknown email as for one that was added, so the call does not tell which accounts
    exist; the member list shows who joined.

    Raises:
        PermissionDeniedError: ``by`` is not an admin of the organization.
        InvalidInputError: The email is malformed or the role is not admin or member.
        NotFoundError: The email is unknown and ``by`` is an instance administrator or the system.
    """
    _require_admin(session, by, organization)
    role = parse_org_role(role)
    user = user_service.get_user_by_email(session, email)
    if user is None or not user.is_active or user.is_imported:
        if by is None or by.is_admin:
            raise NotFoundError(f"no user with email {email.strip().lower()!r}")
        return None
    member = membership(session, organization.id, user.id)
    if member is not None:
        return member
    return join(session, organization, user, role)


def change_role(
    session: Session, organization: OrganizationRow, user_id: int, role: str, *, by: UserRow | None
) -> OrganizationMemberRow:
    """Returns the membership after changing a member's role.

    Raises:
        PermissionDeniedError: ``by`` is not an admin of the organization.
        NotFoundError: The user is not a member.
        InvalidInputError: The role is not admin or member.
        ConflictError: The member is the organization's last admin and the role is member.
    """
    _require_admin(session, by, organization)
    role = parse_org_role(role)
    member = membership(session, organization.id, user_id)
    if member is None:
        raise NotFoundError(f"user {user_id} is not a member of organization {organization.id}")
    if role != ADMIN:
        _keep_an_admin(session, organization, member, "demote")
    member.role = role
    session.flush()
    return member


def remove_member(
    session: Session, organization: OrganizationRow, user_id: int, *, by: UserRow | None
) -> None:
    """Removes the user from the organization and from each of its projects.

    Their annotations stay. A member may always leave (``by`` is themselves).

    Raises:
        PermissionDeniedError: ``by`` is neither an admin of the organization nor the member.
        NotFoundError: The user is not a member.
        ConflictError: The member is the organization's last admin.
    """
    if by is None or by.id != user_id:
        _require_admin(session, by, organization)
    member = membership(session, organization.id, user_id)
    if member is None:
        raise NotFoundError(f"user {user_id} is not a member of organization {organization.id}")
    _keep_an_admin(session, organization, member, "remove")
    projects = sa.select(ProjectRow.id).where(ProjectRow.organization_id == organization.id)
    session.execute(
        sa.delete(ProjectMemberRow).where(
            ProjectMemberRow.user_id == user_id, ProjectMemberRow.project_id.in_(projects)
        )
    )
    session.delete(member)
    session.flush()


def _keep_an_admin(
    session: Session, organization: OrganizationRow, member: OrganizationMemberRow, verb: str
) -> None:
    if member.role != ADMIN:
        return
    # Row locks on PostgreSQL: two admins demoting each other at once cannot both pass.
    admins = session.scalars(
        sa.select(OrganizationMemberRow.id)
        .where(
            OrganizationMemberRow.organization_id == organization.id,
            OrganizationMemberRow.role == ADMIN,
        )
        .with_for_update()
    ).all()
    if len(admins) <= 1:
        raise ConflictError(
            f"cannot {verb} {member.user.email}: they are the last admin of organization "
            f"{organization.id}; make another member admin first"
        )
