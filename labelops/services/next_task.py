"""The labeling queue: which task an annotator gets next, and the locks that keep overlap honest.

Rules (Label Studio's, made exact): a task this annotator still holds a live lock on comes back
first, and so does work a reviewer rejected (the rejection holds the task for its author for one
lock TTL, see :func:`reserve_for`, so they fix their annotation before anyone else is handed it);
otherwise the first unlabeled task, highest ``priority`` first then lowest id, that this annotator
has neither annotated nor skipped, and whose finished annotations plus other annotators' live locks
are fewer than the project's overlap (``maximum_annotations``). On PostgreSQL the candidate row is
taken with ``FOR UPDATE SKIP LOCKED`` so concurrent requests never wait on the same row; the
query's snapshot may predate another hand-out of that row that committed just before the row lock
was granted, so the count is taken again under the row lock (:func:`slots_taken`) and a task that
turned out full is passed over. On SQLite the database's single writer serializes the check and
the lock.
"""

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from labelops.db.engine import is_postgres
from labelops.db.models import AnnotationRow, ProjectRow, TaskLockRow, TaskRow
from labelops.domain.task_state import TaskEvent
from labelops.services.locking import serialize_writers
from labelops.services.workflow import transition

DEFAULT_LOCK_TTL = timedelta(hours=1)
_SCAN_BATCH = 50


def next_task(
    session: Session,
    project: ProjectRow,
    user_id: int,
    *,
    now: datetime,
    lock_ttl: timedelta = DEFAULT_LOCK_TTL,
) -> TaskRow | None:
    """Returns the task the annotator should label next (now locked for them), or None when done.

    Args:
        session: The database session; the caller commits.
        project: The project whose queue to serve.
        user_id: The annotator.
        now: The current time (naive UTC), for lock expiry.
        lock_ttl: How long the hand-out holds the task.
    """
    serialize_writers(session, project.id)
    # Start from the annotator's few live locks (an indexed lookup), never from a scan of the
    # project's tasks: query planners otherwise walk the queue index looking for them.
    held_ids = list(
        session.scalars(
            sa.select(TaskLockRow.task_id).where(
                TaskLockRow.user_id == user_id, TaskLockRow.expire_at > now
            )
        )
    )
    held = None
    if held_ids:
        held = session.scalar(
            sa.select(TaskRow)
            .where(
                TaskRow.id.in_(held_ids),
                TaskRow.project_id == project.id,
                TaskRow.is_labeled.is_(False),
                ~_annotated_by(user_id, except_rejected=True),
            )
            .order_by(TaskRow.priority.desc(), TaskRow.id)
            .limit(1)
        )
    if held is not None:
        _lock(session, held, user_id, now + lock_ttl)
        return held
    task = _candidate(session, project, user_id, now)
    if task is not None:
        _lock(session, task, user_id, now + lock_ttl)
    return task


def claim_next_task(
    session: Session,
    project_id: int,
    user_id: int,
    *,
    now: datetime,
    lock_ttl: timedelta = DEFAULT_LOCK_TTL,
    attempts: int = 5,
) -> TaskRow | None:
    """Returns the next task (locked and committed), retrying SQLite's transient write conflicts.

    Unlike :func:`next_task` this commits the session: a hand-out is its own transaction.
    """
    for attempt in range(attempts):
        try:
            project = session.get_one(ProjectRow, project_id)
            task = next_task(session, project, user_id, now=now, lock_ttl=lock_ttl)
            session.commit()
            return task
        except OperationalError as exc:
            session.rollback()
            if not is_retryable(exc) or attempt == attempts - 1:
                raise
    return None


def progress(session: Session, project_id: int, user_id: int) -> tuple[int, int]:
    """Returns (tasks the annotator has annotated or skipped, tasks in the project).

    Args:
        session: The database session.
        project_id: The project.
        user_id: The annotator.
    """
    # Two index lookups (the annotator's annotations, the project's task ids), no scan of the
    # project's tasks per annotation: the page asks on every task.
    done = session.scalar(
        sa.select(sa.func.count(sa.distinct(AnnotationRow.task_id))).where(
            AnnotationRow.project_id == project_id, AnnotationRow.completed_by_id == user_id
        )
    )
    total = session.scalar(
        sa.select(sa.func.count(TaskRow.id)).where(TaskRow.project_id == project_id)
    )
    return int(done or 0), int(total or 0)


