"""Migration 0002: SQLite tables become AUTOINCREMENT, keep their rows and never reuse an id."""

import re
import sqlite3
from pathlib import Path

import pytest
from alembic import command

from labelops.db.base import Base
from labelops.db.engine import make_engine
from labelops.db.migrate import alembic_config, upgrade

BEFORE = "0001"
REVISION = "0002_sqlite_autoincrement"


def _insert(db: sqlite3.Connection, table: str, **values: object) -> None:
    names = ", ".join(values)
    marks = ", ".join("?" for _ in values)
    db.execute(f"INSERT INTO {table} ({names}) VALUES ({marks})", tuple(values.values()))


def _user(db: sqlite3.Connection, user_id: int) -> None:
    _insert(db, "users", id=user_id, email=f"u{user_id}@example.com", username="",
            first_name="", last_name="", is_admin=0, is_active=1, is_imported=0,
            created_at="2026-01-01")  # fmt: skip


def _project(db: sqlite3.Connection, project_id: int | None, **extra: object) -> None:
    _insert(db, "projects", **extra, id=project_id, title=f"p{project_id}", description="",
            label_config="<View/>", expert_instruction="", show_instruction=0,
            show_skip_button=1, maximum_annotations=1, sampling="", model_version="",
            color="#fff", num_tasks=0, num_annotations=0, num_labeled_tasks=0,
            num_predictions=0, created_by_id=1, created_at="2026-01-01",
            updated_at="2026-01-01")  # fmt: skip


def _task(db: sqlite3.Connection, task_id: int, project_id: int) -> None:
    _insert(db, "tasks", id=task_id, project_id=project_id, data="{}", meta="{}", priority=0,
            state="new", is_labeled=0, total_annotations=0, cancelled_annotations=0,
            total_predictions=0, content_hash="", created_at="2026-01-01",
            updated_at="2026-01-01")  # fmt: skip


def _annotation(db: sqlite3.Connection, annotation_id: int, task_id: int, project_id: int) -> None:
    _insert(db, "annotations", id=annotation_id, task_id=task_id, project_id=project_id,
            completed_by_id=1, result="[]", was_cancelled=0, ground_truth=0,
            review_comment="", created_at="2026-01-01", updated_at="2026-01-01")  # fmt: skip


def _member(db: sqlite3.Connection, member_id: int, project_id: int, user_id: int) -> None:
    _insert(db, "project_members", id=member_id, project_id=project_id, user_id=user_id,
            role="manager", created_at="2026-01-01")  # fmt: skip


@pytest.fixture
def old_database(tmp_path: Path) -> Path:
    """A database at 0001 as the web app left it: foreign keys were off, so orphans remain.

    Project 3 (the newest) and task 30 were deleted; their members, tasks and annotations stayed.
    """
    path = tmp_path / "old.db"
    upgrade(f"sqlite:///{path}", BEFORE)
    db = sqlite3.connect(path)
    _user(db, 1)
    _user(db, 2)
    _project(db, 1)
    _project(db, 2)
    _task(db, 10, 1)
    _task(db, 20, 2)
    _task(db, 21, 3)  # orphan: project 3 is gone
    _annotation(db, 100, 10, 1)
    _annotation(db, 101, 21, 3)  # orphan of an orphan
    _annotation(db, 102, 30, 1)  # orphan: task 30 is gone
    _member(db, 1, 1, 1)
    _member(db, 2, 3, 2)  # orphan: user 2 was the manager of the deleted project 3
    _insert(db, "audit_log", id=1, user_id=1, project_id=3, action="project_deleted",
            object_type="project", object_id=3, detail="{}", created_at="2026-01-01")  # fmt: skip
    db.commit()
    db.close()
    return path


def _schema(path: Path) -> dict[tuple[str, str], str]:
    db = sqlite3.connect(path)
    rows = db.execute(
        "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL "
        "AND name NOT LIKE 'sqlite_%' AND name != 'alembic_version'"
    ).fetchall()
    db.close()
    # Formatting only: the rebuild quotes table names and may order constraints differently.
    return {
        (kind, name): " ".join(sorted(re.sub(r'[\s"]+', " ", sql).replace(",", " ").split()))
        for kind, name, sql in rows
    }


def test_upgrade_makes_every_table_autoincrement_and_keeps_ids(old_database: Path) -> None:
    upgrade(f"sqlite:///{old_database}")
    db = sqlite3.connect(old_database)
    tables = [t.name for t in Base.metadata.sorted_tables]
    for table in tables:
        sql = db.execute("SELECT sql FROM sqlite_master WHERE name = ?", (table,)).fetchone()[0]
        assert "AUTOINCREMENT" in sql, table
    assert db.execute("SELECT id FROM projects ORDER BY id").fetchall() == [(1,), (2,)]
    assert db.execute("SELECT id FROM tasks ORDER BY id").fetchall() == [(10,), (20,)]
    assert db.execute("SELECT id FROM annotations").fetchall() == [(100,)]
    assert db.execute("SELECT id FROM project_members").fetchall() == [(1,)]
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    sequence = dict(db.execute("SELECT name, seq FROM sqlite_sequence").fetchall())
    # New ids start above every id in use and above ids the audit log still names.
    assert sequence["projects"] == 3
    assert sequence["tasks"] == 20
    db.execute("PRAGMA foreign_keys=ON")
    (organization,) = db.execute("SELECT id FROM organizations").fetchone()
    _project(db, None, organization_id=organization)
    new_id = db.execute("SELECT MAX(id) FROM projects").fetchone()[0]
    assert new_id == 4
    assert db.execute("SELECT COUNT(*) FROM tasks WHERE project_id = 4").fetchone()[0] == 0
    assert (
        db.execute("SELECT COUNT(*) FROM project_members WHERE project_id = 4").fetchone()[0] == 0
    )
    db.close()


def test_upgraded_schema_matches_the_models(tmp_path: Path) -> None:
    migrated = tmp_path / "migrated.db"
    upgrade(f"sqlite:///{migrated}")
    fresh = tmp_path / "fresh.db"
    engine = make_engine(f"sqlite:///{fresh}")
    Base.metadata.create_all(engine)
    engine.dispose()
    assert _schema(migrated) == _schema(fresh)


def test_downgrade_removes_autoincrement_and_keeps_rows(old_database: Path) -> None:
    url = f"sqlite:///{old_database}"
    upgrade(url, REVISION)
    command.downgrade(alembic_config(url), BEFORE)
    db = sqlite3.connect(old_database)
    sql = db.execute("SELECT sql FROM sqlite_master WHERE name = 'tasks'").fetchone()[0]
    assert "AUTOINCREMENT" not in sql
    assert db.execute("SELECT id FROM tasks ORDER BY id").fetchall() == [(10,), (20,)]
    index = db.execute("SELECT sql FROM sqlite_master WHERE name = 'ix_tasks_queue'").fetchone()[0]
    assert "priority DESC" in index
    db.close()
    upgrade(url)
