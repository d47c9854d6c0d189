"""Engines and sessions from a database URL, with the settings each backend needs."""

from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker


def normalize_url(url: str) -> str:
    """Returns the URL with PostgreSQL pinned to psycopg2 (the driver the pipeline also uses).

    Args:
        url: A SQLAlchemy URL such as ``sqlite:///x.db`` or ``postgresql://u@h/db``.
    """
    for bare in ("postgresql://", "postgres://"):
        if url.startswith(bare):
            return "postgresql+psycopg2://" + url[len(bare) :]
    return url


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Returns an engine for the URL; SQLite gets WAL, foreign keys and a busy timeout.

    Args:
        url: The database URL.
        **kwargs: Passed on to ``sqlalchemy.create_engine``.
    """
    url = normalize_url(url)
    if url.startswith("sqlite"):
        connect_args = kwargs.pop("connect_args", {})
        connect_args.setdefault("timeout", 30)
        connect_args.setdefault("check_same_thread", False)
        engine = sa.create_engine(url, connect_args=connect_args, **kwargs)

        @sa.event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    # orjson decodes JSON/JSONB columns several times faster than the standard library.
    kwargs.setdefault("json_deserializer", orjson.loads)
    return sa.create_engine(url, **kwargs)


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """Returns a session factory bound to the engine (objects stay usable after commit)."""
    return sessionmaker(bind=engine, expire_on_commit=False)


def is_postgres(session_or_engine: Any) -> bool:
    """Returns True when the session's (plain or scoped) or engine's database is PostgreSQL."""
    get_bind = getattr(session_or_engine, "get_bind", None)
    bind = get_bind() if callable(get_bind) else session_or_engine
    return bool(bind.dialect.name == "postgresql")
