"""Annotations (create, update, delete, skip, with history) and the rules every entry point obeys.

The labeling page and the API both come here, so the rules hold on each:

- one annotator, one annotation per task: a second submission is refused with a
  :class:`ConflictError` naming the annotation to change instead (``PATCH``);
- a task at its overlap (finished annotations plus other annotators' live locks reach the
  project's ``maximum_annotations``) accepts no more finished annotations, except ground truth
  from a manager; the count is taken under the task's row lock, so concurrent submissions
  cannot both squeeze in;
- only managers (and administrators) mark or unmark ground truth.
"""

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
    UserRow,
)
from labelops.domain.errors import AnnotationError
from labelops.domain.json_limits import MAX_LEAD_TIME, check_json
from labelops.domain.label_config import parse_label_config, validate_result
from labelops.domain.permissions import (
    Role,
    can_change_accepted,
    can_exceed_overlap,
    can_set_ground_truth,
)
from labelops.domain.task_state import TaskEvent
from labelops.services.drafts import discard_drafts
from labelops.services.errors import ConflictError, PermissionDeniedError
from labelops.services.locking import bump_project, lock_task
from labelops.services.next_task import slots_taken
from labelops.services.projects import role_of
from labelops.services.rows import get_row
from labelops.services.webhook_events import annotation_event, annotations_deleted_event
from labelops.services.workflow import transition


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
        PermissionDeniedError: A user who does not manage the project asks for ground truth.
        ConflictError: The user already has an annotation on the task (it names it), or the
            task is at its overlap.
    """
    lock_task(session, task)
    project = session.get_one(ProjectRow, task.project_id)
    if ground_truth:
        _check_ground_truth(session, project, user_id)
    _check_first_of_user(session, task, user_id, skip=was_cancelled)
    if not was_cancelled:
        _check_overlap(session, project, task, user_id, now, ground_truth=ground_truth)
    result = checked_result(project, task, result, complete=not was_cancelled)
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
    _release(session, task, user_id)
    action = "skipped" if was_cancelled else "created"
    _append_revision(session, annotation, action, user_id, now, revision=1)
    if was_cancelled:
        task.cancelled_annotations += 1
        transition(session, task, TaskEvent.SKIP)
    else:
        # Last: every annotator of the project updates its counters row, whose lock is then
        # held only until the caller commits.
        count_finished(session, project, task, +1)
    discard_drafts(session, task.id, user_id)
    session.flush()
    annotation_event(session, annotation, "ANNOTATION_CREATED")
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

    ``lead_time`` is the total time spent on the annotation so far (what the labeling page and
    Label Studio's clients send), so it replaces the stored value; it is capped at MAX_LEAD_TIME.
    When the author changes the result of an annotation a reviewer rejected, it counts toward the
    overlap again and waits for a new review (the rejection stays in its history).

    Raises:
        AnnotationError: The new result does not fit the config or the task data.
        PermissionDeniedError: A user who does not manage the project changes ground truth.
        ConflictError: Turning a skip into a finished annotation would give its author two on
            the task or take the task past its overlap, or a user who does not manage the
            project changes an annotation a reviewer accepted.
    """
    task = lock_task(session, session.get_one(TaskRow, annotation.task_id))
    project = session.get_one(ProjectRow, task.project_id)
    _check_not_accepted(session, project, annotation, user_id, "changed")
    cancelled = annotation.was_cancelled if was_cancelled is None else bool(was_cancelled)
    if ground_truth is not None and bool(ground_truth) != annotation.ground_truth:
        _check_ground_truth(session, project, user_id)
    resubmitted = (
        annotation.review_state == "rejected"
        and not cancelled
        and result is not None
        and user_id == annotation.completed_by_id
    )
    if resubmitted:
        _check_overlap(session, project, task, user_id, now, ground_truth=annotation.ground_truth)
    if annotation.was_cancelled and not cancelled:
        _check_first_of_user(
            session, task, annotation.completed_by_id, skip=False, other_than=annotation.id
        )
        _check_overlap(
            session,
            project,
            task,
            annotation.completed_by_id,
            now,
            ground_truth=bool(annotation.ground_truth if ground_truth is None else ground_truth),
            actor_id=user_id,
        )
    if result is not None:
        annotation.result = checked_result(project, task, result, complete=not cancelled)
    if cancelled != annotation.was_cancelled:
        if cancelled:
            count_finished(session, project, task, -1)
            task.cancelled_annotations += 1
        else:
            task.cancelled_annotations -= 1
            count_finished(session, project, task, +1)
        annotation.was_cancelled = cancelled
    if resubmitted:  # its author fixed it: it counts again and waits for a new review
        annotation.review_state = None
        count_finished(session, project, task, +1)
        _release(session, task, user_id)
    if ground_truth is not None:
        annotation.ground_truth = bool(ground_truth)
    if lead_time is not None:
        annotation.lead_time = min(lead_time, MAX_LEAD_TIME)
    annotation.updated_at = now
    add_revision(session, annotation, "updated", user_id, now)
    discard_drafts(session, task.id, user_id, annotation.id)
    session.flush()
    annotation_event(session, annotation, "ANNOTATION_UPDATED")
    return annotation


