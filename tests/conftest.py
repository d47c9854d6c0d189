"""Shared fixtures: a migrated database per test on SQLite and on PostgreSQL, and flaskr's four.

PostgreSQL is the server at LABELOPS_TEST_PG_URL (default 127.0.0.1:5432, trust auth). Where
nothing answers there, the run starts a private, throwaway server over the system's PostgreSQL
binaries (``tests/pg_server.py``) once, in the controlling process, hands its URL to the xdist
workers through LABELOPS_TEST_PG_URL and stops it at the end; if even that fails, a test that
needs PostgreSQL fails with a message saying why. Each xdist worker gets its own database,
migrated once and truncated between tests.
"""

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy.orm import Session

from labelops.db.base import Base
from labelops.db.engine import make_engine
from labelops.db.migrate import upgrade
from labelops.settings import Settings
from labelops.web import create_app
from tests.pg_server import (
    DEFAULT_TEST_PG_URL,
    PostgresUnavailable,
    PrivatePostgres,
    answers,
    start_private_postgres,
)

_PRIVATE_PG = pytest.StashKey[PrivatePostgres]()
_PRIVATE_PG_ERROR = "LABELOPS_TEST_PG_START_ERROR"


def pytest_configure(config: pytest.Config) -> None:
    """Starts a private PostgreSQL when nothing answers at the test URL (controller only)."""
    if hasattr(config, "workerinput"):  # an xdist worker: the controller already decided
        return
    if answers(pg_admin_url()):
        return
    try:
        server = start_private_postgres()
    except PostgresUnavailable as exc:
        os.environ[_PRIVATE_PG_ERROR] = str(exc)
        return
    config.stash[_PRIVATE_PG] = server
    os.environ["LABELOPS_TEST_PG_URL"] = server.url  # inherited by the xdist workers


def pytest_unconfigure(config: pytest.Config) -> None:
    """Stops the private PostgreSQL this run started, if any."""
    server = config.stash.get(_PRIVATE_PG, None)
    if server is not None:
        server.stop()
        del config.stash[_PRIVATE_PG]


def pg_admin_url() -> str:
    """Returns the URL of the test PostgreSQL server's ``test`` database."""
    return os.environ.get("LABELOPS_TEST_PG_URL", DEFAULT_TEST_PG_URL)


def pg_admin_engine() -> sa.Engine:
    url = pg_admin_url()
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError as exc:
        private = os.environ.get(_PRIVATE_PG_ERROR)
        hint = f"; no private server could be started either: {private}" if private else ""
        pytest.fail(
            f"PostgreSQL is not reachable at {url} ({exc.orig}){hint}; start it with "
            "'pg_ctlcluster <version> main start' or set LABELOPS_TEST_PG_URL",
            pytrace=False,
        )
    return engine


@contextmanager
def fresh_pg_database(prefix: str) -> Iterator[str]:
    """Yields the URL of a new, empty PostgreSQL database, force-dropped afterwards."""
    admin = pg_admin_engine()
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield (
            sa.engine.make_url(pg_admin_url())
            .set(database=name)
            .render_as_string(hide_password=False)
        )
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def pg_template_url(worker_id: str) -> Iterator[str]:
    """A migrated PostgreSQL database for this test worker, dropped at the end."""
    with fresh_pg_database(f"labelops_test_{worker_id}") as url:
        upgrade(url)
        yield url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file that each test copies."""
    path = tmp_path_factory.mktemp("template") / "labelops.db"
    upgrade(f"sqlite:///{path}")
    return path


def _truncate(url: str) -> None:
    engine = make_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty labeling database: every test using it runs on SQLite and PostgreSQL."""
    if request.param == "sqlite":
        path = tmp_path / "labelops.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("pg_template_url")
    _truncate(url)
    return url


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_template: Path) -> str:
    """A migrated, empty SQLite database only (for tests about the embedded default)."""
    path = tmp_path / "labelops.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def engine(database_url: str) -> Iterator[sa.Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: sa.Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session:
        yield session


@pytest.fixture
def app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    settings = Settings.from_env(tmp_path / "home")
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "LABELOPS_SETTINGS": settings,
            "SECRET_KEY": "test-secret",
        }
    )
    yield app
    with app.app_context():
        from labelops.web.extensions import db

        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


class AuthActions:
    """Signs a browser-like client in and out through the real login form."""

    def __init__(self, client: FlaskClient) -> None:
        self._client = client

    def login(self, email: str, password: str) -> Any:
        page = self._client.get("/auth/login")
        token = _csrf_from(page.get_data(as_text=True))
        return self._client.post(
            "/auth/login", data={"email": email, "password": password, "csrf_token": token}
        )

    def logout(self) -> Any:
        page = self._client.get("/auth/login")
        return self._client.post(
            "/auth/logout", data={"csrf_token": _csrf_from(page.get_data(as_text=True))}
        )


def _csrf_from(html: str) -> str:
    marker = 'name="csrf-token" content="'
    start = html.index(marker) + len(marker)
    return html[start : html.index('"', start)]


@pytest.fixture
def auth(client: FlaskClient) -> AuthActions:
    return AuthActions(client)


@pytest.fixture(autouse=True)
def _no_storage_listing_on_create(monkeypatch: pytest.MonkeyPatch) -> None:
    """Connections made by tests name buckets that need not exist: no listing when created.

    Tests of the create-time check turn it back on with LABELOPS_STORAGE_CHECK_ON_CREATE=1.
    """
    monkeypatch.setenv("LABELOPS_STORAGE_CHECK_ON_CREATE", "0")
