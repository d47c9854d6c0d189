"""The OpenAPI 3.1 document of the REST API, built from the app's own routes and docstrings."""

import re
from typing import Any

from flask import Blueprint, current_app, jsonify

import labelops

bp = Blueprint("api_docs", __name__, url_prefix="/api")

_CONVERTER = re.compile(r"<(?:(?P<conv>[a-z]+):)?(?P<name>\w+)>")
_ERROR = {"$ref": "#/components/schemas/Error"}


def build_openapi() -> dict[str, Any]:
    """Returns the OpenAPI document for every ``/api`` route of the current app."""
    paths: dict[str, dict[str, Any]] = {}
    for rule in sorted(current_app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.rule.startswith("/api/") or rule.endpoint == "static":
            continue
        path = _CONVERTER.sub(lambda m: "{" + m.group("name") + "}", rule.rule)
        view = current_app.view_functions[rule.endpoint]
        doc = (view.__doc__ or "").strip().splitlines()
        parameters = [
            {
                "name": m.group("name"),
                "in": "path",
                "required": True,
                "schema": {"type": "integer" if m.group("conv") == "int" else "string"},
            }
            for m in _CONVERTER.finditer(rule.rule)
        ]
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            operation: dict[str, Any] = {
                "operationId": f"{rule.endpoint.replace('.', '_')}_{method.lower()}",
                "summary": doc[0] if doc else rule.endpoint,
                "tags": [rule.endpoint.split(".")[0].removeprefix("api_")],
                "parameters": parameters,
                "responses": {
                    "200": {"description": "OK", "content": {"application/json": {}}},
                    "400": {
                        "description": "Bad request",
                        "content": {"application/json": {"schema": _ERROR}},
                    },
                    "401": {
                        "description": "No or bad credentials",
                        "content": {"application/json": {"schema": _ERROR}},
                    },
                    "403": {
                        "description": "Role does not allow it",
                        "content": {"application/json": {"schema": _ERROR}},
                    },
                    "404": {
                        "description": "Not found",
                        "content": {"application/json": {"schema": _ERROR}},
                    },
                },
            }
            if rule.endpoint == "api_docs.openapi":
                operation["security"] = []
            if method in ("POST", "PUT", "PATCH"):
                operation["requestBody"] = {
                    "required": False,
                    "content": {
                        "application/json": {"schema": {}},
                        "multipart/form-data": {"schema": {}},
                    },
                }
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
                "Error": {
                    "type": "object",
                    "required": ["detail", "status_code"],
                    "properties": {
                        "detail": {"type": "string"},
                        "status_code": {"type": "integer"},
                    },
                }
            },
        },
        "security": [{"Token": []}],
    }


@bp.get("/openapi.json")
def openapi() -> Any:
    """Returns this OpenAPI document."""
    return jsonify(build_openapi())
