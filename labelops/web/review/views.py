"""The review stream: the next completed task with its annotations side by side."""

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from labelops.clock import utcnow
from labelops.domain.errors import InvalidInputError, StateTransitionError
from labelops.domain.label_config import parse_label_config
from labelops.services import agreement as agreement_service
from labelops.services import annotations as annotation_service
from labelops.services import data_manager as manager_service
from labelops.services import reviews as review_service
from labelops.services import tasks as task_service
from labelops.services.errors import ConflictError, NotFoundError, PermissionDeniedError
from labelops.services.policies import Action, authorize_project
from labelops.web.extensions import db
from labelops.web.review.forms import ReviewForm
from labelops.web.tasks.display import detail_payload

bp = Blueprint("review", __name__, url_prefix="/projects")


@bp.before_request
@login_required
def _signed_in() -> None:
    """Every review page needs a signed-in user."""


@bp.get("/<int:project_id>/review")
def stream(project_id: int) -> Any:
    """Shows the task to review: ``?task=`` if it still waits, else the next one in the queue."""
    access = authorize_project(db.session, current_user, Action.REVIEW, project_id)
    project = access.project
    task = None
    wanted = request.args.get("task", type=int)
    if wanted is not None:
        try:
            task = task_service.get_task(db.session, wanted)
        except NotFoundError:
            task = None
        if task is not None and (
            task.project_id != project.id or not review_service.awaits_review(db.session, task)
        ):
            task = None
    if task is None:
        after = request.args.get("after", 0, type=int)
        task = review_service.next_for_review(db.session, project.id, after_task_id=after)
    config = parse_label_config(project.label_config)
    detail = manager_service.task_detail(db.session, task) if task else None
    return render_template(
        "review/stream.html",
        project=project,
        access=access,
        detail=detail,
        objects=list(config.objects.values()),
        payload=detail_payload(config, detail),
        form=ReviewForm(),
        left=review_service.count_awaiting_review(db.session, project.id),
        skipped=request.args.get("after", type=int),
        tab="review",
    )


@bp.post("/<int:project_id>/review/annotations/<int:annotation_id>")
def decide(project_id: int, annotation_id: int) -> Any:
    """Accepts or rejects one annotation, then shows what is left to review."""
    access = authorize_project(db.session, current_user, Action.REVIEW, project_id)
    annotation = annotation_service.get_annotation(db.session, annotation_id)
    if annotation.project_id != access.project.id:
        abort(404)
    form = ReviewForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            flash(f"Not saved: {' '.join(errors)}.", "error")
        return redirect(url_for(".stream", project_id=project_id, task=annotation.task_id))
    try:
        review_service.review_annotation(
            db.session,
            annotation,
            reviewer_id=current_user.id,
            decision=form.decision.data,
            comment=(form.comment.data or "").strip(),
            now=utcnow(),
        )
    except (StateTransitionError, InvalidInputError, ConflictError, PermissionDeniedError) as exc:
        db.session.rollback()
        flash(f"Not saved: {exc}", "error")
    else:
        db.session.commit()
        verb = "Accepted" if form.decision.data == "accepted" else "Rejected"
        note = "" if form.decision.data == "accepted" else "; it goes back to its author first"
        flash(f"{verb} annotation #{annotation.id}{note}.", "success")
    return redirect(url_for(".stream", project_id=project_id, task=annotation.task_id))


@bp.get("/<int:project_id>/review/compare/<int:task_id>")
def compare(project_id: int, task_id: int) -> Any:
    """Shows a task's annotations next to each other with how far their annotators agree."""
    access = authorize_project(db.session, current_user, Action.REVIEW, project_id)
    task = task_service.get_task(db.session, task_id)
    if task.project_id != access.project.id:
        raise NotFoundError(f"task {task_id} not found in project {project_id}")
    config = parse_label_config(access.project.label_config)
    detail = manager_service.task_detail(db.session, task)
    return render_template(
        "review/compare.html",
        project=access.project,
        access=access,
        detail=detail,
        agreement=agreement_service.task_agreement(db.session, config, task),
        payload=detail_payload(config, detail),
        tab="review",
    )
