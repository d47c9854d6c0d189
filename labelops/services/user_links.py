"""One-time links that let a user set their password: invitations and password resets.

A link carries a random token (256 bits, URL-safe); only its SHA-256 digest is stored. A link
works once and until it expires: claiming it marks it used in a conditional update (two
redemptions racing cannot both succeed); ``user_admin.set_password_by_link`` then sets the
password and ends the user's sessions and API tokens. A wrong, used or expired token gets the
same status (410) whatever the reason.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from labelops.clock import utcnow
from labelops.db.models import UserLinkRow, UserRow
from labelops.services.errors import NotFoundError, PermissionDeniedError

INVITE = "invite"
RESET = "reset"
PURPOSES = (INVITE, RESET)
LIFETIMES = {INVITE: timedelta(days=7), RESET: timedelta(hours=24)}
LINK_PATH = "/auth/link/"


class LinkRefusedError(NotFoundError):
    """The link is unknown, used, expired, or its user is deactivated (410 Gone)."""

    status = 410
    code = "link_refused"


@dataclass(frozen=True)
class IssuedLink:
    """A link just issued: the token to put in the URL (shown once) and when it expires."""

    token: str
    path: str
    purpose: str
    expires_at: datetime


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_link(
    session: Session,
    user: UserRow,
    purpose: str,
    *,
    by: UserRow | None,
    now: datetime | None = None,
) -> IssuedLink:
    """Returns a new one-time link for the user; the user's earlier unused links stop working.

    Raises:
        PermissionDeniedError: ``by`` is not an administrator, or the user is an imported
            annotator (no sign-in) or deactivated.
    """
    if by is not None and not by.is_admin:
        raise PermissionDeniedError("only administrators may issue invitation or reset links")
    if user.is_imported:
        raise PermissionDeniedError(
            f"user {user.email!r} is an imported annotator and can't sign in"
        )
    if not user.is_active:
        raise PermissionDeniedError(f"user {user.email!r} is deactivated; reactivate them first")
    now = now or utcnow()
    revoke_links(session, user, now=now)
    token = secrets.token_urlsafe(32)
    expires_at = now + LIFETIMES[purpose]
    session.add(
        UserLinkRow(
            user_id=user.id,
            purpose=purpose,
            token_digest=_digest(token),
            created_by_id=by.id if by is not None else None,
            created_at=now,
            expires_at=expires_at,
        )
    )
    session.flush()
    return IssuedLink(token=token, path=LINK_PATH + token, purpose=purpose, expires_at=expires_at)


def revoke_links(session: Session, user: UserRow, *, now: datetime | None = None) -> None:
    """Marks every unused link of the user as used, so none of them works any more."""
    session.execute(
        sa.update(UserLinkRow)
        .where(UserLinkRow.user_id == user.id, UserLinkRow.used_at.is_(None))
        .values(used_at=now or utcnow())
    )


def open_link(session: Session, token: str, *, now: datetime | None = None) -> UserLinkRow:
    """Returns the link a token names while it can still be used (to show its form).

    Raises:
        LinkRefusedError: No link has this token, it was used, it expired, or its user is
            deactivated.
    """
    now = now or utcnow()
    link = (
        session.scalar(sa.select(UserLinkRow).where(UserLinkRow.token_digest == _digest(token)))
        if token
        else None
    )
    if link is None:
        raise LinkRefusedError("this link is not valid: ask an administrator for a new one")
    if link.used_at is not None:
        raise LinkRefusedError("this link was already used: ask an administrator for a new one")
    if link.expires_at <= now:
        raise LinkRefusedError("this link has expired: ask an administrator for a new one")
    if not link.user.is_active:
        raise LinkRefusedError("this account is deactivated")
    return link


def claim_link(session: Session, token: str, *, now: datetime | None = None) -> UserLinkRow:
    """Returns the link after marking it used, in one conditional update (it works once).

    Raises:
        LinkRefusedError: The link cannot be used (see :func:`open_link`), or another request
            claimed it first.
    """
    now = now or utcnow()
    link = open_link(session, token, now=now)
    claimed = session.execute(
        sa.update(UserLinkRow)
        .where(UserLinkRow.id == link.id, UserLinkRow.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if getattr(claimed, "rowcount", 0) != 1:
        raise LinkRefusedError("this link was already used: ask an administrator for a new one")
    return link
