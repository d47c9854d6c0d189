"""Annotations (create, update, delete, skip, with history), reviews and predictions."""

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from labelops.db.models import (
    AnnotationRevisionRow,
    AnnotationRow,
    ProjectRow,
    TaskLockRow,
    TaskRow,
)
from labelops.domain.errors import AnnotationError
from labelops.domain.label_config import parse_label_config, validate_result
from labelops.domain.task_state import TaskEvent
from labelops.services.errors import NotFoundError
from labelops.services.locking import bump_project, lock_task
from labelops.services.workflow import transition

REVIEW_STATES = ("accepted", "rejected")


def create_annotation(
    session: Session,
    task: TaskRow,
    *,
    user_id: int,
    result: Sequence[Mapping[str, Any]],
    was_cancelled: bool = False,
    ground_truth: bool = False,
    lead_time: float | None = None,
    now: datetime,
) -> AnnotationRow:
    """Returns a new annotation on the task, checked against the labeling config.

    A cancelled annotation is a skip: it records that this annotator passed on the task.
    Submitting releases the annotator's lock and moves the task along its state machine.

    Raises:
        AnnotationError: The result does not fit the config or the task data.
        StateTransitionError: The task's state does not accept it.
    """
    lock_task(session, task)
    project = session.get_one(ProjectRow, task.project_id)
    result = _checked_result(project, task, result, complete=not was_cancelled)
    annotation = AnnotationRow(
        task_id=task.id,
        project_id=task.project_id,
        completed_by_id=user_id,
        result=result,
        was_cancelled=was_cancelled,
        ground_truth=ground_truth,
        lead_time=lead_time,
        created_at=now,
        updated_at=now,
    )
    session.add(annotation)
    session.flush()
    if was_cancelled:
        task.cancelled_annotations += 1
        transition(session, task, TaskEvent.SKIP)
    else:
        _count_finished(session, project, task, +1)
    session.execute(
        sa.delete(TaskLockRow).where(TaskLockRow.task_id == task.id, TaskLockRow.user_id == user_id)
    )
    _revision(session, annotation, "skipped" if was_cancelled else "created", user_id, now)
    session.flush()
    return annotation


def update_annotation(
    session: Session,
    annotation: AnnotationRow,
    *,
    user_id: int,
    result: Sequence[Mapping[str, Any]] | None = None,
    was_cancelled: bool | None = None,
    ground_truth: bool | None = None,
    lead_time: float | None = None,
    now: datetime,
) -> AnnotationRow:
    """Returns the annotation after changing its result and/or flags (kept in its history).

    Raises:
        AnnotationError: The new result does not fit the config or the task data.
    """
    task = lock_task(session, session.get_one(TaskRow, annotation.task_id))
    project = session.get_one(ProjectRow, task.project_id)
    cancelled = annotation.was_cancelled if was_cancelled is None else was_cancelled
    if result is not None:
        annotation.result = _checked_result(project, task, result, complete=not cancelled)
    if cancelled != annotation.was_cancelled:
        if cancelled:
            _count_finished(session, project, task, -1)
            task.cancelled_annotations += 1
        else:
            task.cancelled_annotations -= 1
            _count_finished(session, project, task, +1)
        annotation.was_cancelled = cancelled
    if ground_truth is not None:
        annotation.ground_truth = ground_truth
    if lead_time is not None:
        annotation.lead_time = (annotation.lead_time or 0.0) + lead_time
    annotation.updated_at = now
    _revision(session, annotation, "updated", user_id, now)
    session.flush()
    return annotation


def delete_annotation(
    session: Session, annotation: AnnotationRow, *, user_id: int, now: datetime
) -> None:
    """Deletes the annotation; its history keeps a 'deleted' entry; the task re-enters the queue."""
    task = lock_task(session, session.get_one(TaskRow, annotation.task_id))
    project = session.get_one(ProjectRow, task.project_id)
    if annotation.was_cancelled:
        task.cancelled_annotations -= 1
    else:
        _count_finished(session, project, task, -1)
    _revision(session, annotation, "deleted", user_id, now)
    session.delete(annotation)
    session.flush()


