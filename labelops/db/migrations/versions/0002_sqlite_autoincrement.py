"""SQLite tables with AUTOINCREMENT, so a deleted row's id is never handed to a new row.

Without AUTOINCREMENT SQLite gives a new row the largest id in use plus one, so deleting the
newest project (or task) and creating the next one reused its id, and the new row inherited
whatever still pointed at the old id. The upgrade rebuilds every table with AUTOINCREMENT and
seeds ``sqlite_sequence`` so that existing rows keep their ids and new ones start above every id
already used. Rows orphaned while foreign keys were not enforced are removed first, following
each foreign key's ``ON DELETE`` rule. PostgreSQL sequences never hand out a value twice: there
this revision does nothing.

SQLite reflection does not report AUTOINCREMENT: a later batch migration that recreates a table
must pass ``table_kwargs={"sqlite_autoincrement": True}`` or the table loses it (the test that
compares the migrated schema with the models catches that).

Revision ID: 0002_sqlite_autoincrement
Revises: 0001
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_sqlite_autoincrement"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Every table with an integer primary key ``id`` when this revision was written.
TABLES = (
    "users",
    "api_tokens",
    "projects",
    "project_members",
    "import_batches",
    "tasks",
    "task_locks",
    "annotations",
    "annotation_revisions",
    "predictions",
    "dataset_versions",
    "agreement_reports",
    "storage_connections",
    "imported_objects",
    "pipeline_runs",
    "audit_log",
)

# Columns that hold another table's id without a foreign key: new ids start above these too.
SOFT_REFERENCES = {
    "annotations": (("annotation_revisions", "annotation_id"),),
    "projects": (("audit_log", "project_id"),),
}


def upgrade() -> None:
    """Applies this revision: rebuilds the SQLite tables with AUTOINCREMENT."""
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    _foreign_keys_off(bind)
    _delete_orphans(bind)
    for table in TABLES:
        _rebuild(bind, table, autoincrement=True)
    for table in TABLES:
        _seed_sequence(bind, table)
    _check_foreign_keys(bind)


def downgrade() -> None:
    """Reverts this revision: rebuilds the SQLite tables without AUTOINCREMENT."""
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    _foreign_keys_off(bind)
    for table in TABLES:
        _rebuild(bind, table, autoincrement=False)
    bind.exec_driver_sql(
        f"DELETE FROM sqlite_sequence WHERE name IN ({', '.join('?' for _ in TABLES)})",
        TABLES,
    )


def _foreign_keys_off(bind: sa.Connection) -> None:
    """Turns foreign keys off, or raises: dropping a parent table would cascade to its children."""
    bind.exec_driver_sql("PRAGMA foreign_keys=OFF")
    if bind.exec_driver_sql("PRAGMA foreign_keys").scalar():
        raise RuntimeError(
            "cannot rebuild the SQLite tables: PRAGMA foreign_keys could not be turned off "
            "(a transaction was already open; run each migration in its own transaction)"
        )


def _rebuild(bind: sa.Connection, table: str, *, autoincrement: bool) -> None:
    """Recreates the table with or without AUTOINCREMENT, keeping its rows and indexes.

    Reflection loses an index's column order (``priority DESC``): each index is recreated from
    the statement that made it. An AUTOINCREMENT key is declared inline and has no name, so
    without AUTOINCREMENT the named key of 0001 (``pk_<table>``) is given back explicitly.
    """
    indexes = bind.exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
        "AND sql IS NOT NULL",
        (table,),
    ).fetchall()
    primary_key = () if autoincrement else (sa.PrimaryKeyConstraint("id", name=f"pk_{table}"),)
    with op.batch_alter_table(
        table,
        recreate="always",
        table_kwargs={"sqlite_autoincrement": autoincrement},
        reflect_args=primary_key,
    ):
        pass
    for name, sql in indexes:
        bind.exec_driver_sql(f'DROP INDEX IF EXISTS "{name}"')
        bind.exec_driver_sql(sql)


def _delete_orphans(bind: sa.Connection) -> None:
    """Applies each foreign key's ON DELETE rule to rows whose parent row is gone.

    Parents come before children, so a child of a removed orphan is removed in turn.
    """
    metadata = sa.MetaData()
    metadata.reflect(bind=bind, only=TABLES)
    for table in metadata.sorted_tables:
        for fk in table.foreign_key_constraints:
            (column,) = fk.columns
            (element,) = fk.elements
            parent = element.column
            missing = sa.and_(
                column.isnot(None),
                ~sa.exists().where(parent == column),
            )
            rule = (fk.ondelete or "").upper()
            if rule == "SET NULL" or (not rule and column.nullable):
                bind.execute(sa.update(table).where(missing).values({column.name: None}))
            else:
                bind.execute(sa.delete(table).where(missing))


def _seed_sequence(bind: sa.Connection, table: str) -> None:
    """Sets the table's AUTOINCREMENT counter to the largest id in use or referred to."""
    queries = [f'SELECT MAX(id) FROM "{table}"']
    queries += [
        f'SELECT MAX("{col}") FROM "{other}"' for other, col in SOFT_REFERENCES.get(table, ())
    ]
    seq = max((bind.exec_driver_sql(q).scalar() or 0) for q in queries)
    bind.exec_driver_sql("DELETE FROM sqlite_sequence WHERE name = ?", (table,))
    bind.exec_driver_sql("INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)", (table, seq))


def _check_foreign_keys(bind: sa.Connection) -> None:
    """Raises when a row refers to a missing parent after the rebuild (nothing is committed)."""
    problems = bind.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if problems:
        raise RuntimeError(f"foreign key violations after the rebuild: {problems[:5]}")
