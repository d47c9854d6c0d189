"""The labeling database as a Dagster resource."""

from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
from pydantic import PrivateAttr
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from labelops.db.engine import make_engine, make_sessionmaker


# Bare, as Dagster documents it (the resource is its own value): a subscript would make pydantic
# build a generic subclass at runtime.
class DatabaseResource(dg.ConfigurableResource):  # type: ignore[type-arg]
    """The labeling database (SQLite file or PostgreSQL) named by a SQLAlchemy URL."""

    url: str

    _engine: Engine | None = PrivateAttr(default=None)
    _sessions: sessionmaker[Session] | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        """Builds the engine once per run (or sensor tick)."""
        self._connect()

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        """Closes the engine's pooled connections."""
        if self._engine is not None:
            self._engine.dispose()
            self._engine = self._sessions = None

    def _connect(self) -> sessionmaker[Session]:
        if self._sessions is None:
            self._engine = make_engine(self.url)
            self._sessions = make_sessionmaker(self._engine)
        return self._sessions

    @contextmanager
    def session(self) -> Iterator[Session]:
        """Yields a session that commits when the block ends and rolls back on an error."""
        with self._connect()() as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise
