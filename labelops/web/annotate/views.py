"""The labeling stream (``/projects/<id>/label``) and a single task opened for labeling."""

from datetime import timedelta
from typing import Any

from flask import Blueprint, current_app, render_template, request
from flask_login import current_user, login_required

from labelops.clock import utcnow
from labelops.db.models import AnnotationRow, ProjectRow, TaskRow
from labelops.domain.errors import LabelConfigError
from labelops.domain.label_config import parse_label_config
from labelops.services import annotations as annotation_service
from labelops.services import ml_backends as ml_backend_service
from labelops.services import next_task as queue
from labelops.services import predictions as prediction_service
from labelops.services import tasks as task_service
from labelops.services.errors import NotFoundError
from labelops.services.policies import Action, authorize_project
from labelops.services.task_payload import sanitize_html
from labelops.web.annotate.page_data import page_payload
from labelops.web.extensions import db

bp = Blueprint("annotate", __name__, url_prefix="/projects")


def _next_task(project: ProjectRow) -> TaskRow | None:
    ttl = timedelta(seconds=current_app.config.get("TASK_LOCK_TTL_SECONDS", 3600))
    return queue.claim_next_task(
        db.session, project.id, current_user.id, now=utcnow(), lock_ttl=ttl
    )


def _own_annotation(task: TaskRow) -> AnnotationRow | None:
    mine = [
        a
        for a in annotation_service.task_annotations(db.session, task.id)
        if a.completed_by_id == current_user.id
    ]
    return mine[-1] if mine else None


@bp.get("/<int:project_id>/label")
@login_required
def label(project_id: int) -> Any:
    """Shows the next task of the queue, or the task given by ``?task=``, ready to label."""
    project = authorize_project(db.session, current_user, Action.ANNOTATE, project_id).project
    instructions = sanitize_html(project.expert_instruction or "")
    try:
        config = parse_label_config(project.label_config)
    except LabelConfigError as exc:
        return render_template(
            "annotate/label.html", project=project, config_error=str(exc), payload=None
        ), 200
    task_id = request.args.get("task", type=int)
    task: TaskRow | None
    if task_id is not None:
        task = task_service.get_task(db.session, task_id)
        if task.project_id != project.id:
            raise NotFoundError(f"task {task_id} not found in project {project.id}")
    else:
        task = _next_task(project)
    # Work a reviewer rejected comes back to its author: the stream opens their annotation too.
    annotation = _own_annotation(task) if task is not None else None
    predictions = (
        prediction_service.current_predictions(db.session, project, task.id)
        if task is not None
        else []
    )
    payload = page_payload(
        project,
        config,
        task,
        annotation=annotation,
        predictions=predictions,
        interactive_backend=ml_backend_service.interactive_ml_backend_id(db.session, project.id),
    )
    done, total = queue.progress(db.session, project.id, current_user.id)
    return render_template(
        "annotate/label.html",
        project=project,
        payload=payload,
        instructions=instructions,
        single_task=task_id is not None,
        progress={"done": done, "total": total},
        config_error=None,
    )
