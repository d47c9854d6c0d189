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

# Plain ADD/DROP COLUMN, not batch mode: a batch rebuild on SQLite would reset sqlite_sequence to
# MAX(id) and so hand out again the ids of rows deleted earlier.


def upgrade() -> None:
    """Applies this revision."""
    op.add_column(
        "users",
        sa.Column("can_create_projects", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column(
        "users",
        sa.Column("session_version", sa.Integer(), nullable=False, server_default=sa.text("0")),
    )
    op.add_column(
        "projects",
        sa.Column(
            "show_annotations_to_annotators",
            sa.Boolean(),
            nullable=False,
            server_default=sa.false(),
        ),
    )


def downgrade() -> None:
    """Reverts this revision."""
    op.drop_column("projects", "show_annotations_to_annotators")
    op.drop_column("users", "session_version")
    op.drop_column("users", "can_create_projects")
