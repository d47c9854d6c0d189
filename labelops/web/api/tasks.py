"""REST endpoints for tasks, annotations and predictions (Label Studio's paths and JSON)."""

from typing import Any

from flask import Blueprint, g, jsonify, request

from labelops.clock import utcnow
from labelops.db.models import AnnotationRow, ProjectRow, TaskRow
from labelops.services import annotations as annotation_service
from labelops.services import imports as import_service
from labelops.services import predictions as prediction_service
from labelops.services import reviews as review_service
from labelops.services import tasks as task_service
from labelops.services import visibility
from labelops.services.errors import NotFoundError
from labelops.services.policies import Action, authorize, authorize_project
from labelops.services.projects import project_config
from labelops.web.api.auth import api_login_required
from labelops.web.api.params import (
    FIELDS,
    PAGE,
    PAGE_SIZE,
    PROJECT,
    TASK,
    TASK_FILTERS,
    QueryParam,
    task_filter_from_args,
)
from labelops.web.api.schemas import (
    AnnotationIn,
    AnnotationUpdateIn,
    PredictionIn,
    ProjectTaskIn,
    ReviewIn,
    TaskIn,
    TaskUpdateIn,
)
from labelops.web.api.serializers import annotation_json, prediction_json, task_json
from labelops.web.api.validation import accepts, read_body
from labelops.web.errors import invalid
from labelops.web.extensions import db

bp = Blueprint("api_tasks", __name__, url_prefix="/api")


@bp.get("/tasks")
@api_login_required
@accepts(query=(PROJECT, PAGE, PAGE_SIZE, FIELDS, *TASK_FILTERS))
def list_tasks() -> Any:
    """Lists a project's tasks in Label Studio's paged shape ``{tasks, total, ...}``."""
    project_id = PROJECT.get()
    if not project_id:
        raise invalid("project", "query parameter 'project' is required")
    project = authorize_project(db.session, g.user, Action.VIEW, project_id).project
    flt = task_filter_from_args()
    visibility.check_task_filter(db.session, g.user, project, flt)
    page = PAGE.get()
    page_size = PAGE_SIZE.get()
    tasks = task_service.page_tasks(db.session, project.id, page=page, page_size=page_size, flt=flt)
    full = request.args.get("fields") == "all"
    records = (
        visibility.visible_records(
            db.session, g.user, project, task_service.task_records(db.session, tasks)
        )
        if full
        else None
    )
    body = {
        "tasks": [
            {**task_json(t), **_nested(records[i])} if records else task_json(t)
            for i, t in enumerate(tasks)
        ],
        "total": project.num_tasks if flt == task_service.TaskFilter() else len(tasks),
        "total_annotations": project.num_annotations,
        "total_predictions": project.num_predictions,
    }
    return jsonify(body)


def _nested(record: Any) -> dict[str, Any]:
    ls = record.to_ls()
    return {"annotations": ls["annotations"], "predictions": ls["predictions"]}


@bp.post("/tasks")
@api_login_required
@accepts(TaskIn)
def create_task() -> Any:
    """Creates one task ``{"project": id, "data": {...}}``."""
    body = read_body()
    return _create_tasks(body.project, [body])


@bp.post("/projects/<int:project_id>/tasks")
@api_login_required
@accepts(ProjectTaskIn)
def create_project_task(project_id: int) -> Any:
    """Creates one task of the project ``{"data": {...}, "annotations"?, "predictions"?}``."""
    return _create_tasks(project_id, [read_body()])


@bp.post("/projects/<int:project_id>/tasks/bulk")
@api_login_required
@accepts(ProjectTaskIn, kind="list")
def create_project_tasks(project_id: int) -> Any:
    """Creates a list of tasks of the project, all or nothing (Label Studio's bulk create)."""
    return _create_tasks(project_id, read_body(), bulk=True)


