"""Storage connections in Label Studio's API: ``/api/storages/...`` (source) and ``.../export/...``.

Per type (``s3``, ``gcs``, ``azure``, ``localfiles``) and direction: ``GET`` (``?project=``) and
``POST`` the list, ``GET``/``PATCH``/``DELETE <id>``, ``POST <id>/sync`` and ``POST validate``;
``GET /api/storages`` and ``/api/storages/export`` list connections of every type (of
``?project=``, else of every project the caller manages),
``/api/storages/types`` and ``/api/storages/export/types`` name the types. Label Studio's field
names are translated to a connection's here (``aws_secret_access_key`` is the ``secret``,
``container`` the ``bucket``, ``path`` a ``localfiles`` folder's ``prefix`` ...) and every rule
(allowlists, outbound URLs, confinement, secrets) is ``labelops.services.storages``'; the
connections are the same ones the project's Pipeline tab and ``/api/projects/<id>/storages`` show.

Sync of a source connection launches the project's ``sync-storage`` pipeline run (its status is
the connection's: ``queued``, ``in_progress``, ``completed``, ``failed``); sync of a target
connection writes a JSON export to it now.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, g, jsonify
from pydantic import BaseModel

from labelops.clock import iso, utcnow
from labelops.db.models import PipelineRunRow, StorageConnectionRow
from labelops.domain.permissions import can_manage
from labelops.resources import target_storage
from labelops.services import projects as project_service
from labelops.services import runs as run_service
from labelops.services import storages as storage_service
from labelops.services.errors import NotFoundError
from labelops.services.policies import Action, authorize_project
from labelops.web.api.auth import api_login_required
from labelops.web.api.params import PROJECT
from labelops.web.api.pipeline import run_launcher, storage_json, storage_policy
from labelops.web.api.schemas import (
    AzureStorageIn,
    GcsStorageIn,
    LocalFilesStorageIn,
    LsStorageIn,
    S3StorageIn,
)
from labelops.web.api.validation import accepts, read_body
from labelops.web.errors import error_response, invalid
from labelops.web.extensions import db

bp = Blueprint("api_storages", __name__, url_prefix="/api/storages")


@dataclass(frozen=True)
class StorageType:
    """One of Label Studio's storage types and how its fields map onto a connection's."""

    name: str
    title: str
    kind: str
    schema: type[LsStorageIn]
    fields: dict[str, str]


TYPES = (
    StorageType(
        "s3",
        "AWS S3",
        "s3",
        S3StorageIn,
        {
            "bucket": "bucket",
            "aws_access_key_id": "access_key_id",
            "aws_secret_access_key": "secret",
            "region_name": "region",
            "s3_endpoint": "endpoint_url",
        },
    ),
    StorageType(
        "gcs",
        "Google Cloud Storage",
        "gcs",
        GcsStorageIn,
        {"bucket": "bucket", "google_application_credentials": "secret"},
    ),
    StorageType(
        "azure",
        "Microsoft Azure",
        "azure",
        AzureStorageIn,
        {"container": "bucket", "account_name": "access_key_id", "account_key": "secret"},
    ),
    StorageType("localfiles", "Local files", "local", LocalFilesStorageIn, {"path": "prefix"}),
)
_BY_KIND = {t.kind: t for t in TYPES}
_COMMON_FIELDS = {
    "prefix": "prefix",
    "file_pattern": "file_pattern",
    "access_key_id_env": "access_key_id_env",
    "secret_env": "secret_env",
}
# Label Studio's settings kept with the connection, with its defaults.
_KEPT = {
    "title": "",
    "description": "",
    "regex_filter": None,
    "use_blob_urls": False,
    "presign": True,
    "presign_ttl": 1,
    "recursive_scan": False,
    "synchronizable": True,
    "can_delete_objects": None,
    "google_project_id": None,
}
_RUN_STATUS = {
    "queued": "queued",
    "running": "in_progress",
    "succeeded": "completed",
    "failed": "failed",
}


def _split(
    storage_type: StorageType, given: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Returns (the connection's fields, the kept Label Studio settings) of a request body."""
    mapping = {**_COMMON_FIELDS, **storage_type.fields}
    fields = {mapping[k]: v for k, v in given.items() if k in mapping}
    kept = {k: v for k, v in given.items() if k in _KEPT}
    return fields, kept


def _latest_sync(project_id: int) -> PipelineRunRow | None:
    job = run_service.job_for_action(storage_service.SYNC_ACTION)
    runs = run_service.list_runs(db.session, project_id, limit=200)
    return next((r for r in runs if r.job_name == job), None)