def _annotated_by(user_id: int, *, except_rejected: bool = False) -> sa.ColumnElement[bool]:
    """Returns whether the user has an annotation on the task.

    With ``except_rejected`` an annotation a reviewer rejected does not count: its author holds
    the task to fix it.
    """
    condition = sa.exists().where(
        AnnotationRow.task_id == TaskRow.id, AnnotationRow.completed_by_id == user_id
    )
    if except_rejected:
        condition = condition.where(
            sa.or_(
                AnnotationRow.review_state.is_(None),
                AnnotationRow.review_state != "rejected",
                AnnotationRow.was_cancelled.is_(True),
            )
        )
    return condition


def reserve_for(session: Session, task: TaskRow, user_id: int, expire_at: datetime) -> None:
    """Holds the task for the user until at least ``expire_at``, leaving its state as it is.

    A hand-out locks through it; a rejection keeps the author's slot with it while they come
    back to fix their work. One upsert, no ORM object: a held lock only ever gets longer.
    """
    postgres = is_postgres(session)
    insert = (postgresql.insert if postgres else sqlite.insert)(TaskLockRow).values(
        task_id=task.id, user_id=user_id, expire_at=expire_at
    )
    longer = (sa.func.greatest if postgres else sa.func.max)(
        TaskLockRow.expire_at, insert.excluded.expire_at
    )
    session.execute(
        insert.on_conflict_do_update(
            index_elements=[TaskLockRow.task_id, TaskLockRow.user_id],
            set_={"expire_at": longer},
        )
    )


def _candidate(
    session: Session, project: ProjectRow, user_id: int, now: datetime
) -> TaskRow | None:
    others_locks = (
        sa.select(sa.func.count(TaskLockRow.id))
        .where(
            TaskLockRow.task_id == TaskRow.id,
            TaskLockRow.user_id != user_id,
            TaskLockRow.expire_at > now,
        )
        .scalar_subquery()
    )
    passed_over: list[int] = []
    while True:
        query = (
            sa.select(TaskRow)
            .where(
                TaskRow.project_id == project.id,
                TaskRow.is_labeled.is_(False),
                ~_annotated_by(user_id),
                TaskRow.total_annotations + others_locks < project.maximum_annotations,
            )
            .order_by(TaskRow.priority.desc(), TaskRow.id)
            .limit(1)
            .execution_options(populate_existing=True)
        )
        if passed_over:
            query = query.where(TaskRow.id.not_in(passed_over))
        if is_postgres(session):
            query = query.with_for_update(skip_locked=True, of=TaskRow)
        task = session.scalar(query)
        if task is None or _still_open(session, project, task, user_id, now):
            return task
        passed_over.append(task.id)


def _still_open(
    session: Session, project: ProjectRow, task: TaskRow, user_id: int, now: datetime
) -> bool:
    """Returns True when the task, re-read under its row lock, still has a slot for the user."""
    mine = (
        sa.select(AnnotationRow.id)
        .where(AnnotationRow.task_id == task.id, AnnotationRow.completed_by_id == user_id)
        .exists()
    )
    others, annotated = session.execute(
        sa.select(_others_locks(task.id, user_id, now).scalar_subquery(), mine)
    ).one()
    if annotated:
        return False
    return task.total_annotations + int(others or 0) < project.maximum_annotations


def _others_locks(task_id: int, user_id: int, now: datetime) -> sa.Select[int]:
    return sa.select(sa.func.count(TaskLockRow.id)).where(
        TaskLockRow.task_id == task_id,
        TaskLockRow.user_id != user_id,
        TaskLockRow.expire_at > now,
    )


def slots_taken(session: Session, task: TaskRow, user_id: int, now: datetime) -> int:
    """Returns the task's finished annotations plus other annotators' live locks on it.

    Call it with the task's row lock held and ``task`` freshly read under it: every hand-out and
    submission of the task takes that lock, so the count then includes all of them. Each query
    is a new statement, so on PostgreSQL (READ COMMITTED) it sees everything committed before
    the lock was granted.
    """
    others = session.scalar(_others_locks(task.id, user_id, now))
    return task.total_annotations + int(others or 0)


def _lock(session: Session, task: TaskRow, user_id: int, expire_at: datetime) -> None:
    reserve_for(session, task, user_id, expire_at)
    transition(session, task, TaskEvent.LOCK)
    session.flush()


def is_retryable(exc: Exception) -> bool:
    """Returns True for SQLite's transient 'database is locked' errors."""
    return isinstance(exc, OperationalError) and "locked" in str(exc).lower()