def _create_tasks(project_id: int, items: list[Any], *, bulk: bool = False) -> Any:
    """Imports the tasks through the one import path; answers the task, or the bulk report."""
    project = authorize_project(db.session, g.user, Action.MANAGE, project_id).project
    rows = [
        (n, item.model_dump(include={"data", "meta", "annotations", "predictions"}))
        for n, item in enumerate(items, start=1)
    ]
    report = import_service.import_rows(
        db.session,
        project,
        rows,
        source="request body",
        options=import_service.ImportOptions(
            created_by_id=g.user.id, return_task_ids=True, strict=True
        ),
    )
    db.session.commit()
    if bulk:
        summary = report.to_dict()
        keys = ("task_count", "annotation_count", "prediction_count", "task_ids")
        return jsonify({key: summary[key] for key in keys if key in summary}), 201
    return jsonify(task_json(task_service.get_task(db.session, report.task_ids[0]))), 201


def _task_and_project(task_id: int, action: Action) -> tuple[TaskRow, ProjectRow]:
    task = task_service.get_task(db.session, task_id)
    return task, authorize(db.session, g.user, action, task).project


@bp.get("/tasks/<int:task_id>")
@api_login_required
def get_task(task_id: int) -> Any:
    """Returns a task with its annotations and predictions."""
    task, project = _task_and_project(task_id, Action.VIEW)
    return jsonify(
        task_json(
            task,
            annotations=visibility.visible_annotations(db.session, g.user, project, task),
            predictions=prediction_service.task_predictions(db.session, task.id),
        )
    )


@bp.patch("/tasks/<int:task_id>")
@api_login_required
@accepts(TaskUpdateIn)
def update_task(task_id: int) -> Any:
    """Changes a task's data, meta or priority (managers)."""
    task, project = _task_and_project(task_id, Action.MANAGE)
    task_service.update_task(
        task, read_body().fields_set(), required_fields=project_config(project).data_fields
    )
    db.session.commit()
    return jsonify(task_json(task))


@bp.delete("/tasks/<int:task_id>")
@api_login_required
def delete_task(task_id: int) -> Any:
    """Deletes a task with its annotations and predictions (managers)."""
    task, project = _task_and_project(task_id, Action.MANAGE)
    task_service.delete_tasks(db.session, project, [task.id])
    db.session.commit()
    return "", 204


@bp.get("/tasks/<int:task_id>/annotations")
@api_login_required
def list_annotations(task_id: int) -> Any:
    """Lists a task's annotations."""
    task, project = _task_and_project(task_id, Action.VIEW)
    return jsonify(
        [
            annotation_json(a)
            for a in visibility.visible_annotations(db.session, g.user, project, task)
        ]
    )


@bp.post("/tasks/<int:task_id>/annotations")
@api_login_required
@accepts(AnnotationIn)
def create_annotation(task_id: int) -> Any:
    """Submits (or, with ``was_cancelled``, skips) an annotation as the caller."""
    task, _ = _task_and_project(task_id, Action.ANNOTATE)
    body = read_body()
    annotation = annotation_service.create_annotation(
        db.session,
        task,
        user_id=g.user.id,
        result=body.result,
        was_cancelled=body.was_cancelled,
        ground_truth=body.ground_truth,
        lead_time=body.lead_time,
        now=utcnow(),
    )
    # Serialized before the commit, which would expire the row and cost a re-read.
    created = annotation_json(annotation)
    db.session.commit()
    return jsonify(created), 201


def _annotation_and_project(annotation_id: int, action: Action) -> tuple[AnnotationRow, ProjectRow]:
    annotation = annotation_service.get_annotation(db.session, annotation_id)
    return annotation, authorize(db.session, g.user, action, annotation).project


@bp.get("/annotations/<int:annotation_id>")
@api_login_required
def get_annotation(annotation_id: int) -> Any:
    """Returns one annotation."""
    annotation, project = _annotation_and_project(annotation_id, Action.VIEW)
    if not visibility.can_see_annotation(db.session, g.user, project, annotation):
        raise NotFoundError(f"annotation {annotation_id} not found")
    return jsonify(annotation_json(annotation))


@bp.route("/annotations/<int:annotation_id>", methods=["PATCH", "PUT"])
@api_login_required
@accepts(AnnotationUpdateIn)
def update_annotation(annotation_id: int) -> Any:
    """Changes an annotation (its author, or a manager); the change is kept in its history."""
    annotation, _ = _annotation_and_project(annotation_id, Action.CHANGE)
    body = read_body()
    annotation_service.update_annotation(
        db.session,
        annotation,
        user_id=g.user.id,
        result=body.result,
        was_cancelled=body.was_cancelled,
        ground_truth=body.ground_truth,
        lead_time=body.lead_time,
        now=utcnow(),
    )
    db.session.commit()
    return jsonify(annotation_json(annotation))


