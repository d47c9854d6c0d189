"""The SQLite bulk importer takes task ids from the AUTOINCREMENT sequence, never MAX(id) + 1."""

from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

from labelops.db.base import Base
from labelops.db.engine import make_engine
from labelops.db.models import TaskRow
from labelops.services.tasks import delete_tasks
from tests.factories import make_project, make_tasks, make_user


def test_ids_come_from_the_sequence_even_before_it_has_a_row(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
    Base.metadata.create_all(engine)  # no migration: sqlite_sequence has no row for tasks yet
    try:
        with Session(engine, expire_on_commit=False) as session:
            project = make_project(session, make_user(session))
            first = [t.id for t in make_tasks(session, project, 5)]
            session.commit()
            assert first == [1, 2, 3, 4, 5]
            delete_tasks(session, project, first[-2:])
            session.commit()
            second = [t.id for t in make_tasks(session, project, 3)]
            session.commit()
            assert second == [6, 7, 8]
            assert session.scalar(sa.select(sa.func.max(TaskRow.id))) == 8
            seq = session.execute(
                sa.text("SELECT seq FROM sqlite_sequence WHERE name = 'tasks'")
            ).scalar_one()
            assert seq == 8
    finally:
        engine.dispose()
