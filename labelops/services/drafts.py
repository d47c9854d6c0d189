"""Drafts: one user's unsaved work on a task or on one of its annotations (Label Studio's drafts).

A draft is its author's alone: only they list, read, change or delete it (anyone else is told it
does not exist). Its result is work in progress, so it is not checked against the labeling config
(the annotation it becomes is). Each user has at most one draft per task and annotation: saving
again updates it. Submitting an annotation on the task discards the author's task draft, and
changing an annotation discards the author's draft of that annotation.
"""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from labelops.db.models import AnnotationRow, DraftRow, TaskRow, UserRow
from labelops.domain.json_limits import is_stored_id
from labelops.services.errors import NotFoundError
from labelops.services.policies import Action, authorize


def save_draft(
    session: Session,
    task: TaskRow,
    *,
    user: UserRow,
    result: Sequence[Any],
    lead_time: float | None,
    was_postponed: bool,
    annotation_id: int | None,
    now: datetime,
) -> DraftRow:
    """Returns the user's draft of the task (or of one of its annotations), created or updated.

    A draft of an annotation is work towards changing it: only those who may change it (its
    author, a manager) keep one.

    Raises:
        NotFoundError: ``annotation_id`` names no annotation of this task.
        PermissionDeniedError: The annotation is someone else's and the user does not manage
            the project.
    """
    user_id = user.id
    if annotation_id is not None:
        annotation = session.get(AnnotationRow, annotation_id)
        if annotation is None or annotation.task_id != task.id:
            raise NotFoundError(f"annotation {annotation_id} not found on task {task.id}")
        authorize(session, user, Action.CHANGE, annotation)
    draft = session.scalar(
        sa.select(DraftRow).where(
            DraftRow.task_id == task.id,
            DraftRow.user_id == user_id,
            DraftRow.annotation_id.is_(None)
            if annotation_id is None
            else DraftRow.annotation_id == annotation_id,
        )
    )
    if draft is None:
        draft = DraftRow(
            task_id=task.id,
            project_id=task.project_id,
            user_id=user_id,
            annotation_id=annotation_id,
            created_at=now,
        )
        session.add(draft)
    draft.result = list(result)
    draft.lead_time = lead_time
    draft.was_postponed = was_postponed
    draft.updated_at = now
    session.flush()
    return draft


def user_drafts(session: Session, task_id: int, user_id: int) -> list[DraftRow]:
    """Returns the user's drafts of the task, oldest first."""
    return list(
        session.scalars(
            sa.select(DraftRow)
            .where(DraftRow.task_id == task_id, DraftRow.user_id == user_id)
            .order_by(DraftRow.id)
        )
    )


def own_draft(session: Session, draft_id: int, user_id: int) -> DraftRow:
    """Returns one of the user's drafts.

    Raises:
        NotFoundError: No such draft, or it is someone else's (the same answer).
    """
    draft = session.get(DraftRow, draft_id) if is_stored_id(draft_id) else None
    if draft is None or draft.user_id != user_id:
        raise NotFoundError(f"draft {draft_id} not found")
    return draft


def update_draft(
    session: Session, draft: DraftRow, changes: dict[str, Any], *, now: datetime
) -> DraftRow:
    """Returns the draft with ``result``, ``lead_time`` or ``was_postponed`` changed."""
    for name in ("result", "lead_time", "was_postponed"):
        if name in changes:
            setattr(draft, name, changes[name])
    draft.updated_at = now
    session.flush()
    return draft


def delete_draft(session: Session, draft: DraftRow) -> None:
    """Deletes the draft."""
    session.delete(draft)
    session.flush()


def discard_drafts(
    session: Session, task_id: int, user_id: int, annotation_id: int | None = None
) -> None:
    """Deletes the user's draft of the task (``annotation_id`` None) or of that annotation."""
    session.execute(
        sa.delete(DraftRow).where(
            DraftRow.task_id == task_id,
            DraftRow.user_id == user_id,
            DraftRow.annotation_id.is_(None)
            if annotation_id is None
            else DraftRow.annotation_id == annotation_id,
        )
    )
