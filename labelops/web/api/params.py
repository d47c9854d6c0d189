"""Query parameters: declared once (:class:`QueryParam`), parsed strictly, published in OpenAPI.

Integers are ASCII digits within their range (ids 1 to 2^63-1), numbers are finite, strings are
bounded and hold no NUL character; each error names the parameter.
"""

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from flask import request

from labelops.domain.json_limits import MAX_ID
from labelops.services.tasks import SORT_COLUMNS, TaskFilter
from labelops.web.api.validation import parse_json
from labelops.web.errors import invalid

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}
_INTEGER = re.compile(r"-?[0-9]{1,20}")
MAX_PAGE = 10_000_000
MAX_ARG_LENGTH = 10_000
MAX_IDS = 10_000
Kind = Literal["integer", "number", "boolean", "string", "date-time", "ids"]


def _param_error(name: str, message: str) -> Exception:
    return invalid(name, f"query parameter {name!r} {message}")


def check_query_args() -> None:
    """Refuses query parameters holding NUL characters or longer than MAX_ARG_LENGTH.

    Raises:
        RequestValidationError: One does (named).
    """
    for name, value in request.args.items(multi=True):
        if "\x00" in name or "\x00" in value:
            raise _param_error(name.replace("\x00", ""), "must not contain NUL characters")
        if len(value) > MAX_ARG_LENGTH:
            raise _param_error(name, f"must have at most {MAX_ARG_LENGTH} characters")


