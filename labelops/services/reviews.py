"""The review queue: completed tasks that still hold an annotation nobody has reviewed."""

import sqlalchemy as sa
from sqlalchemy.orm import Session

from labelops.db.models import AnnotationRow, TaskRow

REVIEWABLE_STATES = ("completed", "reviewed")


def _unreviewed() -> sa.Exists:
    return sa.exists().where(
        AnnotationRow.task_id == TaskRow.id,
        AnnotationRow.was_cancelled.is_(False),
        AnnotationRow.review_state.is_(None),
    )


def next_for_review(session: Session, project_id: int, *, after_task_id: int = 0) -> TaskRow | None:
    """Returns the first task after ``after_task_id`` (by id) that waits for a review, else None.

    A task waits when it is completed (or already partly accepted) and one of its finished
    annotations has no review yet. Rejected tasks are back in the labeling queue, so they only
    return here once they are completed again.
    """
    return session.scalar(
        sa.select(TaskRow)
        .where(
            TaskRow.project_id == project_id,
            TaskRow.state.in_(REVIEWABLE_STATES),
            TaskRow.id > after_task_id,
            _unreviewed(),
        )
        .order_by(TaskRow.id)
        .limit(1)
    )


def awaits_review(session: Session, task: TaskRow) -> bool:
    """Returns True when the task is in a reviewable state and has an unreviewed annotation."""
    if task.state not in REVIEWABLE_STATES:
        return False
    return bool(session.scalar(sa.select(TaskRow.id).where(TaskRow.id == task.id, _unreviewed())))
