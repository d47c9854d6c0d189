"""What an administrator does to accounts: invite, deactivate, reset a password, page the list.

The users page, ``/api/users`` and ``labelops user`` all call these functions; ``by`` is the
administrator acting (None for the command line, which acts as the system).
"""

import math
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from labelops.db.models import OrganizationMemberRow, UserRow
from labelops.domain.errors import InvalidInputError
from labelops.services import organizations as organization_service
from labelops.services import user_links, users
from labelops.services.errors import PermissionDeniedError


def _require_admin(by: UserRow | None, what: str) -> None:
    if by is not None and not by.is_admin:
        raise PermissionDeniedError(f"only administrators may {what}")


def _require_sign_in_account(user: UserRow) -> None:
    if user.is_imported:
        raise InvalidInputError(f"user {user.email!r} is an imported annotator and can't sign in")


def invite_user(
    session: Session,
    *,
    email: str,
    by: UserRow | None,
    organization_id: int | None = None,
    username: str = "",
    first_name: str = "",
    last_name: str = "",
) -> tuple[UserRow, user_links.IssuedLink]:
    """Returns a new account without a password and the one-time link that lets them set it.

    Raises:
        PermissionDeniedError: ``by`` is not an administrator.
        InvalidInputError: The email is malformed.
        ConflictError: A user with that email exists.
    """
    _require_admin(by, "invite users")
    user = users.create_user(
        session,
        email=email,
        password=None,
        username=username,
        first_name=first_name,
        last_name=last_name,
        organization_id=organization_id,
    )
    return user, user_links.issue_link(session, user, user_links.INVITE, by=by)


def set_active(session: Session, user: UserRow, active: bool, *, by: UserRow | None) -> UserRow:
    """Returns the user after deactivating or reactivating their account.

    A deactivated user cannot sign in; their sessions end and their API tokens and unused links
    are deleted (a reactivated user signs in with their password and makes a new token).

    Raises:
        PermissionDeniedError: ``by`` is not an administrator.
        InvalidInputError: An administrator deactivates their own account, or the user is an
            imported annotator.
    """
    _require_admin(by, "deactivate or reactivate users")
    _require_sign_in_account(user)
    if not active and by is not None and by.id == user.id:
        raise InvalidInputError("you can't deactivate your own account")
    if not active:
        users.revoke_access(session, user)
        user_links.revoke_links(session, user)
    user.is_active = bool(active)
    session.flush()
    return user


def reset_password(
    session: Session, user: UserRow, *, by: UserRow | None, password: str | None = None
) -> user_links.IssuedLink | None:
    """Resets a user's password: to a temporary one when given, else by a one-time link.

    Either way the user's sessions end, their API tokens are deleted and their earlier links
    stop working. Returns the new link, or None when a temporary password was set.

    Raises:
        PermissionDeniedError: ``by`` is not an administrator, or the user is deactivated
            (for a link).
        InvalidInputError: The password is shorter than 8 characters, the user is an imported
            annotator, or an administrator resets their own password.
    """
    _require_admin(by, "reset passwords")
    _require_sign_in_account(user)
    if by is not None and by.id == user.id:
        raise InvalidInputError(
            "change your own password on your account page (it asks for the current one)"
        )
    if password is not None:
        users.check_password(password)
    if password is None:
        users.revoke_access(session, user)
        return user_links.issue_link(session, user, user_links.RESET, by=by)
    user_links.revoke_links(session, user)
    users.replace_password(session, user, password)
    session.flush()
    return None


def set_password_by_link(session: Session, token: str, password: str) -> UserRow:
    """Returns the user after setting their password through a one-time link (used up now).

    Raises:
        InvalidInputError: The password is shorter than 8 characters (the link still works).
        LinkRefusedError: The link is unknown, used, expired or its user deactivated.
    """
    user_links.open_link(session, token)
    users.check_password(password)
    link = user_links.claim_link(session, token)
    user = link.user
    users.replace_password(session, user, password)
    return user


def account_state(user: UserRow) -> str:
    """Returns ``"deactivated"``, ``"invited"`` (no password yet), ``"imported"``, ``"active"``."""
    if user.is_imported:
        return "imported"
    if not user.is_active:
        return "deactivated"
    return "active" if user.password_hash else "invited"


@dataclass(frozen=True)
class UserPage:
    """One page of an organization's users."""

    users: list[UserRow]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        """Returns how many pages there are (at least one)."""
        return max(1, math.ceil(self.total / self.per_page))


MAX_PER_PAGE = 100


def page_users(
    session: Session,
    *,
    by: UserRow,
    page: int = 1,
    per_page: int = 25,
    include_imported: bool = False,
) -> UserPage:
    """Returns one page of the users of the administrator's active organization, oldest first.

    Raises:
        PermissionDeniedError: ``by`` is not an administrator.
        InvalidInputError: ``page`` is below 1 or ``per_page`` outside 1..100.
    """
    _require_admin(by, "list users")
    if page < 1:
        raise InvalidInputError(f"page must be 1 or more, got {page}")
    if not 1 <= per_page <= MAX_PER_PAGE:
        raise InvalidInputError(f"page_size must be between 1 and {MAX_PER_PAGE}, got {per_page}")
    active = organization_service.active_organization_id(session, by)
    query = (
        sa.select(UserRow)
        .join(OrganizationMemberRow, OrganizationMemberRow.user_id == UserRow.id)
        .where(OrganizationMemberRow.organization_id == active)
    )
    if not include_imported:
        query = query.where(UserRow.is_imported.is_(False))
    total = session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(UserRow.id).offset((page - 1) * per_page).limit(per_page))
    return UserPage(users=list(rows), total=total, page=page, per_page=per_page)
