"""REST endpoints of the pipeline: launch Dagster runs, follow them, storages, agreement, datasets.

JSON shapes (all under ``/api/projects/<id>``; token or session auth, JSON errors):

- ``POST /pipeline/<action>``, action in ``sync-storage | preannotate | agreement |
  export-dataset | train`` (managers) -> 202 with a run (below). A launch that fails is 202
  too, with ``status: "failed"`` and the reason in ``error``.
- ``POST /pipeline/train`` launches ``training_job`` (one run per project at a time moves the
  champion: the Dagster run queue holds the next one).
- ``GET /pipeline/runs`` -> ``{"results": [run, ...], "problem"}``: every Dagster run of the
  project's partition, newest first, whatever started it (web app, sensor, schedule, CLI). A run is
  ``{"id", "project", "job_name", "run_id", "status": "queued|running|succeeded|failed",
  "error", "outcome", "source", "launched_by", "created_at", "updated_at", "dagster_url"}``
  where ``id`` is the web app's record (null for runs it did not launch), ``outcome`` what the
  run's assets said they did (e.g. why a pre-annotation predicted nothing) and ``dagster_url``
  ``<Dagster UI>/runs/<run_id>``. When Dagster cannot be reached, ``problem`` says so and the
  web app's own records are listed as last known.
- ``GET /storages`` -> ``{"results": [storage, ...]}``; ``POST /storages`` with ``{"kind":
  "s3|gcs|azure|local", "direction": "import|export", "bucket", "prefix", "file_pattern",
  "region", "endpoint_url", "access_key_id" | "access_key_id_env", "secret" | "secret_env"}``
  -> 201 storage; ``DELETE
  /storages/<sid>`` -> 204. A connection that breaks a storage rule (see
  ``labelops.services.storages``) is 400 with ``{"detail", "status_code", "field"}``; so is a
  ``sync-storage`` launch while one of the project's connections breaks one.
  ``POST /storages/<sid>/export`` with ``{"exportType": "JSON", "download_all_tasks": false}``
  (managers) writes an export to a target (``direction: "export"``) connection -> 201
  ``{"storage", "format", "uri"}``; an import connection is 400 (``field: "direction"``).
  A storage is
  ``{"id", "project", "kind", "bucket", "prefix", "file_pattern", "region",
  "endpoint_url", "access_key_id_env", "direction", "secret_source": "encrypted|env|none",
  "secret_env", "created_at"}``; the secret itself is never returned.
- ``GET /agreement`` -> ``{"id", "project", "created_at", "report"}`` where ``report`` is the
  agreement report (``num_tasks``, ``controls`` with pairs, Fleiss' kappa, Krippendorff's alpha,
  per-task, per-label and per-annotator figures, ``contradictory_ground_truth``); 404 before the
  first computation.
- ``GET /datasets`` -> ``{"results": [{"id", "project", "version", "uri", "num_tasks",
  "details", "created_at"}, ...]}``, newest first.
"""

from typing import Any

from flask import Blueprint, current_app, g, jsonify

from labelops.clock import iso
from labelops.db.models import DatasetVersionRow, PipelineRunRow, StorageConnectionRow
from labelops.resources import target_storage
from labelops.services import agreement as agreement_service
from labelops.services import datasets as dataset_service
from labelops.services import runs as run_service
from labelops.services import storages as storage_service
from labelops.services.errors import NotFoundError
from labelops.services.policies import Action, authorize_project
from labelops.services.storages import StoragePolicy
from labelops.services.visibility import check_agreement_visible
from labelops.settings import Settings
from labelops.web.api.auth import api_login_required
from labelops.web.api.schemas import StorageExportIn, StorageIn
from labelops.web.api.validation import accepts, read_body
from labelops.web.errors import error_response
from labelops.web.extensions import db
from labelops.web.run_launcher import launcher_for

bp = Blueprint("api_pipeline", __name__, url_prefix="/api")


def _settings() -> Settings:
    settings: Settings = current_app.config["LABELOPS_SETTINGS"]
    return settings


def _ui_url() -> str:
    return str(current_app.config.get("DAGSTER_UI_URL") or _settings().dagster_ui_url).rstrip("/")


def run_launcher() -> run_service.RunLauncher:
    """Returns the launcher of Dagster runs for this app."""
    return launcher_for(_ui_url(), _settings().dagster_home)


def storage_policy() -> StoragePolicy:
    """Returns what the administrator allows storage connections to use."""
    return StoragePolicy.from_settings(_settings())


def run_json(row: PipelineRunRow) -> dict[str, Any]:
    """Returns a pipeline run as the API shows it."""
    return {
        "id": row.id,
        "project": row.project_id,
        "job_name": row.job_name,
        "run_id": row.run_id,
        "status": row.status,
        "error": row.error,
        "launched_by": row.launched_by_id,
        "created_at": iso(row.created_at),
        "updated_at": iso(row.updated_at),
        "dagster_url": f"{_ui_url()}/runs/{row.run_id}" if row.run_id else None,
    }


def run_info_json(run: run_service.RunInfo, project_id: int) -> dict[str, Any]:
    """Returns one of the project's Dagster runs as the API shows it."""
    return {
        "id": run.record_id,
        "project": project_id,
        "job_name": run.job_name,
        "run_id": run.run_id,
        "status": run.status,
        "error": run.error,
        "outcome": run.outcome,
        "source": run.source,
        "launched_by": run.launched_by_id,
        "created_at": iso(run.created_at),
        "updated_at": iso(run.updated_at),
        "dagster_url": f"{_ui_url()}/runs/{run.run_id}" if run.run_id else None,
    }