@bp.delete("/annotations/<int:annotation_id>")
@api_login_required
def delete_annotation(annotation_id: int) -> Any:
    """Deletes an annotation (its author, or a manager)."""
    annotation, _ = _annotation_and_project(annotation_id, Action.CHANGE)
    annotation_service.delete_annotation(db.session, annotation, user_id=g.user.id, now=utcnow())
    db.session.commit()
    return "", 204


@bp.post("/annotations/<int:annotation_id>/review")
@api_login_required
@accepts(ReviewIn)
def review_annotation(annotation_id: int) -> Any:
    """Accepts or rejects an annotation ``{"decision": "accepted"|"rejected", "comment"}``.

    A ``result`` in the body fixes the annotation before the decision is recorded.
    """
    annotation, _ = _annotation_and_project(annotation_id, Action.REVIEW)
    body = read_body()
    review_service.review_annotation(
        db.session,
        annotation,
        reviewer_id=g.user.id,
        decision=body.decision,
        comment=body.comment,
        result=body.result,
        now=utcnow(),
    )
    db.session.commit()
    return jsonify(annotation_json(annotation))


@bp.get("/tasks/<int:task_id>/history")
@api_login_required
def task_history(task_id: int) -> Any:
    """Lists every change to a task's annotations: who, what, when."""
    task, project = _task_and_project(task_id, Action.VIEW)
    return jsonify(
        [
            {
                "annotation": r.annotation_id,
                "revision": r.revision,
                "action": r.action,
                "result": r.result,
                "changed_by": r.changed_by_id,
                "comment": r.comment,
                "created_at": r.created_at.isoformat() + "Z",
            }
            for r in visibility.visible_history(db.session, g.user, project, task)
        ]
    )


_PREDICTIONS_PAGE = QueryParam("page_size", "integer", "Most predictions listed.", 1000, 1, 10000)


@bp.get("/predictions")
@api_login_required
@accepts(query=(TASK, PROJECT, _PREDICTIONS_PAGE))
def list_predictions() -> Any:
    """Lists predictions of a task (``?task=``) or a project (``?project=``)."""
    task_id = TASK.get()
    if task_id:
        task, _ = _task_and_project(task_id, Action.VIEW)
        rows = prediction_service.task_predictions(db.session, task.id)
    else:
        project_id = PROJECT.get()
        if not project_id:
            raise invalid("project", "query parameter 'task' or 'project' is required")
        project = authorize_project(db.session, g.user, Action.VIEW, project_id).project
        rows = prediction_service.project_predictions(
            db.session, project.id, limit=_PREDICTIONS_PAGE.get()
        )
    return jsonify([prediction_json(r) for r in rows])


@bp.post("/predictions")
@api_login_required
@accepts(PredictionIn, kind="object_or_list")
def create_predictions() -> Any:
    """Creates one prediction ``{task, result, score?, model_version?}`` or a list of them."""
    body = read_body()
    items = [p.fields_set() for p in (body if isinstance(body, list) else [body])]
    task = task_service.get_task(db.session, items[0]["task"])
    project = authorize_project(db.session, g.user, Action.MANAGE, task.project_id).project
    rows = prediction_service.create_predictions(db.session, project, items, now=utcnow())
    db.session.commit()
    if not isinstance(body, list):
        return jsonify(prediction_json(rows[0])), 201
    return jsonify([prediction_json(r) for r in rows]), 201


@bp.get("/predictions/<int:prediction_id>")
@api_login_required
def get_prediction(prediction_id: int) -> Any:
    """Returns one prediction."""
    prediction = prediction_service.get_prediction(db.session, prediction_id)
    authorize_project(db.session, g.user, Action.VIEW, prediction.project_id)
    return jsonify(prediction_json(prediction))


@bp.delete("/predictions/<int:prediction_id>")
@api_login_required
def delete_prediction(prediction_id: int) -> Any:
    """Deletes one prediction (managers)."""
    prediction = prediction_service.get_prediction(db.session, prediction_id)
    authorize_project(db.session, g.user, Action.MANAGE, prediction.project_id)
    prediction_service.delete_prediction(db.session, prediction)
    db.session.commit()
    return "", 204
