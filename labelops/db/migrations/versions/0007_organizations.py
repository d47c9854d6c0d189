"""Organizations: the tenant every user, project and token belongs to.

Creates ``organizations`` and ``organization_members``, gives users an active organization and
projects a required ``organization_id``. Every existing user and project goes into one
organization named "Default" (administrators become its admins), so an upgraded instance keeps
working as before.

SQLite cannot add a NOT NULL column with a foreign key to a table that has rows, nor drop a
column that has one: ``projects`` is rebuilt once for that, with foreign keys off and its
AUTOINCREMENT counter saved before and restored after, so no deleted project's id is handed out
again (a plain rebuild would reset ``sqlite_sequence`` to the largest id in use). The other
changes are plain ADD/DROP COLUMN and CREATE TABLE.

Revision ID: 0007_organizations
Revises: 0006_imported_rows
Create Date: 2026-11-28
"""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op

revision: str = "0007_organizations"
down_revision: str | None = "0006_imported_rows"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEFAULT_TITLE = "Default"
FK_NAME = "fk_projects_organization_id_organizations"
INDEX_NAME = "ix_projects_organization_id"


def upgrade() -> None:
    """Applies this revision."""
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    if sqlite:
        _foreign_keys_off(bind)
    op.create_table(
        "organizations",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "organization_members",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "organization_id",
            sa.Integer(),
            sa.ForeignKey("organizations.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("organization_id", "user_id"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_organization_members_user_id", "organization_members", ["user_id"])
    op.add_column("users", sa.Column("active_organization_id", sa.Integer(), nullable=True))
    op.add_column("projects", sa.Column("organization_id", sa.Integer(), nullable=True))

    org_id = bind.execute(
        sa.text(
            "INSERT INTO organizations (title, created_at) VALUES (:title, CURRENT_TIMESTAMP) "
            "RETURNING id"
        ),
        {"title": DEFAULT_TITLE},
    ).scalar_one()
    bind.execute(
        sa.text(
            "INSERT INTO organization_members (organization_id, user_id, role, created_at) "
            "SELECT :org, id, CASE WHEN is_admin THEN 'admin' ELSE 'member' END, "
            "CURRENT_TIMESTAMP FROM users WHERE NOT is_imported ORDER BY id"
        ),
        {"org": org_id},
    )
    bind.execute(
        sa.text("UPDATE users SET active_organization_id = :org WHERE NOT is_imported"),
        {"org": org_id},
    )
    bind.execute(sa.text("UPDATE projects SET organization_id = :org"), {"org": org_id})

    if sqlite:
        with _keeping_sequence(bind, "projects"):
            with op.batch_alter_table(
                "projects", recreate="always", table_kwargs={"sqlite_autoincrement": True}
            ) as batch:
                batch.alter_column("organization_id", existing_type=sa.Integer(), nullable=False)
                batch.create_foreign_key(
                    FK_NAME, "organizations", ["organization_id"], ["id"], ondelete="CASCADE"
                )
        _check_foreign_keys(bind)
    else:
        op.alter_column("projects", "organization_id", nullable=False)
        op.create_foreign_key(
            FK_NAME, "projects", "organizations", ["organization_id"], ["id"], ondelete="CASCADE"
        )
    op.create_index(INDEX_NAME, "projects", ["organization_id"])


def downgrade() -> None:
    """Reverts this revision (every project stays; the organizations are dropped)."""
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    if sqlite:
        _foreign_keys_off(bind)
    op.drop_index(INDEX_NAME, table_name="projects")
    if sqlite:
        with _keeping_sequence(bind, "projects"):
            with op.batch_alter_table(
                "projects", recreate="always", table_kwargs={"sqlite_autoincrement": True}
            ) as batch:
                batch.drop_constraint(FK_NAME, type_="foreignkey")
                batch.drop_column("organization_id")
        _check_foreign_keys(bind)
    else:
        op.drop_constraint(FK_NAME, "projects", type_="foreignkey")
        op.drop_column("projects", "organization_id")
    op.drop_column("users", "active_organization_id")
    op.drop_index("ix_organization_members_user_id", table_name="organization_members")
    op.drop_table("organization_members")
    op.drop_table("organizations")


def _foreign_keys_off(bind: sa.Connection) -> None:
    """Turns foreign keys off, or raises: dropping ``projects`` would cascade to its tasks."""
    bind.exec_driver_sql("PRAGMA foreign_keys=OFF")
    if bind.exec_driver_sql("PRAGMA foreign_keys").scalar():
        raise RuntimeError(
            "cannot rebuild the projects table: PRAGMA foreign_keys could not be turned off "
            "(a transaction was already open; run each migration in its own transaction)"
        )


@contextmanager
def _keeping_sequence(bind: sa.Connection, table: str) -> Iterator[None]:
    """Saves the table's AUTOINCREMENT counter, runs the block, and puts the counter back."""
    seq = (
        bind.exec_driver_sql("SELECT seq FROM sqlite_sequence WHERE name = ?", (table,)).scalar()
        or 0
    )
    yield
    bind.exec_driver_sql("DELETE FROM sqlite_sequence WHERE name = ?", (table,))
    bind.exec_driver_sql("INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)", (table, seq))


def _check_foreign_keys(bind: sa.Connection) -> None:
    """Raises when a row refers to a missing parent after the rebuild (nothing is committed)."""
    problems = bind.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if problems:
        raise RuntimeError(f"foreign key violations after the rebuild: {problems[:5]}")