def delete_annotation(
    session: Session, annotation: AnnotationRow, *, user_id: int, now: datetime
) -> None:
    """Deletes the annotation; its history keeps a 'deleted' entry; the task re-enters the queue.

    Raises:
        ConflictError: A user who does not manage the project deletes an annotation a reviewer
            accepted.
    """
    task = lock_task(session, session.get_one(TaskRow, annotation.task_id))
    project = session.get_one(ProjectRow, task.project_id)
    _check_not_accepted(session, project, annotation, user_id, "deleted")
    if annotation.was_cancelled:
        task.cancelled_annotations -= 1
    else:
        count_finished(session, project, task, -1)
    add_revision(session, annotation, "deleted", user_id, now)
    annotations_deleted_event(session, project, [annotation.id])
    session.delete(annotation)
    session.flush()


def _release(session: Session, task: TaskRow, user_id: int) -> None:
    """Deletes the user's lock on the task (their work on it is saved)."""
    session.execute(
        sa.delete(TaskLockRow).where(TaskLockRow.task_id == task.id, TaskLockRow.user_id == user_id)
    )


def _manages(
    session: Session, project: ProjectRow, user_id: int | None
) -> tuple[bool, Role | None]:
    """Returns (is administrator, role in the project) of the user; (False, None) for nobody."""
    user = session.get(UserRow, user_id) if user_id is not None else None
    if user is None:
        return False, None
    return user.is_admin, role_of(session, user, project.id)


def _check_not_accepted(
    session: Session, project: ProjectRow, annotation: AnnotationRow, user_id: int, verb: str
) -> None:
    """Refuses a non-manager's change to an accepted annotation (the review would not hold)."""
    if annotation.review_state != "accepted":
        return
    is_admin, role = _manages(session, project, user_id)
    if not can_change_accepted(role, is_admin=is_admin):
        raise ConflictError(
            f"annotation {annotation.id} was accepted by a reviewer and cannot be {verb}; "
            f"ask a manager of project {project.id}"
        )


def _check_ground_truth(session: Session, project: ProjectRow, user_id: int) -> None:
    is_admin, role = _manages(session, project, user_id)
    if not can_set_ground_truth(role, is_admin=is_admin):
        raise PermissionDeniedError(
            f"only managers of project {project.id} may set ground_truth on an annotation"
        )


def _check_first_of_user(
    session: Session,
    task: TaskRow,
    user_id: int | None,
    *,
    skip: bool,
    other_than: int | None = None,
) -> None:
    """Refuses a second annotation by the user on the task (a skip after anything at all)."""
    query = sa.select(AnnotationRow.id, AnnotationRow.was_cancelled).where(
        AnnotationRow.task_id == task.id, AnnotationRow.completed_by_id == user_id
    )
    if other_than is not None:
        query = query.where(AnnotationRow.id != other_than)
    for annotation_id, was_cancelled in session.execute(query.order_by(AnnotationRow.id)):
        if skip or not was_cancelled:
            raise ConflictError(
                f"user {user_id} already has annotation {annotation_id} on task {task.id}; "
                f"change it with PATCH /api/annotations/{annotation_id} instead of adding another"
            )


