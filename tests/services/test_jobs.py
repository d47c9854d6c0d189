"""The background-job queue: each job is claimed by one worker, and a dead worker's job returns."""

from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from labelops.db.engine import is_postgres, make_sessionmaker
from labelops.db.models import BackgroundJobRow, utcnow
from labelops.services import jobs


def _queue(engine: sa.Engine, n: int) -> list[int]:
    with Session(engine) as session:
        ids = [
            jobs.enqueue(
                session, "export", project_id=None, created_by_id=None, params={}, now=utcnow()
            ).id
            for _ in range(n)
        ]
        session.commit()
    return ids


def test_each_job_is_claimed_by_one_worker(engine: sa.Engine) -> None:
    queued = _queue(engine, 3)
    factory = make_sessionmaker(engine)
    now = utcnow()
    claimed = []
    for _ in range(4):
        with factory() as session:
            job = jobs.claim_next(session, now=now)
            claimed.append(job.id if job else None)
    assert claimed == [*queued, None]


def test_concurrent_claims_on_postgres_skip_each_others_rows(engine: sa.Engine) -> None:
    _queue(engine, 2)
    factory = make_sessionmaker(engine)
    if not is_postgres(engine):
        return  # SQLite serializes writers: the sequential test above covers it
    values = {"status": "in_progress"}
    claimable = [BackgroundJobRow.status == "created"]
    with factory() as first, factory() as second:
        a = jobs.claim_rows(first, BackgroundJobRow, claimable=claimable, values=values)
        b = jobs.claim_rows(second, BackgroundJobRow, claimable=claimable, values=values)
        assert a and b and a != b  # the second did not wait for the first's open transaction
        first.commit()
        second.commit()


def test_a_job_whose_worker_died_is_claimed_again_then_given_up(engine: sa.Engine) -> None:
    (job_id,) = _queue(engine, 1)
    factory = make_sessionmaker(engine)
    now = utcnow()
    for attempt in range(1, jobs.MAX_ATTEMPTS + 1):
        with factory() as session:
            job = jobs.claim_next(session, now=now)
            assert job is not None and job.id == job_id and job.attempts == attempt
            with factory() as other:
                assert jobs.claim_next(other, now=now) is None  # leased
        now += jobs.JOB_LEASE + timedelta(seconds=1)
    with factory() as session:
        assert jobs.claim_next(session, now=now) is None
        job = session.get_one(BackgroundJobRow, job_id)
        assert job.status == "failed" and "given up" in job.error
