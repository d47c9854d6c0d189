"""Users, password checks and API tokens (stored as SHA-256 digests only)."""

import hashlib
import re
import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.orm import Session, joinedload

from labelops.clock import utcnow
from labelops.db.models import ApiTokenRow, ProjectMemberRow, UserRow
from labelops.domain.errors import InvalidInputError
from labelops.services import organizations as organization_service
from labelops.services.errors import ConflictError, NotFoundError, PermissionDeniedError
from labelops.services.rows import get_row

_hasher = PasswordHasher()
MIN_PASSWORD_LENGTH = 8
MAX_EMAIL_LENGTH = 254
MAX_EMAIL_LOCAL_LENGTH = 64
# A token's last use is stored to the minute: rewriting the row on every request would add a
# write and a commit to each API call.
TOKEN_USE_RESOLUTION = timedelta(minutes=1)
_EMAIL_ATOM = r"[^\W_]|[!#$%&'*+/=?^_`{|}~-]"
_EMAIL_LOCAL = re.compile(rf"(?:{_EMAIL_ATOM})+(?:\.(?:{_EMAIL_ATOM})+)*")
_EMAIL_LABEL = re.compile(r"[^\W_](?:[^\W_]|-){0,62}(?<!-)")


def create_user(
    session: Session,
    *,
    email: str,
    password: str | None,
    username: str = "",
    first_name: str = "",
    last_name: str = "",
    is_admin: bool = False,
    organization_id: int | None = None,
) -> UserRow:
    """Returns a new user with a hashed password, a member of one organization.

    The user joins the organization with ``organization_id`` (the creator's, or one named on the
    command line), else the Default one; an instance administrator joins as its admin.

    Raises:
        InvalidInputError: The email is malformed or the password is shorter than 8 characters.
        ConflictError: A user with that email exists.
        NotFoundError: There is no organization with ``organization_id``.
    """
    email = normalize_email(email)
    if password is not None:
        check_password(password)
    if session.scalar(sa.select(UserRow.id).where(UserRow.email == email)) is not None:
        raise ConflictError(f"a user with email {email!r} already exists")
    user = UserRow(
        email=email,
        username=username or email.split("@")[0],
        first_name=first_name,
        last_name=last_name,
        password_hash=_hasher.hash(password) if password else None,
        is_admin=is_admin,
    )
    organization = (
        organization_service.default_organization(session)
        if organization_id is None
        else organization_service.get_organization(session, organization_id)
    )
    session.add(user)
    session.flush()
    organization_service.join(
        session,
        organization,
        user,
        organization_service.ADMIN if is_admin else organization_service.MEMBER,
    )
    return user


