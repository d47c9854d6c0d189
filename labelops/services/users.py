"""Users, password checks and API tokens (stored as SHA-256 digests only)."""

import hashlib
import re
import secrets

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.orm import Session

from labelops.db.models import ApiTokenRow, UserRow, utcnow
from labelops.services.errors import ConflictError, NotFoundError

_hasher = PasswordHasher()
MIN_PASSWORD_LENGTH = 8
MAX_EMAIL_LENGTH = 254
MAX_EMAIL_LOCAL_LENGTH = 64
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
) -> UserRow:
    """Returns a new user with a hashed password.

    Raises:
        ValueError: The email is malformed or the password is shorter than 8 characters.
        ConflictError: A user with that email exists.
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
    session.add(user)
    session.flush()
    return user


def check_password(password: str) -> None:
    """Returns nothing when the password is acceptable for a new account or a new password.

    Raises:
        ValueError: It is shorter than 8 characters.
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"password must have at least {MIN_PASSWORD_LENGTH} characters")


def set_password(session: Session, email: str, password: str) -> UserRow:
    """Returns the user with this email after replacing their password (an administrator reset).

    Raises:
        ValueError: The email is malformed or the password is shorter than 8 characters.
        NotFoundError: No user has that email, or it is an imported annotator (no sign-in).
    """
    check_password(password)
    user = get_user_by_email(session, email)
    if user is None or user.is_imported:
        raise NotFoundError(f"no user with email {normalize_email(email)!r}")
    user.password_hash = _hasher.hash(password)
    session.flush()
    return user


def normalize_email(email: str) -> str:
    """Returns the email trimmed and lower-cased: the one email rule of every entry point.

    The sign-in and member forms, ``POST /api/users``, the CLI and ``labelops up`` all call
    this rule, so an address one of them accepts (``admin@labelops.local`` included: private
    and special-use domains are fine for a self-hosted tool) works in all of them. Nothing is
    looked up in DNS.

    Raises:
        ValueError: It is not ``local@domain`` with a dot-atom local part (letters, digits and
            ``!#$%&'*+/=?^_`{|}~-``, dots between them) of at most 64 characters and a domain
            of dot-separated labels (letters, digits, inner hyphens) of at most 63 characters
            each, 254 characters in all.
    """
    email = email.strip().lower()
    if len(email) > MAX_EMAIL_LENGTH:
        raise ValueError(f"invalid email address: longer than {MAX_EMAIL_LENGTH} characters")
    local, at, domain = email.rpartition("@")
    if not at or not local or not domain:
        raise ValueError(f"invalid email address {email!r}: expected name@domain")
    if len(local) > MAX_EMAIL_LOCAL_LENGTH or not _EMAIL_LOCAL.fullmatch(local):
        raise ValueError(f"invalid email address {email!r}: the part before @ is not valid")
    if not all(_EMAIL_LABEL.fullmatch(label) for label in domain.split(".")):
        raise ValueError(f"invalid email address {email!r}: the domain is not valid")
    return email


def authenticate(session: Session, email: str, password: str) -> UserRow | None:
    """Returns the active user whose email and password match, else None."""
    try:
        email = normalize_email(email)
    except ValueError:
        return None
    user = session.scalar(sa.select(UserRow).where(UserRow.email == email))
    if user is None or not user.is_active or not user.password_hash:
        _hasher.hash("timing-equalizer")
        return None
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    return user


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
    """Returns the active user an API token belongs to, else None."""
    if not key:
        return None
    token = session.scalar(sa.select(ApiTokenRow).where(ApiTokenRow.key_digest == _digest(key)))
    if token is None or not token.user.is_active:
        return None
    token.last_used_at = utcnow()
    return token.user


def get_user(session: Session, user_id: int) -> UserRow:
    """Returns the user with this id.

    Raises:
        NotFoundError: There is none.
    """
    user = session.get(UserRow, user_id)
    if user is None:
        raise NotFoundError(f"user {user_id} not found")
    return user


def get_user_by_email(session: Session, email: str) -> UserRow | None:
    """Returns the user with this email, or None."""
    return session.scalar(sa.select(UserRow).where(UserRow.email == normalize_email(email)))


def list_users(session: Session) -> list[UserRow]:
    """Returns every user, oldest first."""
    return list(session.scalars(sa.select(UserRow).order_by(UserRow.id)))


def imported_annotator(
    session: Session, *, email: str | None, external_id: int | None, cache: dict[str, int]
) -> int | None:
    """Returns the local user id that stands for an annotator named in an imported file.

    Matches by email where one is given (a known user keeps their identity); otherwise a
    foreign id becomes a distinct imported annotator ``imported-<id>@labelops.invalid`` so that
    agreement between annotators survives a move from another instance.

    Args:
        session: The database session.
        email: The annotator's email from the file, if any.
        external_id: The annotator's id in the other instance, if any.
        cache: Memo of key -> user id across one import.
    """
    if email:
        key = normalize_email(email)
    elif external_id is not None:
        key = f"imported-{external_id}@labelops.invalid"
    else:
        return None
    if key in cache:
        return cache[key]
    user_id = session.scalar(sa.select(UserRow.id).where(UserRow.email == key))
    if user_id is None:
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
    cache[key] = user_id
    return user_id