def _int(raw: str, name: str, minimum: int | None, maximum: int | None) -> int:
    if not _INTEGER.fullmatch(raw.strip()):
        raise _param_error(name, f"must be an integer, got {raw[:40]!r}")
    value = int(raw)
    if minimum is not None and value < minimum:
        raise _param_error(name, f"must be at least {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise _param_error(name, f"must be at most {maximum}, got {value}")
    return value


def int_arg(
    name: str, default: int, *, minimum: int | None = None, maximum: int | None = MAX_ID
) -> int:
    """Returns an integer query argument (at most 2^63-1 unless told otherwise).

    Raises:
        RequestValidationError: It is not an integer or is out of range (message names it).
    """
    raw = request.args.get(name)
    if raw is None:
        return default
    return _int(raw, name, minimum, maximum)


def float_arg(name: str) -> float | None:
    """Returns a finite float query argument or None when absent.

    Raises:
        RequestValidationError: It is not a finite number.
    """
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = float(raw)
    except ValueError:
        raise _param_error(name, f"must be a number, got {raw[:40]!r}") from None
    if not math.isfinite(value):
        raise _param_error(name, f"must be a finite number, got {raw[:40]!r}")
    return value


def datetime_arg(name: str) -> datetime | None:
    """Returns an ISO 8601 query argument as naive UTC, or None when absent.

    Raises:
        RequestValidationError: It is not an ISO 8601 date or time.
    """
    raw = request.args.get(name)
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
    except (ValueError, OverflowError):
        raise _param_error(name, f"must be an ISO 8601 time, got {raw[:40]!r}") from None


def int_list(raw: str, name: str) -> list[int]:
    """Returns a comma-separated list of ids.

    Raises:
        RequestValidationError: An item is not an id, or there are too many (names the parameter).
    """
    parts = [part for part in raw.split(",") if part.strip()]
    if len(parts) > MAX_IDS:
        raise _param_error(name, f"must list at most {MAX_IDS} ids")
    return [_int(part, name, 1, MAX_ID) for part in parts]


def bool_arg(name: str, default: bool) -> bool:
    """Returns a boolean query argument (true/false/1/0/yes/no).

    Raises:
        RequestValidationError: It is none of those.
    """
    raw = request.args.get(name)
    if raw is None:
        return default
    if raw.lower() in _TRUE:
        return True
    if raw.lower() in _FALSE:
        return False
    raise _param_error(name, f"must be true or false, got {raw[:40]!r}")


def optional_bool_arg(name: str) -> bool | None:
    """Returns a boolean query argument, or None when absent."""
    return bool_arg(name, False) if name in request.args else None


def str_arg(name: str, default: str | None = None, *, choices: tuple[str, ...] = ()) -> str | None:
    """Returns a string query argument (one of ``choices`` when given), or the default.

    Raises:
        RequestValidationError: It is not one of the choices.
    """
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if choices and raw not in choices:
        raise _param_error(name, f"must be one of {', '.join(choices)}, got {raw[:40]!r}")
    return raw


def json_body(kind: type, *, optional: bool = False) -> Any:
    """Returns the request's JSON body (parsed with the limits of ``parse_json``), of one kind.

    Endpoints with a schema use ``validation.read_body`` instead.

    Raises:
        RequestValidationError: The body is missing, not JSON, or of the wrong kind.
    """
    raw = request.get_data(cache=True)
    if optional and not raw:
        return None
    if not request.is_json:
        raise invalid("", "request body must be JSON (Content-Type: application/json)")
    body = parse_json(raw)
    if not isinstance(body, kind):
        expected = "an object" if kind is dict else "a list"
        raise invalid("", f"request body must be {expected}, got {type(body).__name__}")
    return body


@dataclass(frozen=True)
class QueryParam:
    """One query parameter: how it is parsed and how OpenAPI describes it."""

    name: str
    kind: Kind
    description: str = ""
    default: Any = None
    minimum: int | None = None
    maximum: int | None = None
    choices: tuple[str, ...] = ()

    def get(self) -> Any:
        """Returns the parameter's value from the current request (its default when absent)."""
        if self.kind == "integer":
            return int_arg(self.name, self.default, minimum=self.minimum, maximum=self.maximum)
        if self.kind == "number":
            return float_arg(self.name)
        if self.kind == "boolean":
            return bool_arg(self.name, self.default)
        if self.kind == "date-time":
            return datetime_arg(self.name)
        if self.kind == "ids":
            raw = request.args.get(self.name)
            return int_list(raw, self.name) if raw else None
        return str_arg(self.name, self.default, choices=self.choices)

    def openapi(self) -> dict[str, Any]:
        """Returns the OpenAPI parameter object."""
        schema: dict[str, Any]
        if self.kind == "ids":
            schema = {"type": "string", "pattern": r"^[0-9]{1,18}(,[0-9]{1,18})*$"}
        elif self.kind == "date-time":
            schema = {"type": "string", "format": "date-time"}
        else:
            schema = {"type": self.kind}
        if self.minimum is not None:
            schema["minimum"] = self.minimum
        if self.maximum is not None:
            schema["maximum"] = self.maximum
        if self.choices:
            schema["enum"] = list(self.choices)
        if self.default is not None:
            schema["default"] = self.default
        out = {"name": self.name, "in": "query", "required": False, "schema": schema}
        if self.description:
            out["description"] = self.description
        return out


PAGE = QueryParam("page", "integer", "1-based page number.", 1, 1, MAX_PAGE)
PAGE_SIZE = QueryParam("page_size", "integer", "Items per page.", 100, 1, 1000)
LIMIT = QueryParam("limit", "integer", "Items per keyset page.", 100, 1, 1000)
CURSOR = QueryParam("cursor", "string", "The next_cursor of the previous page.")
SORT = QueryParam("sort", "string", "Sort column.", "id", choices=tuple(SORT_COLUMNS))
DIRECTION = QueryParam("direction", "string", "Sort direction.", "asc", choices=("asc", "desc"))
PROJECT = QueryParam("project", "integer", "A project id.", 0, 1, MAX_ID)
TASK = QueryParam("task", "integer", "A task id.", 0, 1, MAX_ID)
FIELDS = QueryParam("fields", "string", "'all' adds annotations and predictions.")
TASK_FILTERS = (
    QueryParam("state", "string", "Task state (the project's workflow may add states)."),
    QueryParam("annotator", "integer", "Tasks this user annotated.", None, 1, MAX_ID),
    QueryParam("has_predictions", "boolean"),
    QueryParam("has_annotations", "boolean"),
    QueryParam("only_annotated", "boolean"),
    QueryParam("min_score", "number", "Lowest prediction score."),
    QueryParam("max_score", "number", "Highest prediction score."),
    QueryParam("field", "string", "The data field 'contains' searches."),
    QueryParam("contains", "string", "Text the data field contains."),
)


def task_filter_from_args() -> TaskFilter:
    """Returns the task filter described by the query arguments."""
    annotator = request.args.get("annotator")
    return TaskFilter(
        state=str_arg("state"),
        annotator_id=int_arg("annotator", 0, minimum=1) if annotator else None,
        has_predictions=optional_bool_arg("has_predictions"),
        has_annotations=True
        if optional_bool_arg("only_annotated")
        else optional_bool_arg("has_annotations"),
        min_score=float_arg("min_score"),
        max_score=float_arg("max_score"),
        field=str_arg("field"),
        contains=str_arg("contains"),
    )
