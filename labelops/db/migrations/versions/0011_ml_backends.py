"""ML backends connected per project, as Label Studio connects them (``/api/ml``).

Revision ID: 0011_ml_backends
Revises: 0010_webhooks_jobs
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_ml_backends"
down_revision: str | None = "0010_webhooks_jobs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Applies this revision."""
    op.create_table(
        "ml_backends",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("is_interactive", sa.Boolean(), nullable=False),
        sa.Column("auth_method", sa.String(length=20), nullable=False),
        sa.Column("basic_auth_user", sa.String(length=255), nullable=False),
        sa.Column("basic_auth_pass_encrypted", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("error_message", sa.Text(), nullable=False),
        sa.Column("model_version", sa.String(length=255), nullable=False),
        sa.Column("timeout", sa.Double(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_ml_backends_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ml_backends")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_ml_backends_project_id"), "ml_backends", ["project_id"])


def downgrade() -> None:
    """Reverts this revision."""
    op.drop_index(op.f("ix_ml_backends_project_id"), table_name="ml_backends")
    op.drop_table("ml_backends")
