"""Reading request bodies through the endpoint's declared schema, with errors that name the field.

A view declares what it accepts with :func:`accepts` (the OpenAPI document reads the same
declaration) and calls :func:`read_body`. JSON is parsed by orjson (no NaN/Infinity, at most 1,024
levels, no recursion), then checked for depth, NUL characters and 64-bit integers, then validated by
the schema. Every failure is a :class:`RequestValidationError`: a 400 (415 for a body that is
neither JSON nor a form) whose ``validation_errors`` maps each field path
(``annotations[0].lead_time``) to messages.

Wherever one object is accepted as JSON, the same object is accepted as a form
(``application/x-www-form-urlencoded`` or ``multipart/form-data``), as Label Studio's API does:
form values are strings, converted to the field's type by the schema (``"5"`` to 5, ``"true"`` or
``"False"`` to a boolean), and a field that takes an object or a list reads its value as JSON.
A form body past ``MAX_FORM_BYTES`` is refused with 413 before it is read (Werkzeug reads an
urlencoded body whole), and multipart forms keep Werkzeug's limits (``MAX_FORM_MEMORY_SIZE`` per
field, ``MAX_FORM_PARTS``).
"""

import types
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Literal, TypeVar, Union, get_args, get_origin

import orjson
from flask import current_app, request
from pydantic import BaseModel, TypeAdapter, ValidationError

from labelops.domain.json_limits import JsonLimitError, check_json, join_path
from labelops.web.api.schemas import MAX_ITEMS
from labelops.web.errors import RequestValidationError, invalid
from labelops.web.json_provider import MAX_BODY_DEPTH

F = TypeVar("F", bound=Callable[..., Any])
BodyKind = Literal["object", "list", "object_or_list"]
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
MAX_FORM_BYTES = 10 * 1024 * 1024
"""Largest form body read through a schema (a JSON body of that size is far past any object)."""


@dataclass(frozen=True)
class RequestSpec:
    """What one endpoint accepts: its body schema and shape, and its query parameters."""

    schema: type[BaseModel] | None = None
    kind: BodyKind = "object"
    required: bool = True
    query: Sequence[Any] = field(default_factory=tuple)
    body_doc: dict[str, Any] | None = None

    @property
    def forms(self) -> bool:
        """Returns True when the body may also come as a form (one object, not a list)."""
        return self.schema is not None and self.kind != "list"


def accepts(
    schema: type[BaseModel] | None = None,
    *,
    kind: BodyKind = "object",
    required: bool = True,
    query: Sequence[Any] = (),
    body_doc: dict[str, Any] | None = None,
) -> Callable[[F], F]:
    """Returns a decorator recording what the view accepts (read by read_body and OpenAPI).

    Args:
        schema: The body schema (None: the endpoint takes no body).
        kind: One object, a list of them, or either.
        required: Whether an empty body is refused.
        query: The query parameters (``labelops.web.api.params.QueryParam``).
        body_doc: The OpenAPI request body content of a body read without a schema (streamed
            imports), for the document only.
    """
    spec = RequestSpec(schema, kind, required, tuple(query), body_doc)

    def mark(view: F) -> F:
        view.request_spec = spec  # type: ignore[attr-defined]
        return view

    return mark


def spec_of(view: Callable[..., Any]) -> RequestSpec | None:
    """Returns the view's declared request spec, or None."""
    return getattr(view, "request_spec", None)


def parse_json(raw: bytes) -> Any:
    """Returns parsed JSON checked for depth, NUL characters and number ranges.

    Raises:
        RequestValidationError: It is not valid UTF-8 JSON, or breaks a limit (path named).
    """
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise invalid("", f"not valid JSON ({exc})") from None
    try:
        check_json(value, max_depth=MAX_BODY_DEPTH)
    except JsonLimitError as exc:
        raise invalid(exc.path, exc.message) from None
    return value


