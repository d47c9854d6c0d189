"""Comments on annotations, as Label Studio has them (``/api/comments``).

Revision ID: 0012_comments
Revises: 0011_ml_backends
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_comments"
down_revision: str | None = "0011_ml_backends"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Applies this revision."""
    op.create_table(
        "annotation_comments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("annotation_id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("is_resolved", sa.Boolean(), nullable=False),
        sa.Column("resolved_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["annotation_id"],
            ["annotations.id"],
            name=op.f("fk_annotation_comments_annotation_id_annotations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["tasks.id"],
            name=op.f("fk_annotation_comments_task_id_tasks"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_annotation_comments_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_annotation_comments_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_annotation_comments")),
        sqlite_autoincrement=True,
    )
    op.create_index(
        op.f("ix_annotation_comments_annotation_id"), "annotation_comments", ["annotation_id"]
    )
    op.create_index(
        op.f("ix_annotation_comments_project_id"), "annotation_comments", ["project_id"]
    )


def downgrade() -> None:
    """Reverts this revision."""
    op.drop_index(op.f("ix_annotation_comments_project_id"), table_name="annotation_comments")
    op.drop_index(op.f("ix_annotation_comments_annotation_id"), table_name="annotation_comments")
    op.drop_table("annotation_comments")
