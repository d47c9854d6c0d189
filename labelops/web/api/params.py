"""Parsing query arguments and JSON bodies with errors that name the parameter."""

from datetime import UTC, datetime
from typing import Any

from flask import request

from labelops.services.tasks import TaskFilter

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def int_arg(
    name: str, default: int, *, minimum: int | None = None, maximum: int | None = None
) -> int:
    """Returns an integer query argument.

    Raises:
        ValueError: It is not an integer or is out of range (message names it).
    """
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"query parameter {name!r} must be an integer, got {raw!r}") from None
    if minimum is not None and value < minimum:
        raise ValueError(f"query parameter {name!r} must be at least {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"query parameter {name!r} must be at most {maximum}, got {value}")
    return value


def float_arg(name: str) -> float | None:
    """Returns a float query argument or None when absent.

    Raises:
        ValueError: It is not a number.
    """
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    try:
        return float(raw)
    except ValueError:
        raise ValueError(f"query parameter {name!r} must be a number, got {raw!r}") from None


def datetime_arg(name: str) -> datetime | None:
    """Returns an ISO 8601 query argument as naive UTC, or None when absent.

    Raises:
        ValueError: It is not an ISO 8601 date or time.
    """
    raw = request.args.get(name)
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"query parameter {name!r} must be an ISO 8601 time, got {raw!r}"
        ) from None
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value


def int_list(raw: str, name: str) -> list[int]:
    """Returns a comma-separated list of integers.

    Raises:
        ValueError: An item is not an integer (message names the parameter).
    """
    try:
        return [int(part) for part in raw.split(",") if part.strip()]
    except ValueError:
        raise ValueError(
            f"query parameter {name!r} must be comma-separated ids, got {raw!r}"
        ) from None


def bool_arg(name: str, default: bool) -> bool:
    """Returns a boolean query argument (true/false/1/0/yes/no).

    Raises:
        ValueError: It is none of those.
    """
    raw = request.args.get(name)
    if raw is None:
        return default
    if raw.lower() in _TRUE:
        return True
    if raw.lower() in _FALSE:
        return False
    raise ValueError(f"query parameter {name!r} must be true or false, got {raw!r}")


def optional_bool_arg(name: str) -> bool | None:
    """Returns a boolean query argument, or None when absent."""
    return bool_arg(name, False) if name in request.args else None


def json_body(kind: type, *, optional: bool = False) -> Any:
    """Returns the request's JSON body, checked to be a dict or list.

    Raises:
        ValueError: The body is missing, not JSON, or of the wrong kind.
    """
    if optional and not request.content_length:
        return None
    body = request.get_json(silent=True)
    if body is None:
        raise ValueError("request body must be JSON (Content-Type: application/json)")
    if not isinstance(body, kind):
        expected = "an object" if kind is dict else "a list"
        raise ValueError(f"request body must be {expected}, got {type(body).__name__}")
    return body


def task_filter_from_args() -> TaskFilter:
    """Returns the task filter described by the query arguments."""
    annotator = request.args.get("annotator")
    return TaskFilter(
        state=request.args.get("state") or None,
        annotator_id=int_arg("annotator", 0) if annotator else None,
        has_predictions=optional_bool_arg("has_predictions"),
        has_annotations=True
        if optional_bool_arg("only_annotated")
        else optional_bool_arg("has_annotations"),
        min_score=float_arg("min_score"),
        max_score=float_arg("max_score"),
        field=request.args.get("field") or None,
        contains=request.args.get("contains") or None,
    )