def ls_storage_json(row: StorageConnectionRow, run: PipelineRunRow | None = None) -> dict[str, Any]:
    """Returns a connection as Label Studio's storage JSON (plus labelops' own fields)."""
    storage_type = _BY_KIND[row.kind]
    kept = {**_KEPT, **(row.ls_settings or {})}
    status, traceback, last_sync = "initialized", None, kept.get("last_sync")
    if row.direction == "export":
        status = kept.get("status", status)
        traceback = kept.get("traceback")
    elif run is not None:
        status = _RUN_STATUS.get(run.status, run.status)
        traceback = run.error or None
        last_sync = iso(run.updated_at) if run.status == "succeeded" else None
    out = {
        **storage_json(row),
        "type": storage_type.name,
        **{k: kept[k] for k in _KEPT},
        "last_sync": last_sync,
        "last_sync_count": None,
        "last_sync_job": run.run_id if run is not None and row.direction == "import" else None,
        "status": status,
        "traceback": traceback,
        "meta": {},
    }
    if storage_type.name == "s3":
        out.update(region_name=row.region or None, s3_endpoint=row.endpoint_url or None)
    elif storage_type.name == "azure":
        out["container"] = row.bucket
    elif storage_type.name == "localfiles":
        out["path"] = row.prefix
    return out


def _storage(storage_id: int, storage_type: StorageType, direction: str) -> StorageConnectionRow:
    """Returns the connection if the caller manages its project and it is of this type."""
    missing = NotFoundError(f"{storage_type.name} storage {storage_id} not found")
    row = storage_service.storage_by_id(db.session, storage_id)
    if row.kind != storage_type.kind or row.direction != direction:
        raise missing
    try:
        authorize_project(db.session, g.user, Action.MANAGE, row.project_id)
    except NotFoundError:
        raise missing from None
    return row


def _project_of(body: BaseModel) -> Any:
    project_id = getattr(body, "project", None)
    if project_id is None:
        raise invalid("project", "the id of the project the storage belongs to is required")
    return authorize_project(db.session, g.user, Action.MANAGE, project_id).project


def _views(
    storage_type: StorageType, direction: str
) -> list[tuple[str, Callable[..., Any], list[str]]]:
    """Returns the (rule, view, methods) of one storage type in one direction."""
    what = f"{storage_type.title} {'target ' if direction == 'export' else ''}storage"

    @api_login_required
    @accepts(query=(PROJECT,))
    def list_view() -> Any:
        return jsonify(_listed(direction, storage_type.kind))

    @api_login_required
    @accepts(storage_type.schema)
    def create_view() -> Any:
        body = read_body()
        project = _project_of(body)
        fields, kept = _split(storage_type, body.fields_set())
        fields = {k: v for k, v in fields.items() if v is not None}
        row = storage_service.create_storage(
            db.session,
            project,
            policy=storage_policy(),
            kind=storage_type.kind,
            direction=direction,
            ls_settings=kept,
            **fields,
        )
        db.session.commit()
        return jsonify(ls_storage_json(row)), 201

    @api_login_required
    def get_view(storage_id: int) -> Any:
        row = _storage(storage_id, storage_type, direction)
        return jsonify(ls_storage_json(row, _latest_sync(row.project_id)))

    @api_login_required
    @accepts(storage_type.schema)
    def update_view(storage_id: int) -> Any:
        row = _storage(storage_id, storage_type, direction)
        given = read_body().fields_set()
        given.pop("project", None)
        fields, kept = _split(storage_type, given)
        storage_service.update_storage(
            db.session, row, fields, policy=storage_policy(), ls_settings=kept
        )
        db.session.commit()
        return jsonify(ls_storage_json(row, _latest_sync(row.project_id)))

    @api_login_required
    def delete_view(storage_id: int) -> Any:
        storage_service.delete_storage(db.session, _storage(storage_id, storage_type, direction))
        db.session.commit()
        return "", 204

    @api_login_required
    def sync_view(storage_id: int) -> Any:
        row = _storage(storage_id, storage_type, direction)
        project = authorize_project(db.session, g.user, Action.MANAGE, row.project_id).project
        storage_service.check_synchronizable(row)
        if direction == "export":
            return _export_sync(project, row)
        storage_service.check_launch(
            db.session, project.id, storage_service.SYNC_ACTION, storage_policy()
        )
        run = run_service.launch_action(
            db.session,
            project,
            storage_service.SYNC_ACTION,
            launcher=run_launcher(),
            launched_by_id=g.user.id,
        )
        db.session.commit()
        return jsonify(ls_storage_json(row, run))

    @api_login_required
    @accepts(storage_type.schema)
    def validate_view() -> Any:
        body = read_body()
        project = _project_of(body)
        fields, _ = _split(storage_type, body.fields_set())
        storage_service.validate_storage(
            db.session,
            project,
            policy=storage_policy(),
            kind=storage_type.kind,
            direction=direction,
            **fields,
        )
        return jsonify({})

    list_view.__doc__ = f"Lists {what} connections (``?project=``, else the caller's projects)."
    create_view.__doc__ = f"Adds a {what} connection to a project (managers)."
    get_view.__doc__ = f"Returns one {what} connection (never its secret)."
    update_view.__doc__ = f"Changes a {what} connection; every storage rule is checked again."
    delete_view.__doc__ = f"Deletes a {what} connection (the tasks it imported stay)."
    sync_view.__doc__ = f"Syncs a {what} connection: " + (
        "writes a JSON export to it." if direction == "export" else "launches the sync run."
    )
    validate_view.__doc__ = f"Checks a {what} connection's fields without saving it (200 or 400)."
    base = f"/{'export/' if direction == 'export' else ''}{storage_type.name}"
    return [
        (base, list_view, ["GET"]),
        (base, create_view, ["POST"]),
        (f"{base}/<int:storage_id>", get_view, ["GET"]),
        (f"{base}/<int:storage_id>", update_view, ["PATCH", "PUT"]),
        (f"{base}/<int:storage_id>", delete_view, ["DELETE"]),
        (f"{base}/<int:storage_id>/sync", sync_view, ["POST"]),
        (f"{base}/validate", validate_view, ["POST"]),
    ]


