"""Migration 0005: projects.workflow is added and dropped again, on SQLite and PostgreSQL."""

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command

from labelops.db.engine import make_engine
from labelops.db.migrate import alembic_config, upgrade
from tests.conftest import fresh_pg_database

REVISION = "0005_task_workflow"
DEFINITION = {"states": ["new"], "events": [], "transitions": []}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty database of its own (the migration is run down and up on it)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'labelops.db'}"
        return
    with fresh_pg_database("labelops_migration") as url:
        yield url


def _columns(engine: sa.Engine) -> list[str]:
    return [c["name"] for c in sa.inspect(engine).get_columns("projects")]


def test_workflow_column_round_trips_and_keeps_projects(empty_url: str) -> None:
    upgrade(empty_url, REVISION)
    engine = make_engine(empty_url)
    try:
        projects = sa.table(
            "projects", sa.column("id"), sa.column("title"), sa.column("workflow", sa.JSON)
        )
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO projects (title, description, label_config, expert_instruction,"
                    " show_instruction, show_skip_button, maximum_annotations, sampling,"
                    " model_version, color, num_tasks, num_annotations, num_labeled_tasks,"
                    " num_predictions, created_at, updated_at) VALUES ('kept', '', '<View/>', '',"
                    " false, true, 1, '', '', '#fff', 0, 0, 0, 0, '2026-01-01', '2026-01-01')"
                )
            )
            conn.execute(sa.update(projects).values(workflow=DEFINITION))
        assert "workflow" in _columns(engine)

        command.downgrade(alembic_config(empty_url), f"{REVISION}-1")
        engine.dispose()
        assert "workflow" not in _columns(engine)
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT title FROM projects")).scalars().all() == ["kept"]
        if engine.dialect.name == "sqlite":
            with engine.connect() as conn:
                sql = conn.execute(
                    sa.text("SELECT sql FROM sqlite_master WHERE name = 'projects'")
                ).scalar_one()
            assert "AUTOINCREMENT" in sql

        upgrade(empty_url, REVISION)
        engine.dispose()
        with engine.connect() as conn:
            assert conn.execute(sa.select(projects.c.title, projects.c.workflow)).all() == [
                ("kept", None)
            ]
    finally:
        engine.dispose()