def _check_overlap(
    session: Session,
    project: ProjectRow,
    task: TaskRow,
    author_id: int | None,
    now: datetime,
    *,
    ground_truth: bool,
    actor_id: int | None = None,
) -> None:
    """Refuses a finished annotation on a task whose overlap is taken (under the row lock)."""
    if author_id is None:
        return
    taken = slots_taken(session, task, author_id, now)
    if taken < project.maximum_annotations:
        return
    is_admin, role = _manages(session, project, author_id if actor_id is None else actor_id)
    if can_exceed_overlap(role, is_admin=is_admin, ground_truth=ground_truth):
        return
    raise ConflictError(
        f"task {task.id} is full: it has {task.total_annotations} finished annotation(s) and "
        f"{taken - task.total_annotations} other annotator(s) holding it, and the project's "
        f"overlap is {project.maximum_annotations}; only a manager may add ground truth to it"
    )


def count_finished(
    session: Session,
    project: ProjectRow,
    task: TaskRow,
    delta: int,
    *,
    keep_review_state: bool = False,
) -> None:
    """Adds ``delta`` finished annotations to the task and project counters and task state.

    With ``keep_review_state`` the task's state is left to the caller (a review moves it).
    """
    before = task.is_labeled
    task.total_annotations += delta
    task.is_labeled = task.total_annotations >= project.maximum_annotations
    if not keep_review_state:
        if delta > 0:
            event = TaskEvent.ANNOTATE_FULL if task.is_labeled else TaskEvent.ANNOTATE_PARTIAL
        else:
            event = TaskEvent.ANNOTATE_FULL if task.is_labeled else TaskEvent.UNANNOTATE
        transition(session, task, event)
    # After the task's changes, so that they go out in one UPDATE with the flush before it.
    bump_project(
        session,
        project,
        num_annotations=delta,
        num_labeled_tasks=int(task.is_labeled) - int(before),
    )


def checked_result(
    project: ProjectRow, task: TaskRow, result: Any, *, complete: bool
) -> list[dict[str, Any]]:
    """Returns the result items as plain dicts once they fit the config and the task data.

    Raises:
        AnnotationError: They do not (the error names the item and field).
    """
    if not isinstance(result, list):
        raise AnnotationError("result must be a list of result items", field="result")
    check_json(result, "result")
    config = parse_label_config(project.label_config)
    validate_result(config, result, task.data, require_required=complete)
    return [dict(item) for item in result]


def add_revision(
    session: Session,
    annotation: AnnotationRow,
    action: str,
    user_id: int | None,
    now: datetime,
    comment: str = "",
) -> None:
    """Appends a revision (the action, who, and the result as it now stands) to the history."""
    last = session.scalar(
        sa.select(sa.func.max(AnnotationRevisionRow.revision)).where(
            AnnotationRevisionRow.annotation_id == annotation.id
        )
    )
    _append_revision(session, annotation, action, user_id, now, comment, revision=(last or 0) + 1)


def _append_revision(
    session: Session,
    annotation: AnnotationRow,
    action: str,
    user_id: int | None,
    now: datetime,
    comment: str = "",
    *,
    revision: int,
) -> None:
    session.add(
        AnnotationRevisionRow(
            annotation_id=annotation.id,
            task_id=annotation.task_id,
            revision=revision,
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
    return get_row(session, AnnotationRow, annotation_id, "annotation")


def task_annotations(session: Session, task_id: int) -> list[AnnotationRow]:
    """Returns the task's annotations, oldest first."""
    return list(
        session.scalars(
            sa.select(AnnotationRow)
            .where(AnnotationRow.task_id == task_id)
            .order_by(AnnotationRow.id)
        )
    )
