"""The review queue: completed tasks that still hold an annotation nobody has reviewed.

Which states are reviewable is the project's workflow's to say: completed and reviewed, plus any
custom state that a review event (accept or reject) leaves, such as ``needs_second_review``.
"""

import sqlalchemy as sa
from sqlalchemy.orm import Session

from labelops.db.models import AnnotationRow, TaskRow
from labelops.services.workflow import workflow_for


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


def awaits_review(session: Session, task: TaskRow) -> bool:
    """Returns True when the task is in a reviewable state and has an unreviewed annotation."""
    if task.state not in workflow_for(session, task.project_id).reviewable_states:
        return False
    return bool(session.scalar(sa.select(TaskRow.id).where(TaskRow.id == task.id, _unreviewed())))
