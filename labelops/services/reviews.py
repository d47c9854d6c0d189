"""Reviews: the queue of tasks that still hold an unreviewed annotation, and decisions.

The review page and the API both decide through :func:`review_annotation`, so its rules hold on
each: the reviewer passes :func:`policies.authorize` for the annotation (a reviewer or manager of
its project, never its author unless an administrator), a decision is 'accepted' or 'rejected',
and a skip has nothing to review. Which states are reviewable is the project's
workflow's to say: completed and reviewed, plus any custom state that a review event (accept or
reject) leaves, such as ``needs_second_review``.
"""

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from labelops.db.models import AnnotationRow, ProjectRow, TaskRow, UserRow
from labelops.domain.errors import InvalidInputError
from labelops.domain.task_state import TaskEvent
from labelops.services.annotations import add_revision, checked_result, count_finished
from labelops.services.errors import ConflictError
from labelops.services.locking import lock_task
from labelops.services.next_task import DEFAULT_LOCK_TTL, reserve_for
from labelops.services.policies import Action, authorize
from labelops.services.webhook_events import review_event
from labelops.services.workflow import transition, workflow_for

REVIEW_STATES = ("accepted", "rejected")


def _unreviewed() -> sa.Exists:
    return sa.exists().where(
        AnnotationRow.task_id == TaskRow.id,
        AnnotationRow.was_cancelled.is_(False),
        AnnotationRow.review_state.is_(None),
    )


def next_for_review(session: Session, project_id: int, *, after_task_id: int = 0) -> TaskRow | None:
    """Returns the first task after ``after_task_id`` (by id) that waits for a review, else None.

    A task waits when it is in a reviewable state of its project's workflow (completed, partly
    accepted, or a custom state that a review event leaves) and one of its finished
    annotations has no review yet. Rejected tasks are back in the labeling queue, so they only
    return here once they are completed again.
    """
    return session.scalar(
        sa.select(TaskRow)
        .where(
            TaskRow.project_id == project_id,
            TaskRow.state.in_(workflow_for(session, project_id).reviewable_states),
            TaskRow.id > after_task_id,
            _unreviewed(),
        )
        .order_by(TaskRow.id)
        .limit(1)
    )


def count_awaiting_review(session: Session, project_id: int) -> int:
    """Returns how many of the project's tasks wait for a review (as :func:`next_for_review`)."""
    return int(
        session.scalar(
            sa.select(sa.func.count(TaskRow.id)).where(
                TaskRow.project_id == project_id,
                TaskRow.state.in_(workflow_for(session, project_id).reviewable_states),
                _unreviewed(),
            )
        )
        or 0
    )


def awaits_review(session: Session, task: TaskRow) -> bool:
    """Returns True when the task is in a reviewable state and has an unreviewed annotation."""
    if task.state not in workflow_for(session, task.project_id).reviewable_states:
        return False
    return bool(session.scalar(sa.select(TaskRow.id).where(TaskRow.id == task.id, _unreviewed())))


def review_annotation(
    session: Session,
    annotation: AnnotationRow,
    *,
    reviewer_id: int,
    decision: str,
    comment: str = "",
    result: Sequence[Mapping[str, Any]] | None = None,
    now: datetime,
    reserve: timedelta = DEFAULT_LOCK_TTL,
) -> AnnotationRow:
    """Returns the annotation after a reviewer accepted it, fixed and accepted it, or rejected it.

    A rejected annotation stops counting toward the task's overlap and goes back to its author
    first: the task is held for them for ``reserve`` (their next task is this one, showing the
    comment), and returns to the queue for anyone once that hold expires.

    Raises:
        NotFoundError: The reviewer may not see the annotation's project (see
            :func:`policies.authorize`).
        PermissionDeniedError: The reviewer's role does not allow reviews, or the reviewer wrote
            the annotation (and is not an administrator).
        ConflictError: Accepting a rejected annotation again would take the task past its
            overlap (another annotator has taken the slot it gave up).
        InvalidInputError: The decision is not 'accepted' or 'rejected'.
        StateTransitionError: The task is not in a reviewable state.
        AnnotationError: A fixed result does not fit the config.
    """
    authorize(session, session.get_one(UserRow, reviewer_id), Action.REVIEW, annotation)
    if decision not in REVIEW_STATES:
        raise InvalidInputError(
            f"review decision must be one of {', '.join(REVIEW_STATES)}, got {decision!r}"
        )
    if annotation.was_cancelled:
        raise InvalidInputError(
            f"annotation {annotation.id} was skipped; there is nothing to review"
        )
    task = lock_task(session, session.get_one(TaskRow, annotation.task_id))
    project = session.get_one(ProjectRow, task.project_id)
    previous = annotation.review_state
    if decision == "accepted" and previous == "rejected":
        if task.total_annotations >= project.maximum_annotations:
            raise ConflictError(
                f"annotation {annotation.id} was rejected and task {task.id} has since reached "
                f"its overlap of {project.maximum_annotations}; accepting it again would exceed it"
            )
    if result is not None:
        annotation.result = checked_result(project, task, result, complete=True)
        add_revision(session, annotation, "fixed", reviewer_id, now, comment)
    if decision == "accepted":
        transition(session, task, TaskEvent.ACCEPT)
        if previous == "rejected":
            count_finished(session, project, task, +1, keep_review_state=True)
    else:
        transition(session, task, TaskEvent.REJECT)
        if previous != "rejected":
            count_finished(session, project, task, -1, keep_review_state=True)
        if annotation.completed_by_id is not None:
            reserve_for(session, task, annotation.completed_by_id, now + reserve)
    annotation.review_state = decision
    annotation.review_comment = comment
    annotation.reviewed_by_id = reviewer_id
    annotation.updated_at = now
    add_revision(session, annotation, decision, reviewer_id, now, comment)
    session.flush()
    review_event(session, annotation, first=previous is None)
    return annotation
