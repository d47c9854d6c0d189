"""Snapshot exports under /api/projects/<id>/exports, as Label Studio's: built in the background.

``POST`` queues a snapshot and answers at once (status ``created``); ``GET .../exports/<id>``
reports its status; ``.../download?exportType=`` streams it in any format the snapshot's labeling
config supports. Managers (and administrators) only, as the synchronous export.
"""

from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, request
from sqlalchemy.orm import Session

from labelops.clock import utcnow
from labelops.resources.bucket_media import export_media_reader
from labelops.services import exports as export_service
from labelops.services import jobs
from labelops.services import snapshots as snapshot_service
from labelops.services.policies import Action, authorize_project
from labelops.web.api.auth import api_login_required
from labelops.web.api.params import QueryParam
from labelops.web.api.schemas_integrations import ConvertIn, ExportIn
from labelops.web.api.validation import accepts, read_body
from labelops.web.background import worker
from labelops.web.extensions import db

bp = Blueprint("api_exports", __name__, url_prefix="/api/projects")


def _snapshot(project_id: int, export_id: int) -> Any:
    project = authorize_project(db.session, g.user, Action.MANAGE, project_id).project
    return jobs.get_job(db.session, snapshot_service.KIND, project.id, export_id)


@bp.get("/<int:project_id>/exports")
@api_login_required
def list_exports(project_id: int) -> Any:
    """Lists the project's snapshot exports, newest first."""
    project = authorize_project(db.session, g.user, Action.MANAGE, project_id).project
    return jsonify(
        [
            snapshot_service.snapshot_json(job)
            for job in jobs.project_jobs(db.session, snapshot_service.KIND, project.id)
        ]
    )


@bp.post("/<int:project_id>/exports")
@api_login_required
@accepts(ExportIn, required=False)
def create_export(project_id: int) -> Any:
    """Queues a snapshot export of the project; poll its status, then download it."""
    project = authorize_project(db.session, g.user, Action.MANAGE, project_id).project
    body = read_body() or ExportIn()
    filters = body.task_filter_options
    job = snapshot_service.create_snapshot(
        db.session,
        project,
        created_by_id=g.user.id,
        title=body.title,
        only_with_annotations=bool(filters and filters.only_with_annotations),
        now=utcnow(),
    )
    db.session.commit()
    worker().wake()
    return jsonify(snapshot_service.snapshot_json(job)), 201


@bp.get("/<int:project_id>/exports/<int:export_id>")
@api_login_required
def get_export(project_id: int, export_id: int) -> Any:
    """Returns a snapshot export and its status (created, in_progress, completed, failed)."""
    return jsonify(snapshot_service.snapshot_json(_snapshot(project_id, export_id)))


@bp.delete("/<int:project_id>/exports/<int:export_id>")
@api_login_required
def delete_export(project_id: int, export_id: int) -> Any:
    """Deletes a snapshot export and its file."""
    snapshot_service.delete_snapshot(db.session, _snapshot(project_id, export_id))
    db.session.commit()
    return "", 204


@bp.post("/<int:project_id>/exports/<int:export_id>/convert")
@api_login_required
@accepts(ConvertIn)
def convert_export(project_id: int, export_id: int) -> Any:
    """Makes a format of the snapshot available (formats are written when downloaded)."""
    job = _snapshot(project_id, export_id)
    name = read_body().export_type
    converted = snapshot_service.convert(job, name)
    db.session.commit()
    return jsonify({"export_type": name, "converted_format": converted})


_DOWNLOAD_QUERY = (
    QueryParam("exportType", "string", "Export format name.", "JSON"),
    QueryParam("export_type", "string", "Same as exportType."),
)


@bp.get("/<int:project_id>/exports/<int:export_id>/download")
@api_login_required
@accepts(query=_DOWNLOAD_QUERY)
def download_export(project_id: int, export_id: int) -> Any:
    """Streams a completed snapshot in a format (``exportType``, default JSON)."""
    job = _snapshot(project_id, export_id)
    name = request.args.get("exportType") or request.args.get("export_type") or "JSON"
    media = None
    if export_service.reads_images(name, False):
        engine = db.engine
        settings = current_app.config["LABELOPS_SETTINGS"]
        media = export_media_reader(settings, lambda: Session(engine), project_id)
    fmt, stream = snapshot_service.open_download(job, name, media)
    db.session.close()
    filename = f"project-{project_id}-export-{export_id}{fmt.extension}"
    return Response(
        stream,
        mimetype=fmt.media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
