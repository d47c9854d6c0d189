"""The OpenAPI 3.1 document of the REST API, built from the app's routes, docstrings and schemas.

Request bodies and query parameters come from what each view declares with
``labelops.web.api.validation.accepts``: the schema that validates a request is the one published.
"""

import re
from typing import Any

from flask import Blueprint, current_app, jsonify
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

import labelops
from labelops.domain.json_limits import MAX_ID
from labelops.web.api.schemas import MAX_ITEMS
from labelops.web.api.validation import RequestSpec, spec_of

bp = Blueprint("api_docs", __name__, url_prefix="/api")

_CONVERTER = re.compile(r"<(?:(?P<conv>[a-z]+):)?(?P<name>\w+)>")
_ERROR = {"$ref": "#/components/schemas/Error"}
_REF = "#/components/schemas/{model}"
_ERROR_CODES = {
    "400": "Bad request: the validation_errors name each bad field",
    "401": "No or bad credentials",
    "403": "Role does not allow it",
    "404": "Not found",
    "405": "Method not allowed",
    "413": "Request body too large",
    "415": "Body is neither JSON nor a form",
}


def _body_schema(spec: RequestSpec) -> dict[str, Any]:
    assert spec.schema is not None
    one = {"$ref": _REF.format(model=spec.schema.__name__)}
    many = {"type": "array", "items": one, "minItems": 1, "maxItems": MAX_ITEMS}
    if spec.kind == "list":
        return many
    if spec.kind == "object_or_list":
        return {"oneOf": [one, many]}
    return one


def _request_body(spec: RequestSpec | None) -> dict[str, Any] | None:
    if spec is None:
        return None
    if spec.body_doc is not None:
        return {"required": True, "content": spec.body_doc}
    if spec.schema is None:
        return None
    schema = _body_schema(spec)
    content: dict[str, Any] = {"application/json": {"schema": schema}}
    if spec.forms:
        content["application/x-www-form-urlencoded"] = {"schema": schema}
        content["multipart/form-data"] = {"schema": schema}
    return {"required": spec.required, "content": content}


def _schema_components(models: set[type[BaseModel]]) -> dict[str, Any]:
    ordered = sorted(models, key=lambda m: m.__name__)
    _, document = models_json_schema([(m, "validation") for m in ordered], ref_template=_REF)
    return dict(document.get("$defs", {}))


def build_openapi() -> dict[str, Any]:
    """Returns the OpenAPI document for every ``/api`` route of the current app."""
    paths: dict[str, dict[str, Any]] = {}
    models: set[type[BaseModel]] = set()
    for rule in sorted(current_app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.rule.startswith("/api/") or rule.endpoint == "static":
            continue
        path = _CONVERTER.sub(lambda m: "{" + m.group("name") + "}", rule.rule)
        view = current_app.view_functions[rule.endpoint]
        doc = (view.__doc__ or "").strip().splitlines()
        spec = spec_of(view)
        if spec is not None and spec.schema is not None:
            models.add(spec.schema)
        parameters = [
            {
                "name": m.group("name"),
                "in": "path",
                "required": True,
                "schema": {"type": "integer", "minimum": 0, "maximum": MAX_ID}
                if m.group("conv") == "int"
                else {"type": "string", "maxLength": 200},
            }
            for m in _CONVERTER.finditer(rule.rule)
        ]
        if spec is not None:
            parameters += [param.openapi() for param in spec.query]
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            operation: dict[str, Any] = {
                "operationId": f"{rule.endpoint.replace('.', '_')}_{method.lower()}",
                "summary": doc[0] if doc else rule.endpoint,
                "tags": [rule.endpoint.split(".")[0].removeprefix("api_")],
                "parameters": parameters,
                "responses": {
                    "200": {"description": "OK", "content": {"application/json": {}}},
                    **{
                        code: {
                            "description": text,
                            "content": {"application/json": {"schema": _ERROR}},
                        }
                        for code, text in _ERROR_CODES.items()
                    },
                },
            }
            if rule.endpoint == "api_docs.openapi":
                operation["security"] = []
            body = _request_body(spec) if method in ("POST", "PUT", "PATCH") else None
            if body is not None:
                operation["requestBody"] = body
            paths.setdefault(path, {})[method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "labelops API",
            "version": labelops.__version__,
            "description": (
                "Label Studio compatible REST API. Authenticate with 'Authorization: Token <key>'."
            ),
        },
        "paths": paths,
        "components": {
            "securitySchemes": {
                "Token": {"type": "apiKey", "in": "header", "name": "Authorization"}
            },
            "schemas": {
                **_schema_components(models),
                "Error": {
                    "type": "object",
                    "required": ["detail", "status_code"],
                    "properties": {
                        "detail": {"type": "string"},
                        "status_code": {"type": "integer"},
                        "validation_errors": {
                            "type": "object",
                            "additionalProperties": {"type": "array"},
                        },
                    },
                },
            },
        },
        "security": [{"Token": []}],
    }


@bp.get("/openapi.json")
def openapi() -> Any:
    """Returns this OpenAPI document."""
    return jsonify(build_openapi())