def storage_json(row: StorageConnectionRow) -> dict[str, Any]:
    """Returns a storage connection without its secret."""
    stored = row.secret_encrypted
    source = "encrypted" if stored.startswith("fernet:") else "env" if stored else "none"
    return {
        "id": row.id,
        "project": row.project_id,
        "kind": row.kind,
        "bucket": row.bucket,
        "prefix": row.prefix,
        "file_pattern": row.file_pattern,
        "region": row.region,
        "endpoint_url": row.endpoint_url,
        "access_key_id_env": row.access_key_id_env,
        "direction": row.direction,
        "secret_source": source,
        "secret_env": stored[4:] if source == "env" else None,
        "created_at": iso(row.created_at),
    }


def dataset_json(row: DatasetVersionRow) -> dict[str, Any]:
    """Returns a dataset version as the API shows it."""
    return {
        "id": row.id,
        "project": row.project_id,
        "version": row.version,
        "uri": row.uri,
        "num_tasks": row.num_tasks,
        "details": row.details,
        "created_at": iso(row.created_at),
    }


@bp.post("/projects/<int:project_id>/pipeline/<action>")
@api_login_required
def launch(project_id: int, action: str) -> Any:
    """Launches the Dagster job of an action for the project's partition (202 with the run)."""
    project = authorize_project(db.session, g.user, Action.MANAGE, project_id).project
    run_service.job_for_action(action)
    storage_service.check_launch(db.session, project.id, action, storage_policy())
    row = run_service.launch_action(
        db.session, project, action, launcher=run_launcher(), launched_by_id=g.user.id
    )
    db.session.commit()
    return jsonify(run_json(row)), 202


@bp.get("/projects/<int:project_id>/pipeline/runs")
@api_login_required
def list_runs(project_id: int) -> Any:
    """Lists every Dagster run of the project's partition, with status, error and outcome."""
    project = authorize_project(db.session, g.user, Action.VIEW, project_id).project
    found = run_service.project_runs(db.session, project.id, run_launcher())
    db.session.commit()
    return jsonify(
        {"results": [run_info_json(r, project.id) for r in found.runs], "problem": found.problem}
    )


@bp.get("/projects/<int:project_id>/storages")
@api_login_required
def list_storages(project_id: int) -> Any:
    """Lists the project's storage connections (never their secrets)."""
    project = authorize_project(db.session, g.user, Action.MANAGE, project_id).project
    rows = storage_service.list_storages(db.session, project.id)
    return jsonify({"results": [storage_json(r) for r in rows]})


@bp.post("/projects/<int:project_id>/storages")
@api_login_required
@accepts(StorageIn)
def create_storage(project_id: int) -> Any:
    """Adds a storage connection; a secret is encrypted before it is stored."""
    project = authorize_project(db.session, g.user, Action.MANAGE, project_id).project
    fields = {k: v for k, v in read_body().fields_set().items() if v is not None}  # null: default
    row = storage_service.create_storage(db.session, project, policy=storage_policy(), **fields)
    db.session.commit()
    return jsonify(storage_json(row)), 201


@bp.post("/projects/<int:project_id>/storages/<int:storage_id>/export")
@api_login_required
@accepts(StorageExportIn)
def export_to_storage(project_id: int, storage_id: int) -> Any:
    """Writes an export of the project to one of its target (export) storage connections."""
    project = authorize_project(db.session, g.user, Action.MANAGE, project_id).project
    row = storage_service.get_storage(db.session, project.id, storage_id)
    body = read_body()
    try:
        uri = target_storage.write_export(
            db.session,
            project,
            row,
            body.exportType,
            download_all_tasks=body.download_all_tasks,
            policy=storage_policy(),
        )
    except target_storage.TargetWriteError as exc:
        return error_response(502, str(exc), storage=row.id)
    return jsonify({"storage": row.id, "format": body.exportType.upper(), "uri": uri}), 201


@bp.delete("/projects/<int:project_id>/storages/<int:storage_id>")
@api_login_required
def delete_storage(project_id: int, storage_id: int) -> Any:
    """Deletes a storage connection (its imported tasks stay)."""
    project = authorize_project(db.session, g.user, Action.MANAGE, project_id).project
    storage_service.delete_storage(
        db.session, storage_service.get_storage(db.session, project.id, storage_id)
    )
    db.session.commit()
    return "", 204


@bp.get("/projects/<int:project_id>/agreement")
@api_login_required
def latest_agreement(project_id: int) -> Any:
    """Returns the project's latest agreement report."""
    project = authorize_project(db.session, g.user, Action.VIEW, project_id).project
    check_agreement_visible(db.session, g.user, project)
    row = agreement_service.latest_agreement_report(db.session, project.id)
    if row is None:
        raise NotFoundError(f"project {project.id} has no agreement report yet")
    return jsonify(
        {
            "id": row.id,
            "project": row.project_id,
            "created_at": iso(row.created_at),
            "report": row.report,
        }
    )


@bp.get("/projects/<int:project_id>/datasets")
@api_login_required
def list_datasets(project_id: int) -> Any:
    """Lists the project's dataset versions, newest first."""
    project = authorize_project(db.session, g.user, Action.VIEW, project_id).project
    rows = dataset_service.list_dataset_versions(db.session, project.id)
    return jsonify({"results": [dataset_json(r) for r in rows], "count": len(rows)})
