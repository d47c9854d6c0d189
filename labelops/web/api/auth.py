"""API authentication (``Authorization: Token <key>`` or the browser session) and role checks."""

import math
import time
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import current_app, g, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError, validate_csrf
from limits import RateLimitItem, parse_many
from werkzeug.exceptions import TooManyRequests

from labelops.db.models import UserRow
from labelops.domain.errors import LabelopsError
from labelops.services.errors import PermissionDeniedError
from labelops.services.users import user_for_token
from labelops.web.extensions import db, limiter

F = TypeVar("F", bound=Callable[..., Any])
Policy = Callable[..., bool]
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class UnauthorizedError(LabelopsError):
    """No valid credentials came with the request."""

    status = 401
    code = "unauthorized"


class TooManyBadTokensError(TooManyRequests):
    """Too many requests with an invalid API token came from one address."""

    def __init__(self, limit: RateLimitItem, retry_after: int) -> None:
        """Builds the 429 naming the limit and the seconds to wait."""
        super().__init__(
            f"too many requests with an invalid API token from this address (limit: {limit}); "
            f"retry in {retry_after} seconds",
            retry_after=retry_after,
        )


def _bad_token_limits() -> tuple[list[RateLimitItem], tuple[str, str]]:
    limits = parse_many(current_app.config["BAD_TOKEN_LIMIT_PER_IP"])
    return limits, ("bad-api-token", request.remote_addr or "unknown")


def _refuse_token_guessing() -> None:
    """Raises TooManyBadTokensError once this address has used up its bad-token allowance."""
    limits, key = _bad_token_limits()
    for item in limits:
        if not limiter.limiter.test(item, *key):
            reset = limiter.limiter.get_window_stats(item, *key).reset_time
            raise TooManyBadTokensError(item, max(1, math.ceil(reset - time.time())))


def _count_bad_token() -> None:
    limits, key = _bad_token_limits()
    for item in limits:
        limiter.limiter.hit(item, *key)


def _user_from_request() -> UserRow:
    header = request.headers.get("Authorization", "")
    scheme, _, key = header.partition(" ")
    if header:
        _refuse_token_guessing()
        if scheme.lower() not in ("token", "bearer") or not key.strip():
            _count_bad_token()
            raise UnauthorizedError("Authorization header must be 'Token <key>'")
        user = user_for_token(db.session, key.strip())
        if user is None:
            _count_bad_token()
            raise UnauthorizedError("invalid or revoked API token")
        # Store a moved last_used_at now: left pending, the write (and on SQLite the database's
        # write lock) would last as long as the request, e.g. through a pipeline launch.
        if db.session.dirty:
            db.session.commit()
        return user
    if current_user.is_authenticated:
        if request.method not in _SAFE_METHODS:
            try:
                validate_csrf(request.headers.get("X-CSRFToken", ""))
            except CSRFError as exc:
                raise UnauthorizedError(f"CSRF check failed: {exc.description}") from exc
            except Exception as exc:  # flask-wtf raises ValidationError subclasses
                raise UnauthorizedError(f"CSRF check failed: {exc}") from exc
        signed_in: UserRow = current_user._get_current_object()  # noqa: SLF001 - Flask-Login proxy unwrapping
        return signed_in
    raise UnauthorizedError("authentication credentials were not provided")


def api_login_required(view: F) -> F:
    """Decorates a view so that ``g.user`` holds the authenticated user (401 otherwise)."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        g.user = _user_from_request()
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def require_admin() -> None:
    """Raises PermissionDeniedError unless the current user is an administrator."""
    if not g.user.is_admin:
        raise PermissionDeniedError("only administrators may do this")
