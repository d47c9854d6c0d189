"""Background jobs: the durable queue the worker drains (snapshot exports, large imports).

A job is a ``background_jobs`` row. On PostgreSQL a worker picks candidate rows with ``SELECT
... FOR UPDATE SKIP LOCKED`` (two workers never get the same row and never wait for each other)
and claims them with an ``UPDATE``; on SQLite one ``UPDATE ... WHERE id IN (SELECT ...)
RETURNING`` takes the database's write lock before it reads, so a row is claimed once. A claimed
job is leased: a worker that dies leaves a lease that runs out, and the job is claimed again, at
most ``MAX_ATTEMPTS`` times.
"""

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from labelops.db.engine import is_postgres
from labelops.db.models import BackgroundJobRow
from labelops.domain.json_limits import is_stored_id
from labelops.services.errors import NotFoundError

STATUSES = ("created", "in_progress", "completed", "failed")
MAX_ATTEMPTS = 3
JOB_LEASE = timedelta(minutes=10)


@dataclass(frozen=True)
class JobEnv:
    """What a job handler may use besides the database, all from the worker's settings.

    Attributes:
        root: The jobs folder (uploads waiting, snapshot files).
        clock: Returns the current time.
        allowed_hosts: The settings' outbound host allowlist (for jobs that call out).
    """

    root: Path
    clock: Callable[[], datetime]
    allowed_hosts: Collection[str] = ()


def claim_rows(
    session: Session,
    model: Any,
    *,
    claimable: Sequence[Any],
    values: dict[str, Any],
    limit: int = 1,
) -> list[int]:
    """Returns the ids of up to ``limit`` rows claimed by setting ``values`` (caller commits).

    Args:
        session: A session with no transaction under way yet on SQLite (the claim must be the
            transaction's first statement there).
        model: The ORM class (it has an ``id`` column).
        claimable: Conditions a row must meet to be claimed.
        values: What claiming sets (a lease, a status).
        limit: How many rows to claim at most.
    """
    pick: Any = sa.select(model.id).where(*claimable).order_by(model.id).limit(limit)
    if is_postgres(session):
        # Locked here until the caller commits. Not a subquery of the UPDATE: PostgreSQL may run
        # a SKIP LOCKED subquery once per row and so claim more rows than the limit.
        pick = list(session.scalars(pick.with_for_update(skip_locked=True)))
        if not pick:
            return []
    claimed = session.execute(
        sa.update(model)
        .where(model.id.in_(pick), *claimable)
        .values(**values)
        .returning(model.id)
        .execution_options(synchronize_session=False)
    )
    return sorted(claimed.scalars())


def enqueue(
    session: Session,
    kind: str,
    *,
    project_id: int | None,
    created_by_id: int | None,
    params: dict[str, Any],
    title: str = "",
    now: datetime,
) -> BackgroundJobRow:
    """Returns a new job in status ``created`` (the caller commits; a worker then runs it)."""
    job = BackgroundJobRow(
        kind=kind,
        project_id=project_id,
        created_by_id=created_by_id,
        title=title,
        status="created",
        params=params,
        result={},
        created_at=now,
    )
    session.add(job)
    session.flush()
    return job


def claim_next(session: Session, *, now: datetime) -> BackgroundJobRow | None:
    """Returns the oldest job nobody is running, now leased to the caller, else None.

    Jobs whose lease ran out after ``MAX_ATTEMPTS`` claims are marked failed first.
    """
    expired = sa.and_(BackgroundJobRow.status == "in_progress", BackgroundJobRow.lease_until < now)
    session.execute(
        sa.update(BackgroundJobRow)
        .where(expired, BackgroundJobRow.attempts >= MAX_ATTEMPTS)
        .values(
            status="failed",
            finished_at=now,
            error=f"the worker running it stopped {MAX_ATTEMPTS} times; it was given up",
        )
        .execution_options(synchronize_session=False)
    )
    ids = claim_rows(
        session,
        BackgroundJobRow,
        claimable=[
            sa.or_(BackgroundJobRow.status == "created", expired),
            BackgroundJobRow.attempts < MAX_ATTEMPTS,
        ],
        values={
            "status": "in_progress",
            "attempts": BackgroundJobRow.attempts + 1,
            "lease_until": now + JOB_LEASE,
            "started_at": now,
        },
    )
    session.commit()
    return session.get(BackgroundJobRow, ids[0], populate_existing=True) if ids else None


def report_progress(session: Session, job_id: int, progress: int, *, now: datetime) -> None:
    """Records how far a job got and extends its lease (the worker is alive)."""
    session.execute(
        sa.update(BackgroundJobRow)
        .where(BackgroundJobRow.id == job_id, BackgroundJobRow.status == "in_progress")
        .values(progress=progress, lease_until=now + JOB_LEASE)
        .execution_options(synchronize_session=False)
    )
    session.commit()


def finish(
    session: Session,
    job: BackgroundJobRow,
    *,
    now: datetime,
    result: dict[str, Any] | None = None,
    result_path: str = "",
    error: str | None = None,
) -> None:
    """Marks the job completed (with its result) or failed (with the error); commits."""
    job.status = "failed" if error is not None else "completed"
    job.error = error or ""
    job.result = dict(result or {})
    job.result_path = result_path
    job.finished_at = now
    job.lease_until = None
    session.commit()


def get_job(session: Session, kind: str, project_id: int, job_id: int) -> BackgroundJobRow:
    """Returns the project's job of this kind with this id.

    Raises:
        NotFoundError: There is none (another project's job gets the same answer).
    """
    job = session.get(BackgroundJobRow, job_id) if is_stored_id(job_id) else None
    if job is None or job.kind != kind or job.project_id != project_id:
        raise NotFoundError(f"{kind} {job_id} not found in project {project_id}")
    return job


def project_jobs(session: Session, kind: str, project_id: int) -> list[BackgroundJobRow]:
    """Returns the project's jobs of this kind, newest first."""
    return list(
        session.scalars(
            sa.select(BackgroundJobRow)
            .where(BackgroundJobRow.kind == kind, BackgroundJobRow.project_id == project_id)
            .order_by(BackgroundJobRow.id.desc())
        )
    )


def job_files(job: BackgroundJobRow) -> list[Path]:
    """Returns the files a job keeps on disk: its result (a snapshot) and inputs still waiting."""
    paths = [Path(job.result_path)] if job.result_path else []
    paths += [Path(item["path"]) for item in job.params.get("files", []) if item.get("path")]
    return paths


def delete_project_job_files(session: Session, project_id: int) -> None:
    """Deletes the files of every job of the project (its rows go with the project's cascade).

    Called before the project's rows are deleted, since afterwards nothing names the files.
    """
    for job in session.scalars(
        sa.select(BackgroundJobRow).where(BackgroundJobRow.project_id == project_id)
    ):
        for path in job_files(job):
            path.unlink(missing_ok=True)
