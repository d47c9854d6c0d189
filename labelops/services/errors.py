"""Errors a service raises for the web and pipeline layers to map onto responses."""


class NotFoundError(LookupError):
    """The object asked for does not exist (or is not visible to the caller)."""


class PermissionDeniedError(PermissionError):
    """The user is not allowed to do this in this project."""


class ConflictError(ValueError):
    """The request clashes with the current state (e.g. a duplicate email)."""
