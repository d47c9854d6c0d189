"""Row locks and atomic counters, so concurrent requests never lose an update.

PostgreSQL locks the row with ``SELECT ... FOR UPDATE``. SQLite has one writer at a time, and
Python's sqlite3 runs plain reads outside the transaction, so a read-then-write there is only safe
after the transaction has taken the write lock: a no-op UPDATE of the row does that first. It
rewrites ``updated_at`` only: writing a primary key, even unchanged, makes SQLite check every
child row that references it.
"""

import sqlalchemy as sa
from sqlalchemy.orm import Session

from labelops.db.engine import is_postgres
from labelops.db.models import ProjectRow, TaskRow


def lock_task(session: Session, task: TaskRow) -> TaskRow:
    """Returns the task re-read under a write lock held until the transaction ends."""
    if is_postgres(session):
        # One statement takes the lock and re-reads the row into the object.
        return session.scalars(
            sa.select(TaskRow)
            .where(TaskRow.id == task.id)
            .with_for_update(of=TaskRow)
            .execution_options(populate_existing=True)
        ).one()
    session.execute(
        sa.update(TaskRow)
        .where(TaskRow.id == task.id)
        .values(updated_at=TaskRow.updated_at)
        .execution_options(synchronize_session=False)
    )
    session.refresh(task)
    return task


def serialize_writers(session: Session, project_id: int) -> None:
    """On SQLite, takes the database's write lock now so the reads that follow are current.

    PostgreSQL needs nothing here: its row locks (``FOR UPDATE SKIP LOCKED``) do the work.
    """
    if not is_postgres(session):
        session.execute(
            sa.update(ProjectRow)
            .where(ProjectRow.id == project_id)
            .values(updated_at=ProjectRow.updated_at)
            .execution_options(synchronize_session=False)
        )


def bump_project(session: Session, project: ProjectRow, **deltas: int) -> None:
    """Adds to the project's counters in one UPDATE (``num_tasks=num_tasks + n``)."""
    changes = {name: getattr(ProjectRow, name) + delta for name, delta in deltas.items() if delta}
    if not changes:
        return
    session.execute(
        sa.update(ProjectRow)
        .where(ProjectRow.id == project.id)
        .values(changes)
        .execution_options(synchronize_session=False)
    )
    session.expire(project, list(changes))
