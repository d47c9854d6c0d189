"""Imports run in the background: a large upload answers at once, ``/imports/<id>`` reports it.

``POST /api/projects/<id>/import`` with a body over ``LABELOPS_BACKGROUND_IMPORT_BYTES`` (10 MiB)
queues the files (:func:`queue_import`) and answers 201 ``{"import": <id>, "status": "created"}``
as Label Studio; ``GET /api/projects/<id>/imports/<import id>`` then reports its status, counts
and, for a failed one, the file, row and field of the error. Smaller imports stay synchronous.
"""

from collections.abc import Iterable
from typing import Any

from flask import Blueprint, Response, g, jsonify, request

from labelops.clock import utcnow
from labelops.db.models import ProjectRow
from labelops.services import background_imports, jobs
from labelops.services import imports as import_service
from labelops.services.policies import Action, authorize_project
from labelops.settings import current_limits
from labelops.web.api.auth import api_login_required
from labelops.web.background import worker
from labelops.web.extensions import db

bp = Blueprint("api_imports", __name__, url_prefix="/api/projects")


def runs_in_background() -> bool:
    """Returns True when the import request's body is large enough to be queued."""
    return (request.content_length or 0) > current_limits().background_import_bytes


def queue_import(
    project: ProjectRow,
    sources: Iterable[import_service.ImportSource],
    options: import_service.ImportOptions,
) -> tuple[Response, int]:
    """Queues the upload as a background import; returns Label Studio's 201 answer."""
    job = background_imports.enqueue_import(
        db.session,
        project,
        sources,
        options=options,
        root=worker().root,
        now=utcnow(),
    )
    db.session.commit()
    worker().wake()
    return jsonify({"import": job.id, **background_imports.import_json(job)}), 201


@bp.get("/<int:project_id>/imports/<int:import_id>")
@api_login_required
def get_import(project_id: int, import_id: int) -> Any:
    """Returns a background import: status, counts, and the error of a failed one."""
    project = authorize_project(db.session, g.user, Action.MANAGE, project_id).project
    job = jobs.get_job(db.session, background_imports.KIND, project.id, import_id)
    return jsonify(background_imports.import_json(job))
