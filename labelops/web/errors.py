"""The one error path of the app: JSON for the API, the app's error page for pages.

Every error a user can cause is a :class:`LabelopsError` that carries its status and code, so one
handler answers them all; an HTTP error (an unknown URL, a CSRF failure) gets the same two
answers. Anything else is a bug: it is logged and answered with a generic 500 that does not
repeat its message.
"""

from typing import Any

from flask import Flask, Response, current_app, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, TooManyRequests

from labelops.domain.errors import LabelopsError

GENERIC_500 = "internal server error"


class RequestValidationError(LabelopsError):
    """A request body or parameter is malformed; answered as JSON naming each bad field.

    Attributes:
        status: The HTTP status (400, or 415 for a body that is not JSON).
        detail: A one-line summary naming the first problem.
        errors: Field path -> messages.
    """

    code = "invalid_request"

    def __init__(self, detail: str, errors: dict[str, list[str]], *, status: int = 400) -> None:
        self.status = status
        self.detail = detail
        self.errors = errors
        super().__init__(detail)

    def details(self) -> dict[str, object]:
        """Returns the messages by field path under ``validation_errors``."""
        return {"validation_errors": self.errors}


def invalid(path: str, message: str, *, status: int = 400) -> RequestValidationError:
    """Returns the error for one bad field (``path`` "" means the body as a whole)."""
    where = path or "body"
    return RequestValidationError(f"{where}: {message}", {where: [message]}, status=status)


def error_response(status: int, message: str, **extra: Any) -> tuple[Response, int]:
    """Returns a JSON body ``{"detail": message, "status_code": status, ...}`` and the code."""
    body = {"detail": message, "status_code": status, **extra}
    return jsonify(body), status


def wants_json() -> bool:
    """Returns True when the request is an API request (answered in JSON)."""
    return request.path.startswith("/api/") or request.path == "/api"


def error_page(status: int, message: str = "") -> tuple[str, int]:
    """Returns the app's error page for a status, with the message that says what was wrong."""
    return render_template("errors/refused.html", status=status, message=message), status


def register_error_handlers(app: Flask) -> None:
    """Answers every error: LabelopsError and HTTP errors by their status, anything else as 500."""

    @app.errorhandler(LabelopsError)
    def _labelops_error(exc: LabelopsError) -> Any:
        message = str(exc)
        if not wants_json():
            page, status = error_page(exc.status, message)
            retry = {"Retry-After": str(exc.retry_after)} if exc.retry_after is not None else {}
            return page, status, retry
        response, status = error_response(exc.status, message, **exc.details())
        if status == 401:
            response.headers["WWW-Authenticate"] = "Token"
        if exc.retry_after is not None:
            response.headers["Retry-After"] = str(exc.retry_after)
        return response, status

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Any:
        status = exc.code or 500
        if wants_json():
            if isinstance(exc, TooManyRequests):
                response, status = error_response(429, f"too many requests: {exc.description}")
                retry_after = getattr(exc, "retry_after", None)
                if retry_after is not None:
                    response.headers["Retry-After"] = str(retry_after)
                return response, status
            return error_response(status, exc.description or exc.name)
        custom = exc.description if exc.description != type(exc).description else ""
        return error_page(status, "" if status >= 500 else custom or "")

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Any:
        if not wants_json():
            raise exc  # Flask logs it and answers with the 500 page (or re-raises in tests)
        current_app.logger.exception("unexpected error on %s %s", request.method, request.path)
        return error_response(500, GENERIC_500)