def _export_sync(project: Any, row: StorageConnectionRow) -> Any:
    """Writes a JSON export of the project to the target connection and notes the outcome."""
    try:
        target_storage.write_export(db.session, project, row, "JSON", policy=storage_policy())
    except target_storage.TargetWriteError as exc:
        storage_service.note_export_sync(db.session, row, error=str(exc), now=utcnow())
        db.session.commit()
        return error_response(502, str(exc), storage=row.id)
    storage_service.note_export_sync(db.session, row, error=None, now=utcnow())
    db.session.commit()
    return jsonify(ls_storage_json(row))


def _listed(direction: str, kind: str | None = None) -> list[dict[str, Any]]:
    """Returns the connections of ``?project=``, else of every project the caller manages."""
    project_id = PROJECT.get()
    if project_id:
        project_ids = [authorize_project(db.session, g.user, Action.MANAGE, project_id).project.id]
    else:
        project_ids = [
            p.id
            for p in project_service.visible_projects(db.session, g.user)
            if can_manage(
                project_service.role_of(db.session, g.user, p.id), is_admin=g.user.is_admin
            )
        ]
    out = []
    for pid in project_ids:
        run = _latest_sync(pid)
        out += [
            ls_storage_json(row, run)
            for row in storage_service.list_storages(db.session, pid)
            if row.direction == direction and kind in (None, row.kind)
        ]
    return out


for _type in TYPES:
    for _direction in ("import", "export"):
        for _rule, _view, _methods in _views(_type, _direction):
            _name = f"{_direction}_{_type.name}_{_view.__name__}"
            bp.add_url_rule(_rule, endpoint=_name, view_func=_view, methods=_methods)


def _all_views(direction: str) -> Callable[..., Any]:
    @api_login_required
    @accepts(query=(PROJECT,))
    def all_storages() -> Any:
        return jsonify(_listed(direction))

    all_storages.__doc__ = (
        f"Lists {'target ' if direction == 'export' else ''}storage connections of every type "
        "(``?project=``; without it, those of every project the caller manages)."
    )
    return all_storages


bp.add_url_rule("", endpoint="import_all", view_func=_all_views("import"), methods=["GET"])
bp.add_url_rule("/export", endpoint="export_all", view_func=_all_views("export"), methods=["GET"])


@bp.get("/types")
@api_login_required
def storage_types() -> Any:
    """Names the storage types connections can have: ``[{name, title}]``."""
    return jsonify([{"name": t.name, "title": t.title} for t in TYPES])


@bp.get("/export/types")
@api_login_required
def export_storage_types() -> Any:
    """Names the target storage types (``localfiles`` has none: datasets stay in the store)."""
    return jsonify([{"name": t.name, "title": t.title} for t in TYPES if t.kind != "local"])