def check_password(password: str) -> None:
    """Returns nothing when the password is acceptable for a new account or a new password.

    Raises:
        InvalidInputError: It is shorter than 8 characters.
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInputError(f"password must have at least {MIN_PASSWORD_LENGTH} characters")


def set_password(session: Session, email: str, password: str) -> UserRow:
    """Returns the user with this email after replacing their password (an administrator reset).

    The user's existing sessions, remember cookies and API tokens stop working.

    Raises:
        InvalidInputError: The email is malformed or the password is shorter than 8 characters.
        NotFoundError: No user has that email, or it is an imported annotator (no sign-in).
    """
    check_password(password)
    user = get_user_by_email(session, email)
    if user is None or user.is_imported:
        raise NotFoundError(f"no user with email {normalize_email(email)!r}")
    replace_password(session, user, password)
    return user


def replace_password(session: Session, user: UserRow, password: str) -> None:
    """Stores a new password (checked by :func:`check_password`) and revokes the old credentials.

    The one rule of every password change (own, administrator reset, one-time link): whoever
    knew the old password may have signed in or made an API token with it, so every session and
    remember cookie ends and every API token of the user is deleted.
    """
    user.password_hash = _hasher.hash(password)
    revoke_access(session, user)


def normalize_email(email: str) -> str:
    """Returns the email trimmed and lower-cased: the one email rule of every entry point.

    The sign-in and member forms, ``POST /api/users``, the CLI and ``labelops up`` all call
    this rule, so an address one of them accepts (``admin@labelops.local`` included: private
    and special-use domains are fine for a self-hosted tool) works in all of them. Nothing is
    looked up in DNS.

    Raises:
        InvalidInputError: It is not ``local@domain`` with a dot-atom local part (letters,
            digits and ``!#$%&'*+/=?^_`{|}~-``, dots between them) of at most 64 characters and
            a domain of dot-separated labels (letters, digits, inner hyphens) of at most 63
            characters each, 254 characters in all.
    """
    email = email.strip().lower()
    if len(email) > MAX_EMAIL_LENGTH:
        raise InvalidInputError(f"invalid email address: longer than {MAX_EMAIL_LENGTH} characters")
    local, at, domain = email.rpartition("@")
    if not at or not local or not domain:
        raise InvalidInputError(f"invalid email address {email!r}: expected name@domain")
    if len(local) > MAX_EMAIL_LOCAL_LENGTH or not _EMAIL_LOCAL.fullmatch(local):
        raise InvalidInputError(f"invalid email address {email!r}: the part before @ is not valid")
    if not all(_EMAIL_LABEL.fullmatch(label) for label in domain.split(".")):
        raise InvalidInputError(f"invalid email address {email!r}: the domain is not valid")
    return email


def authenticate(session: Session, email: str, password: str) -> UserRow | None:
    """Returns the active user whose email and password match, else None."""
    try:
        email = normalize_email(email)
    except InvalidInputError:
        return None
    user = session.scalar(sa.select(UserRow).where(UserRow.email == email))
    if user is None or not user.is_active or not user.password_hash:
        _hasher.hash("timing-equalizer")
        return None
    return user if _verify(user.password_hash, password) else None


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def issue_token(
    session: Session, user: UserRow, *, name: str = "api", revoke_others: bool = False
) -> str:
    """Returns a new API token for the user; only its digest is stored, so show it now.

    Args:
        session: The database session.
        user: Whose token it is.
        name: A label for the token.
        revoke_others: Delete the user's other tokens first (a reset).
    """
    if revoke_others:
        session.execute(sa.delete(ApiTokenRow).where(ApiTokenRow.user_id == user.id))
    key = secrets.token_hex(20)
    session.add(ApiTokenRow(user_id=user.id, key_digest=_digest(key), prefix=key[:8], name=name))
    session.flush()
    return key


def user_for_token(session: Session, key: str) -> UserRow | None:
    """Returns the active user an API token belongs to, else None.

    The token's ``last_used_at`` is moved on when it is more than ``TOKEN_USE_RESOLUTION`` old
    (the session then has a change for the caller to commit).
    """
    if not key:
        return None
    token = session.scalar(
        sa.select(ApiTokenRow)
        .options(joinedload(ApiTokenRow.user))
        .where(ApiTokenRow.key_digest == _digest(key))
    )
    if token is None or not token.user.is_active:
        return None
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at >= TOKEN_USE_RESOLUTION:
        token.last_used_at = now
    return token.user


def token_state(session: Session, user: UserRow) -> list[ApiTokenRow]:
    """Returns the user's live API tokens (prefix, name, dates), oldest first, without minting."""
    return list(
        session.scalars(
            sa.select(ApiTokenRow).where(ApiTokenRow.user_id == user.id).order_by(ApiTokenRow.id)
        )
    )


def last_activity(session: Session, user: UserRow) -> datetime | None:
    """Returns when the user last used an API token, or None (Label Studio's ``last_activity``)."""
    return session.scalar(
        sa.select(sa.func.max(ApiTokenRow.last_used_at)).where(ApiTokenRow.user_id == user.id)
    )


def session_user(session: Session, session_id: str) -> UserRow | None:
    """Returns the active user a session or remember cookie names, if its version is current.

    The cookie carries ``"<id>:<session_version>"`` (``UserRow.get_id``); a cookie issued before
    the user's last sign-out or password change carries an older version and names nobody.
    """
    user_id, sep, version = session_id.partition(":")
    if not sep or not user_id.isdigit() or not version.isdigit():
        return None
    user = session.get(UserRow, int(user_id))
    if user is None or not user.is_active or user.session_version != int(version):
        return None
    return user


def end_sessions(session: Session, user: UserRow) -> None:
    """Invalidates every session and remember cookie of the user (sign-out everywhere)."""
    user.session_version = (user.session_version or 0) + 1
    session.flush()


def change_password(
    session: Session, user: UserRow, *, current_password: str, new_password: str
) -> None:
    """Sets a new password after checking the current one; ends sessions, revokes API tokens.

    The caller signs the current browser in again (its session version changed).

    Raises:
        PermissionDeniedError: The current password is wrong.
        InvalidInputError: The new password is shorter than 8 characters or equals the current one.
    """
    if not user.password_hash or not _verify(user.password_hash, current_password):
        raise PermissionDeniedError("the current password is wrong")
    check_password(new_password)
    if new_password == current_password:
        raise InvalidInputError("the new password must differ from the current one")
    replace_password(session, user, new_password)


def revoke_access(session: Session, user: UserRow) -> None:
    """Ends every session of the user and deletes their API tokens (a reset or a deactivation)."""
    session.execute(sa.delete(ApiTokenRow).where(ApiTokenRow.user_id == user.id))
    end_sessions(session, user)


def grant_project_creation(
    session: Session, user: UserRow, allowed: bool = True, *, by: UserRow | None
) -> UserRow:
    """Returns the user after granting (or withdrawing) the right to create projects.

    Raises:
        PermissionDeniedError: ``by`` is a user who is not an administrator.
    """
    if by is not None and not by.is_admin:
        raise PermissionDeniedError("only administrators may grant project creation")
    user.can_create_projects = bool(allowed)
    session.flush()
    return user


def get_user(session: Session, user_id: int) -> UserRow:
    """Returns the user with this id.

    Raises:
        NotFoundError: There is none.
    """
    return get_row(session, UserRow, user_id, "user")


def find_user(session: Session, user_id: int | None) -> UserRow | None:
    """Returns the user with this id, or None when there is no id or no such user."""
    return session.get(UserRow, user_id) if user_id is not None else None


def visible_user(session: Session, user_id: int, *, by: UserRow) -> UserRow:
    """Returns the user if ``by`` may look them up (themselves, or any for an administrator).

    An administrator sees only the members of their active organization.

    Raises:
        PermissionDeniedError: ``by`` asks for someone else and is not an administrator.
        NotFoundError: No such user in the administrator's active organization (users of other
            organizations get the same answer as ids that do not exist).
    """
    if user_id == by.id:
        return by
    if not by.is_admin:
        raise PermissionDeniedError("only administrators may look up other users")
    active = organization_service.active_organization_id(session, by)
    user = session.get(UserRow, user_id)
    if (
        user is None
        or active is None
        or not organization_service.same_organization(session, active, user.id)
    ):
        raise NotFoundError(f"user {user_id} not found")
    return user


def get_user_by_email(session: Session, email: str) -> UserRow | None:
    """Returns the user with this email, or None."""
    return session.scalar(sa.select(UserRow).where(UserRow.email == normalize_email(email)))


def list_users(session: Session, *, by: UserRow | None = None) -> list[UserRow]:
    """Returns the users an administrator may list, oldest first.

    The system (``by=None``) gets every user; an administrator gets the members of their active
    organization only (nothing crosses organizations).

    Raises:
        PermissionDeniedError: ``by`` is a user who is not an administrator.
    """
    if by is None:
        return list(session.scalars(sa.select(UserRow).order_by(UserRow.id)))
    if not by.is_admin:
        raise PermissionDeniedError("only administrators may list users")
    return organization_service.member_users(
        session, organization_service.active_organization_id(session, by)
    )


IMPORTED_DOMAIN = "labelops.invalid"
_FOREIGN_ID = re.compile(r"imported-(\d+)")


def imported_annotator(
    session: Session,
    *,
    email: str | None,
    external_id: int | None,
    cache: dict[str, int],
    map_to_members_of: int | None = None,
) -> int | None:
    """Returns the local user id that stands for an annotator named in an imported file.

    A file cannot make anyone the author of an annotation: each annotator it names becomes an
    import user (no password, ``is_imported``) kept distinct per email or foreign id, so that
    agreement between annotators survives a move from another instance:
    ``imported-<sha256 of the email, 16 hex>@labelops.invalid`` for an email and
    ``imported-<id>@labelops.invalid`` for a foreign id. Only when a manager asks for it
    (``map_to_members_of``) does an email that belongs to a member of that project map to the
    member's own account.

    Args:
        session: The database session.
        email: The annotator's email from the file, if any (or the domain importer's
            ``imported-<id>`` name for a foreign id).
        external_id: The annotator's id in the other instance, if any.
        cache: Memo of key -> user id across one import.
        map_to_members_of: A project id whose members' emails map to their accounts.

    Raises:
        ConflictError: The import user's address belongs to an account that is not an import user.
    """
    match = _FOREIGN_ID.fullmatch(email or "")
    if match:
        email, external_id = None, int(match.group(1))
    if email:
        address = email.strip().lower()
        if map_to_members_of is not None:
            member = _member_by_email(session, map_to_members_of, address)
            if member is not None:
                return member
        if address.endswith(f"@{IMPORTED_DOMAIN}"):
            key = address  # already an import user's address (a re-imported export)
        else:
            digest = hashlib.sha256(address.encode()).hexdigest()[:16]
            key = f"imported-{digest}@{IMPORTED_DOMAIN}"
    elif external_id is not None:
        key = f"imported-{external_id}@{IMPORTED_DOMAIN}"
    else:
        return None
    if key in cache:
        return cache[key]
    found = session.execute(
        sa.select(UserRow.id, UserRow.is_imported).where(UserRow.email == key)
    ).first()
    if found is not None and not found.is_imported:
        raise ConflictError(f"account {key!r} is not an import user; imported work cannot go to it")
    if found is None:
        user = UserRow(
            email=key,
            username=key.split("@")[0],
            password_hash=None,
            is_imported=True,
            external_id=str(external_id) if external_id is not None else None,
        )
        session.add(user)
        session.flush()
        user_id = user.id
    else:
        user_id = found.id
    cache[key] = user_id
    return user_id


def _member_by_email(session: Session, project_id: int, email: str) -> int | None:
    """Returns the id of the project member with this email (import users excluded), else None."""
    return session.scalar(
        sa.select(UserRow.id)
        .join(ProjectMemberRow, ProjectMemberRow.user_id == UserRow.id)
        .where(
            ProjectMemberRow.project_id == project_id,
            UserRow.email == email,
            UserRow.is_imported.is_(False),
        )
    )
