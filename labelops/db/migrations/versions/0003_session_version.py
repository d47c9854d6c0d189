"""Accounts: session versions, the project-creation grant and blind labeling.

Revision ID: 0003_session_version
Revises: 0002_sqlite_autoincrement
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_session_version"
down_revision: str | None = "0002_sqlite_autoincrement"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Applies this revision."""
    with op.batch_alter_table("users") as batch:
        batch.add_column(
            sa.Column(
                "can_create_projects", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
        batch.add_column(
            sa.Column("session_version", sa.Integer(), nullable=False, server_default="0")
        )
    with op.batch_alter_table("projects") as batch:
        batch.add_column(
            sa.Column(
                "show_annotations_to_annotators",
                sa.Boolean(),
                nullable=False,
                server_default=sa.false(),
            )
        )


# Dropping a column rebuilds the table on SQLite; the rebuilt table keeps AUTOINCREMENT.
_KEEP_IDS = {"sqlite_autoincrement": True}


def downgrade() -> None:
    """Reverts this revision."""
    with op.batch_alter_table("projects", table_kwargs=_KEEP_IDS) as batch:
        batch.drop_column("show_annotations_to_annotators")
    with op.batch_alter_table("users", table_kwargs=_KEEP_IDS) as batch:
        batch.drop_column("session_version")
        batch.drop_column("can_create_projects")
