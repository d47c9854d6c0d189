"""ML backends of a project, in Label Studio's ``/api/ml`` shape (rules: ``services.ml_backends``).

- ``GET /api/ml?project=<id>`` -> the project's backends (a list, as Label Studio answers).
- ``POST /api/ml`` with ``{"project", "url", "title", "description", "is_interactive",
  "auth_method": "NONE|BASIC_AUTH", "basic_auth_user", "basic_auth_pass", "timeout"}`` -> 201
  with the backend, checked (``/health`` then ``/setup``): ``state`` is CONNECTED, or ERROR with
  ``error_message``. A URL the outbound rule refuses, or a bad field, is 400 naming the field.
- ``GET /api/ml/<id>`` checks the backend again, as Label Studio does, and returns it;
  ``PATCH`` changes the given fields (and checks); ``DELETE`` -> 204.
- ``POST /api/ml/<id>/train`` asks the backend to train on the project's annotations -> 200
  ``{"detail", "response"}``; 502 when the backend fails (its state becomes ERROR).
- ``POST /api/ml/<id>/interactive-annotating`` with ``{"task": <id>, "context": {...}}`` -> 200
  ``{"data": <prediction or null>}``: the backend's suggestion for the annotator's context
  (project annotators may ask; the backend must be interactive).

A backend is ``{"id", "project", "url", "title", "description", "is_interactive", "state",
"readable_state", "error_message", "model_version", "auth_method", "basic_auth_user",
"basic_auth_pass_is_set", "timeout", "extra_params", "auto_update", "created_at",
"updated_at"}``; the password is never returned. Managers of the project and administrators
only; a non-member gets 404, another role 403. ``extra_params`` and ``auto_update`` are accepted
for Label Studio's clients and ignored.
"""

from typing import Any, ClassVar

from flask import Blueprint, g, jsonify
from pydantic import Field

from labelops.clock import iso
from labelops.db.models import MLBackendRow
from labelops.services import ml_backend_events as ml_events
from labelops.services import ml_backends as ml_service
from labelops.services.ml_backends import MLBackendError, MLBackendSpec
from labelops.services.ml_client import MLBackendCallError
from labelops.web.api.auth import api_login_required
from labelops.web.api.params import QueryParam
from labelops.web.api.schemas import Id, JsonObject, Schema
from labelops.web.api.validation import accepts, read_body
from labelops.web.config import outbound_hosts
from labelops.web.errors import error_response, invalid
from labelops.web.extensions import db

bp = Blueprint("api_ml", __name__, url_prefix="/api/ml")

_PROJECT = QueryParam("project", "integer", "The project whose ML backends are listed.", None, 1)
READABLE_STATES = {"CONNECTED": "Connected", "DISCONNECTED": "Disconnected", "ERROR": "Error"}


class MLBackendFields(Schema):
    """The changeable fields of an ML backend connection."""

    IGNORED: ClassVar[frozenset[str]] = frozenset({"extra_params", "auto_update"})

    url: str | None = Field(None, max_length=2048)
    title: str | None = Field(None, max_length=500)
    description: str | None = Field(None, max_length=10_000)
    is_interactive: bool | None = None
    auth_method: str | None = Field(None, max_length=20)
    basic_auth_user: str | None = Field(None, max_length=255)
    basic_auth_pass: str | None = Field(None, max_length=1024)
    timeout: float | None = None

    def spec(self) -> MLBackendSpec:
        """Returns the given fields as the service takes them (absent or null: unchanged)."""
        given = self.fields_set()
        return MLBackendSpec(
            **{k: given[k] for k in MLBackendFields.model_fields if given.get(k) is not None}
        )


class MLBackendIn(MLBackendFields):
    """An ML backend to connect to a project."""

    project: Id
    url: str = Field(max_length=2048)


class TrainIn(Schema):
    """Label Studio's train options (accepted; every annotation is sent)."""

    use_ground_truth: bool | None = None


class InteractiveIn(Schema):
    """The task and the annotator's context (a click, a keypoint, a box) to suggest from."""

    task: Id
    context: JsonObject = Field(default_factory=dict)


