"""The data manager's read model: keyset pages in both directions and a task's full record.

No COUNT(*) anywhere: a page is ``limit + 1`` rows from an index; the previous page is the same
query in the opposite direction from the page's first row.
"""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from labelops.db.models import (
    AnnotationRevisionRow,
    AnnotationRow,
    PredictionRow,
    TaskRow,
    UserRow,
)
from labelops.domain.errors import InvalidInputError
from labelops.services.tasks import SORT_COLUMNS, TaskFilter, list_tasks
from labelops.services.tasks import _encode_cursor as encode_cursor

Direction = Literal["asc", "desc"]


@dataclass
class TaskPage:
    """One page of the data manager with the cursors of its neighbours."""

    tasks: list[TaskRow]
    next_cursor: str | None
    prev_cursor: str | None
    annotators: dict[int, list[str]] = field(default_factory=dict)


def task_page(
    session: Session,
    project_id: int,
    flt: TaskFilter,
    *,
    sort: str = "id",
    direction: Direction = "asc",
    after: str | None = None,
    before: str | None = None,
    limit: int = 50,
) -> TaskPage:
    """Returns the page after ``after`` (or before ``before``), with both neighbour cursors.

    Raises:
        InvalidInputError: Unknown sort column, direction or state, or a malformed cursor.
    """
    if before:
        opposite: Direction = "desc" if direction == "asc" else "asc"
        rows, earlier = list_tasks(
            session, project_id, flt, sort=sort, direction=opposite, after=before, limit=limit
        )
        rows.reverse()
        has_prev, has_next = earlier is not None, True
    else:
        rows, _next = list_tasks(
            session, project_id, flt, sort=sort, direction=direction, after=after, limit=limit
        )
        has_prev, has_next = bool(after), _next is not None
    next_cursor = _cursor(rows[-1], sort) if rows and has_next else None
    prev_cursor = _cursor(rows[0], sort) if rows and has_prev else None
    return TaskPage(rows, next_cursor, prev_cursor, annotator_emails(session, [t.id for t in rows]))


def _cursor(task: TaskRow, sort: str) -> str:
    if sort not in SORT_COLUMNS:
        raise InvalidInputError(f"cannot sort by {sort!r}")
    value: Any = getattr(task, sort)
    if sort == "prediction_score" and value is None:
        value = -1.0
    return encode_cursor(value, task.id)


def annotator_emails(session: Session, task_ids: Sequence[int]) -> dict[int, list[str]]:
    """Returns task id -> the emails of the people who annotated it, in annotation order."""
    found: dict[int, list[str]] = defaultdict(list)
    if not task_ids:
        return found
    rows = session.execute(
        sa.select(AnnotationRow.task_id, UserRow.email)
        .join(UserRow, UserRow.id == AnnotationRow.completed_by_id)
        .where(AnnotationRow.task_id.in_(list(task_ids)))
        .order_by(AnnotationRow.id)
    )
    for task_id, email in rows:
        if email not in found[task_id]:
            found[task_id].append(email)
    return found


@dataclass
class TaskDetail:
    """Everything the task page shows: annotations, predictions and history with people's emails."""

    task: TaskRow
    annotations: list[AnnotationRow]
    predictions: list[PredictionRow]
    revisions: list[AnnotationRevisionRow]
    emails: dict[int, str]


def task_detail(session: Session, task: TaskRow) -> TaskDetail:
    """Returns the task's annotations, predictions and annotation history, oldest first."""
    annotations = list(
        session.scalars(
            sa.select(AnnotationRow)
            .where(AnnotationRow.task_id == task.id)
            .order_by(AnnotationRow.id)
        )
    )
    predictions = list(
        session.scalars(
            sa.select(PredictionRow)
            .where(PredictionRow.task_id == task.id)
            .order_by(PredictionRow.id)
        )
    )
    revisions = list(
        session.scalars(
            sa.select(AnnotationRevisionRow)
            .where(AnnotationRevisionRow.task_id == task.id)
            .order_by(AnnotationRevisionRow.id)
        )
    )
    ids = {a.completed_by_id for a in annotations} | {a.reviewed_by_id for a in annotations}
    ids |= {r.changed_by_id for r in revisions}
    return TaskDetail(task, annotations, predictions, revisions, user_emails(session, ids))


def user_emails(session: Session, user_ids: set[int | None] | Sequence[int]) -> dict[int, str]:
    """Returns user id -> email for the given ids (None ids are ignored)."""
    wanted = [i for i in user_ids if i is not None]
    if not wanted:
        return {}
    rows = session.execute(sa.select(UserRow.id, UserRow.email).where(UserRow.id.in_(wanted)))
    return {user_id: email for user_id, email in rows}
