"""Storage ingest: the task each row of a storage object became (re-sync updates in place).

Revision ID: 0006_imported_rows
Revises: 0005_task_workflow
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_imported_rows"
down_revision: str | None = "0005_task_workflow"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Applies this revision."""
    op.create_table(
        "imported_rows",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=1024), nullable=False),
        sa.Column("row", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_imported_rows_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["tasks.id"],
            name=op.f("fk_imported_rows_task_id_tasks"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_imported_rows")),
        sa.UniqueConstraint("project_id", "key", "row", name=op.f("uq_imported_rows_project_id")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_imported_rows_task_id"), "imported_rows", ["task_id"])


def downgrade() -> None:
    """Reverts this revision."""
    op.drop_index(op.f("ix_imported_rows_task_id"), table_name="imported_rows")
    op.drop_table("imported_rows")