def read_body() -> Any:
    """Returns the request body validated by the current view's schema.

    Returns a schema instance, a list of them (``kind="list"``), or None for an absent body that
    is not required.

    Raises:
        RequestValidationError: The body is missing, not JSON, or does not fit the schema.
    """
    spec = spec_of(current_app.view_functions[request.endpoint or ""])
    if spec is None or spec.schema is None:
        raise RuntimeError(f"view {request.endpoint!r} reads a body but declares no schema")
    mimetype = request.mimetype
    if mimetype in _FORM_TYPES:
        return _read_form(spec)
    if not request.content_length and not request.get_data(cache=True):
        if not spec.required:
            return None
        raise invalid("", "a JSON body is required (Content-Type: application/json)")
    if not request.is_json:
        expected = "application/json" + (" or a form" if spec.forms else "")
        raise invalid("", f"Content-Type must be {expected}, got {mimetype!r}", status=415)
    return _validate(spec, parse_json(request.get_data(cache=True)), strict=True)


def _read_form(spec: RequestSpec) -> Any:
    """Returns a form body validated by the schema, its JSON-valued fields parsed."""
    assert spec.schema is not None
    if not spec.forms:
        raise invalid("", "a list is expected: send it as JSON (Content-Type: application/json)")
    if (request.content_length or 0) > MAX_FORM_BYTES:
        raise invalid(
            "", f"a form body may have at most {MAX_FORM_BYTES} bytes; send JSON", status=413
        )
    if request.files:
        names = ", ".join(sorted(request.files))
        raise invalid(next(iter(request.files)), f"no file is accepted here (got {names})")
    form: dict[str, Any] = {}
    for name, raw in request.form.items():
        field_info = spec.schema.model_fields.get(name)
        takes_text = field_info is None or _takes_text(field_info.annotation)
        if not takes_text and raw.lstrip()[:1] in ("{", "["):
            try:
                form[name] = parse_json(raw.encode())
            except RequestValidationError as exc:
                raise invalid(name, exc.detail.removeprefix("body: ")) from None
        else:
            form[name] = raw
    try:
        check_json(form, max_depth=MAX_BODY_DEPTH)
    except JsonLimitError as exc:
        raise invalid(exc.path, exc.message) from None
    if not form and not spec.required:
        return None
    return _validate(spec, form, strict=False)


def _takes_text(annotation: Any) -> bool:
    """Returns True when a field's type accepts a plain string (so a form value stays text)."""
    if annotation is str:
        return True
    origin = get_origin(annotation)
    if origin is Literal:
        return any(isinstance(arg, str) for arg in get_args(annotation))
    if origin in (Union, types.UnionType):
        return any(_takes_text(arg) for arg in get_args(annotation))
    if hasattr(annotation, "__metadata__"):  # Annotated[...]
        return _takes_text(get_args(annotation)[0])
    return False


def _validate(spec: RequestSpec, body: Any, *, strict: bool) -> Any:
    assert spec.schema is not None
    many = spec.kind == "list" or (spec.kind == "object_or_list" and isinstance(body, list))
    try:
        if many:
            adapter = _list_of(spec.schema)
            if not isinstance(body, list):
                raise invalid("", f"must be a list, got {_json_type(body)}")
            if not body:
                raise invalid("", "must not be an empty list")
            if len(body) > MAX_ITEMS:
                raise invalid("", f"must have at most {MAX_ITEMS} items, got {len(body)}")
            return adapter.validate_python(body, strict=strict)
        if not isinstance(body, dict):
            expected = "an object or a list" if spec.kind == "object_or_list" else "an object"
            raise invalid("", f"must be {expected}, got {_json_type(body)}")
        return spec.schema.model_validate(body, strict=strict)
    except ValidationError as exc:
        raise from_pydantic(exc) from None


@cache
def _list_of(schema: type[BaseModel]) -> TypeAdapter[list[Any]]:
    return TypeAdapter(list[schema])  # type: ignore[valid-type]


def from_pydantic(exc: ValidationError) -> RequestValidationError:
    """Returns a pydantic error as a RequestValidationError keyed by field path."""
    errors: dict[str, list[str]] = {}
    for error in exc.errors(include_url=False, include_input=False):
        path = ""
        for part in error["loc"]:
            path = join_path(path, part if isinstance(part, int) else str(part))
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown field"
        errors.setdefault(path or "body", []).append(message)
    first = next(iter(errors))
    return RequestValidationError(f"{first}: {errors[first][0]}", errors)


def _json_type(value: Any) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return "a number"
    return names.get(type(value), type(value).__name__)
