"""One engine factory: the web app, the CLI and the pipeline get the same SQLite settings."""

import re
from dataclasses import replace
from pathlib import Path

import orjson
import sqlalchemy as sa
from flask import Flask, jsonify

import labelops
from labelops.cli.context import _engine
from labelops.db.engine import SQLITE_BUSY_TIMEOUT_SECONDS
from labelops.db.models import ImportBatchRow, ProjectMemberRow, ProjectRow, TaskRow
from labelops.resources.database import DatabaseResource
from labelops.settings import Settings
from labelops.web import create_app
from labelops.web.extensions import db
from tests.factories import make_project, make_tasks, make_user

PACKAGE = Path(labelops.__file__).parent


def _pragmas(connection: sa.Connection) -> dict[str, object]:
    return {
        name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()
        for name in ("foreign_keys", "journal_mode", "busy_timeout")
    }


EXPECTED = {
    "foreign_keys": 1,
    "journal_mode": "wal",
    "busy_timeout": SQLITE_BUSY_TIMEOUT_SECONDS * 1000,
}


def test_sqlite_pragmas_hold_inside_a_web_request(sqlite_url: str, tmp_path: Path) -> None:
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": sqlite_url,
            "LABELOPS_SETTINGS": Settings.from_env(tmp_path / "home"),
            "SECRET_KEY": "test-secret",
        }
    )

    @app.get("/_test/pragmas")
    def pragmas() -> object:
        return jsonify(_pragmas(db.session.connection()))

    try:
        assert app.test_client().get("/_test/pragmas").json == EXPECTED
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def test_app_engine_comes_from_the_shared_factory(app: Flask, database_url: str) -> None:
    with app.app_context():
        engine = db.engine
        if database_url.startswith("sqlite"):
            with engine.connect() as connection:
                assert _pragmas(connection) == EXPECTED
        else:
            # make_engine's PostgreSQL defaults: a pre-ping pool and the orjson decoder.
            assert engine.pool._pre_ping is True
            assert engine.dialect._json_deserializer is orjson.loads


def test_deleting_through_the_app_session_cascades_to_child_rows(app: Flask) -> None:
    with app.app_context():
        owner = make_user(db.session, "owner@example.com")
        project = make_project(db.session, owner)
        make_tasks(db.session, project, 3)
        db.session.commit()
        project_id = project.id
        db.session.execute(sa.delete(ProjectRow).where(ProjectRow.id == project_id))
        db.session.commit()
        for row in (TaskRow, ProjectMemberRow, ImportBatchRow):
            count = db.session.scalar(
                sa.select(sa.func.count()).select_from(row).where(row.project_id == project_id)
            )
            assert count == 0, row.__tablename__


def test_cli_and_pipeline_engines_get_the_same_pragmas(sqlite_url: str, tmp_path: Path) -> None:
    settings = replace(Settings.from_env(tmp_path / "home"), database_url=sqlite_url)
    cli_engine = _engine(settings)
    try:
        with cli_engine.connect() as connection:
            assert _pragmas(connection) == EXPECTED
    finally:
        cli_engine.dispose()

    resource = DatabaseResource(url=sqlite_url)
    try:
        with resource.session() as session:
            assert _pragmas(session.connection()) == EXPECTED
    finally:
        resource.teardown_after_execution(None)  # type: ignore[arg-type]


def test_no_engine_is_built_outside_the_shared_factory() -> None:
    callers = [
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if re.search(r"\bcreate_engine\(|\bengine_from_config\(", path.read_text())
    ]
    assert callers == ["db/engine.py"]