def review_annotation(
    session: Session,
    annotation: AnnotationRow,
    *,
    reviewer_id: int,
    decision: str,
    comment: str = "",
    result: Sequence[Mapping[str, Any]] | None = None,
    now: datetime,
) -> AnnotationRow:
    """Returns the annotation after a reviewer accepted it, fixed and accepted it, or rejected it.

    A rejected annotation stops counting toward the task's overlap, so the task returns to the
    queue for another annotator.

    Raises:
        ValueError: The decision is not 'accepted' or 'rejected'.
        StateTransitionError: The task is not in a reviewable state.
        AnnotationError: A fixed result does not fit the config.
    """
    if decision not in REVIEW_STATES:
        raise ValueError(
            f"review decision must be one of {', '.join(REVIEW_STATES)}, got {decision!r}"
        )
    if annotation.was_cancelled:
        raise ValueError(f"annotation {annotation.id} was skipped; there is nothing to review")
    task = lock_task(session, session.get_one(TaskRow, annotation.task_id))
    project = session.get_one(ProjectRow, task.project_id)
    if result is not None:
        annotation.result = _checked_result(project, task, result, complete=True)
        _revision(session, annotation, "fixed", reviewer_id, now, comment)
    previous = annotation.review_state
    if decision == "accepted":
        transition(session, task, TaskEvent.ACCEPT)
        if previous == "rejected":
            _count_finished(session, project, task, +1, keep_review_state=True)
    else:
        transition(session, task, TaskEvent.REJECT)
        if previous != "rejected":
            _count_finished(session, project, task, -1, keep_review_state=True)
    annotation.review_state = decision
    annotation.review_comment = comment
    annotation.reviewed_by_id = reviewer_id
    annotation.updated_at = now
    _revision(session, annotation, decision, reviewer_id, now, comment)
    session.flush()
    return annotation


def _count_finished(
    session: Session,
    project: ProjectRow,
    task: TaskRow,
    delta: int,
    *,
    keep_review_state: bool = False,
) -> None:
    before = task.is_labeled
    task.total_annotations += delta
    task.is_labeled = task.total_annotations >= project.maximum_annotations
    bump_project(
        session,
        project,
        num_annotations=delta,
        num_labeled_tasks=int(task.is_labeled) - int(before),
    )
    if keep_review_state:
        return
    if delta > 0:
        event = TaskEvent.ANNOTATE_FULL if task.is_labeled else TaskEvent.ANNOTATE_PARTIAL
    else:
        event = TaskEvent.ANNOTATE_FULL if task.is_labeled else TaskEvent.UNANNOTATE
    transition(session, task, event)


def _checked_result(
    project: ProjectRow, task: TaskRow, result: Any, *, complete: bool
) -> list[dict[str, Any]]:
    if not isinstance(result, list):
        raise AnnotationError("result must be a list of result items", field="result")
    config = parse_label_config(project.label_config)
    validate_result(config, result, task.data, require_required=complete)
    return [dict(item) for item in result]


def _revision(
    session: Session,
    annotation: AnnotationRow,
    action: str,
    user_id: int | None,
    now: datetime,
    comment: str = "",
) -> None:
    last = session.scalar(
        sa.select(sa.func.max(AnnotationRevisionRow.revision)).where(
            AnnotationRevisionRow.annotation_id == annotation.id
        )
    )
    session.add(
        AnnotationRevisionRow(
            annotation_id=annotation.id,
            task_id=annotation.task_id,
            revision=(last or 0) + 1,
            action=action,
            result=list(annotation.result),
            changed_by_id=user_id,
            comment=comment,
            created_at=now,
        )
    )


def history(session: Session, task_id: int) -> list[AnnotationRevisionRow]:
    """Returns every change to the task's annotations, oldest first."""
    return list(
        session.scalars(
            sa.select(AnnotationRevisionRow)
            .where(AnnotationRevisionRow.task_id == task_id)
            .order_by(AnnotationRevisionRow.id)
        )
    )


def get_annotation(session: Session, annotation_id: int) -> AnnotationRow:
    """Returns the annotation with this id.

    Raises:
        NotFoundError: There is none.
    """
    annotation = session.get(AnnotationRow, annotation_id)
    if annotation is None:
        raise NotFoundError(f"annotation {annotation_id} not found")
    return annotation


def task_annotations(session: Session, task_id: int) -> list[AnnotationRow]:
    """Returns the task's annotations, oldest first."""
    return list(
        session.scalars(
            sa.select(AnnotationRow)
            .where(AnnotationRow.task_id == task_id)
            .order_by(AnnotationRow.id)
        )
    )
