"""Errors a service raises when the object is missing, the user may not, or the state clashes."""

from labelops.domain.errors import LabelopsError


class NotFoundError(LabelopsError):
    """The object asked for does not exist (or is not visible to the caller)."""

    status = 404
    code = "not_found"


class PermissionDeniedError(LabelopsError):
    """The user is not allowed to do this in this project."""

    status = 403
    code = "permission_denied"


class ConflictError(LabelopsError):
    """The request clashes with the current state (e.g. a duplicate email)."""

    status = 409
    code = "conflict"