def ml_backend_json(row: MLBackendRow) -> dict[str, Any]:
    """Returns a backend connection without its password."""
    return {
        "id": row.id,
        "project": row.project_id,
        "url": row.url,
        "title": row.title,
        "description": row.description,
        "is_interactive": row.is_interactive,
        "state": row.state,
        "readable_state": READABLE_STATES.get(row.state, row.state),
        "error_message": row.error_message or None,
        "model_version": row.model_version,
        "auth_method": row.auth_method,
        "basic_auth_user": row.basic_auth_user,
        "basic_auth_pass_is_set": bool(row.basic_auth_pass_encrypted),
        "timeout": row.timeout,
        "extra_params": {},
        "auto_update": True,
        "created_at": iso(row.created_at),
        "updated_at": iso(row.updated_at),
    }


def _refused(exc: MLBackendError) -> Any:
    db.session.rollback()
    return error_response(400, str(exc), validation_errors={exc.field: [exc.message]})


@bp.get("")
@api_login_required
@accepts(query=[_PROJECT])
def list_ml_backends() -> Any:
    """Lists a project's ML backends (``?project=<id>``)."""
    project_id = _PROJECT.get()
    if project_id is None:
        raise invalid("project", "query parameter 'project' is required")
    rows = ml_service.list_ml_backends(db.session, g.user, project_id)
    return jsonify([ml_backend_json(r) for r in rows])


@bp.post("")
@api_login_required
@accepts(MLBackendIn)
def create_ml_backend() -> Any:
    """Connects an ML backend to a project and checks it (``/health``, ``/setup``)."""
    body: MLBackendIn = read_body()
    try:
        row = ml_service.create_ml_backend(
            db.session, g.user, body.project, body.spec(), allowed_hosts=outbound_hosts()
        )
    except MLBackendError as exc:
        return _refused(exc)
    db.session.commit()
    return jsonify(ml_backend_json(row)), 201


@bp.get("/<int:backend_id>")
@api_login_required
def get_ml_backend(backend_id: int) -> Any:
    """Checks an ML backend's connection again and returns it."""
    row = ml_service.get_ml_backend(db.session, g.user, backend_id)
    ml_service.check_ml_backend(db.session, row, allowed_hosts=outbound_hosts())
    db.session.commit()
    return jsonify(ml_backend_json(row))


@bp.patch("/<int:backend_id>")
@api_login_required
@accepts(MLBackendFields)
def update_ml_backend(backend_id: int) -> Any:
    """Changes the given fields of an ML backend and checks it again."""
    body: MLBackendFields = read_body()
    try:
        row = ml_service.update_ml_backend(
            db.session, g.user, backend_id, body.spec(), allowed_hosts=outbound_hosts()
        )
    except MLBackendError as exc:
        return _refused(exc)
    db.session.commit()
    return jsonify(ml_backend_json(row))


@bp.delete("/<int:backend_id>")
@api_login_required
def delete_ml_backend(backend_id: int) -> Any:
    """Disconnects an ML backend from its project."""
    ml_service.delete_ml_backend(db.session, g.user, backend_id)
    db.session.commit()
    return "", 204


@bp.post("/<int:backend_id>/train")
@api_login_required
@accepts(TrainIn, required=False)
def train_ml_backend(backend_id: int) -> Any:
    """Asks the backend to train on the project's annotations (Label Studio's "Start training")."""
    read_body()
    try:
        answer = ml_events.train_ml_backend(
            db.session, g.user, backend_id, allowed_hosts=outbound_hosts()
        )
    except MLBackendCallError as exc:
        db.session.commit()  # the backend's ERROR state
        return error_response(502, str(exc), ml_backend=backend_id)
    return jsonify({"detail": "training started", "response": answer})


@bp.post("/<int:backend_id>/interactive-annotating")
@api_login_required
@accepts(InteractiveIn)
def interactive_annotating(backend_id: int) -> Any:
    """Returns the backend's suggestion for a task given the annotator's context."""
    body: InteractiveIn = read_body()
    try:
        result = ml_events.interactive_prediction(
            db.session, g.user, backend_id, body.task, body.context, allowed_hosts=outbound_hosts()
        )
    except MLBackendError as exc:
        return _refused(exc)
    except MLBackendCallError as exc:
        return error_response(502, str(exc), ml_backend=backend_id)
    return jsonify({"data": result})
