"""Engines and sessions from a database URL, with the settings each backend needs.

``make_engine`` is the one engine factory: the web app (through ``LabelopsSQLAlchemy`` in
``web/extensions.py``), the CLI, the Dagster ``DatabaseResource`` and the migrations all build
their engines here, so every connection to a SQLite file gets the same pragmas.
"""

from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

# How long a SQLite connection waits for another writer before "database is locked" (seconds).
SQLITE_BUSY_TIMEOUT_SECONDS = 30
# Pragmas every SQLite connection runs when it opens (foreign keys make ON DELETE CASCADE work).
SQLITE_PRAGMAS = (
    "PRAGMA foreign_keys=ON",
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_SECONDS * 1000}",
)


def normalize_url(url: str | sa.URL) -> str:
    """Returns the URL with PostgreSQL pinned to psycopg2 (the driver the pipeline also uses).

    Args:
        url: A SQLAlchemy URL such as ``sqlite:///x.db`` or ``postgresql://u@h/db``.
    """
    if isinstance(url, sa.URL):
        url = url.render_as_string(hide_password=False)
    for bare in ("postgresql://", "postgres://"):
        if url.startswith(bare):
            return "postgresql+psycopg2://" + url[len(bare) :]
    return url


def make_engine(url: str | sa.URL, **kwargs: Any) -> Engine:
    """Returns an engine for the URL; SQLite gets WAL, foreign keys and a busy timeout.

    Args:
        url: The database URL.
        **kwargs: Passed on to ``sqlalchemy.create_engine``.
    """
    url = normalize_url(url)
    if url.startswith("sqlite"):
        connect_args = dict(kwargs.pop("connect_args", {}))
        connect_args.setdefault("timeout", SQLITE_BUSY_TIMEOUT_SECONDS)
        connect_args.setdefault("check_same_thread", False)
        engine = sa.create_engine(url, connect_args=connect_args, **kwargs)
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    # orjson decodes JSON/JSONB columns several times faster than the standard library.
    kwargs.setdefault("json_deserializer", orjson.loads)
    return sa.create_engine(url, **kwargs)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """Runs ``SQLITE_PRAGMAS`` on a new SQLite connection."""
    cursor = dbapi_connection.cursor()
    try:
        for pragma in SQLITE_PRAGMAS:
            cursor.execute(pragma)
    finally:
        cursor.close()


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """Returns a session factory bound to the engine (objects stay usable after commit)."""
    return sessionmaker(bind=engine, expire_on_commit=False)


def is_postgres(session_or_engine: Any) -> bool:
    """Returns True when the session's (plain or scoped) or engine's database is PostgreSQL."""
    get_bind = getattr(session_or_engine, "get_bind", None)
    bind = get_bind() if callable(get_bind) else session_or_engine
    return bool(bind.dialect.name == "postgresql")
