"""Projects keep their task workflow: a nullable JSON column ``projects.workflow``.

NULL means the built-in state machine. The column is added with a plain ``ADD COLUMN``, which
SQLite applies without rebuilding the table, so ``projects`` keeps its AUTOINCREMENT; the
downgrade drops it again (SQLite 3.35+ drops a column in place, also without a rebuild).

Revision ID: 0005_task_workflow
Revises: 0004_feature_flags
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005_task_workflow"
down_revision: str | None = "0004_feature_flags"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Applies this revision: adds ``projects.workflow`` (JSON, NULL for the built-in one)."""
    op.add_column(
        "projects",
        sa.Column(
            "workflow",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
    )


def downgrade() -> None:
    """Reverts this revision: drops ``projects.workflow`` (projects return to the built-in one)."""
    op.drop_column("projects", "workflow")
