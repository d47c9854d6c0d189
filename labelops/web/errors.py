"""One JSON error shape for the API, and the mapping of domain/service errors onto HTTP codes."""

from typing import Any

from flask import Flask, Response, current_app, jsonify, request
from werkzeug.exceptions import HTTPException

from labelops.domain.errors import (
    AnnotationError,
    LabelConfigError,
    StateTransitionError,
    TaskImportError,
    UnknownFormatError,
)
from labelops.domain.json_limits import JsonLimitError
from labelops.services.errors import ConflictError, NotFoundError, PermissionDeniedError


class RequestValidationError(Exception):
    """A request body or parameter is malformed; answered as JSON naming each bad field.

    Attributes:
        status: The HTTP status (400, or 415 for a body that is not JSON).
        detail: A one-line summary naming the first problem.
        errors: Field path -> messages.
    """

    def __init__(self, detail: str, errors: dict[str, list[str]], *, status: int = 400) -> None:
        self.status = status
        self.detail = detail
        self.errors = errors
        super().__init__(detail)


def invalid(path: str, message: str, *, status: int = 400) -> RequestValidationError:
    """Returns the error for one bad field (``path`` "" means the body as a whole)."""
    where = path or "body"
    return RequestValidationError(f"{where}: {message}", {where: [message]}, status=status)


def error_response(status: int, message: str, **extra: Any) -> tuple[Response, int]:
    """Returns a JSON body ``{"detail": message, "status_code": status, ...}`` and the code."""
    body = {"detail": message, "status_code": status, **extra}
    return jsonify(body), status


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/api"


def register_error_handlers(app: Flask) -> None:
    """Maps domain and service errors to status codes; API paths always answer JSON."""

    @app.errorhandler(LabelConfigError)
    def _config_error(exc: LabelConfigError) -> Any:
        return error_response(400, str(exc), validation_errors={"label_config": [exc.to_dict()]})

    @app.errorhandler(TaskImportError)
    def _import_error(exc: TaskImportError) -> Any:
        return error_response(
            400,
            str(exc),
            validation_errors={exc.field or "body": [exc.message]},
            **{k: v for k, v in exc.to_dict().items() if k != "message"},
        )

    @app.errorhandler(AnnotationError)
    def _annotation_error(exc: AnnotationError) -> Any:
        return error_response(422, str(exc), index=exc.index, field=exc.field)

    @app.errorhandler(StateTransitionError)
    def _state_error(exc: StateTransitionError) -> Any:
        return error_response(409, str(exc))

    @app.errorhandler(UnknownFormatError)
    def _format_error(exc: UnknownFormatError) -> Any:
        return error_response(400, str(exc))

    @app.errorhandler(NotFoundError)
    def _not_found(exc: NotFoundError) -> Any:
        return error_response(404, str(exc))

    @app.errorhandler(PermissionDeniedError)
    def _forbidden(exc: PermissionDeniedError) -> Any:
        return error_response(403, str(exc) or "you do not have permission to do this")

    @app.errorhandler(ConflictError)
    def _conflict(exc: ConflictError) -> Any:
        return error_response(409, str(exc))

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Any:
        if _wants_json():
            return error_response(exc.code or 500, exc.description or exc.name)
        return exc

    @app.errorhandler(ValueError)
    def _value_error(exc: ValueError) -> Any:
        return error_response(400, str(exc))

    @app.errorhandler(RequestValidationError)
    def _invalid_request(exc: RequestValidationError) -> Any:
        return error_response(exc.status, exc.detail, validation_errors=exc.errors)

    @app.errorhandler(JsonLimitError)
    def _json_limit(exc: JsonLimitError) -> Any:
        return error_response(400, str(exc), validation_errors={exc.path or "body": [exc.message]})

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Any:
        if not _wants_json():
            raise exc
        current_app.logger.exception("unexpected error on %s %s", request.method, request.path)
        return error_response(500, "internal server error")


def register_api_auth_handler(app: Flask, error_type: type[Exception]) -> None:
    """Answers 401 with a JSON body (and a Token challenge) for the given authentication error."""

    @app.errorhandler(error_type)
    def _unauthorized(exc: Exception) -> Any:
        response, status = error_response(401, str(exc))
        response.headers["WWW-Authenticate"] = "Token"
        return response, status
