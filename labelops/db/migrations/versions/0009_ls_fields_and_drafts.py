"""Label Studio's project and storage settings that labelops keeps but does not model, and drafts.

``projects.ls_settings`` and ``storage_connections.ls_settings`` hold the Label Studio fields a
client sets and reads back (``is_published``, ``pinned_at``, a storage's ``title`` ...) as one JSON
object; ``annotation_drafts`` holds each user's unfinished work on a task (Label Studio's drafts).
Plain ``ADD COLUMN`` and a new table, so SQLite keeps every table's AUTOINCREMENT.

Revision ID: 0009_ls_fields_and_drafts
Revises: 0008_storage_direction
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0009_ls_fields_and_drafts"
down_revision: str | None = "0008_storage_direction"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    """Applies this revision."""
    op.add_column("projects", sa.Column("ls_settings", _JSON, nullable=True))
    op.add_column("storage_connections", sa.Column("ls_settings", _JSON, nullable=True))
    op.create_table(
        "annotation_drafts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("annotation_id", sa.Integer(), nullable=True),
        sa.Column("result", _JSON, nullable=False),
        sa.Column("lead_time", sa.Double(), nullable=True),
        sa.Column("was_postponed", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["tasks.id"],
            name=op.f("fk_annotation_drafts_task_id_tasks"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_annotation_drafts_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_annotation_drafts_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["annotation_id"],
            ["annotations.id"],
            name=op.f("fk_annotation_drafts_annotation_id_annotations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_annotation_drafts")),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_annotation_drafts_task_user", "annotation_drafts", ["task_id", "user_id"])
    op.create_index(op.f("ix_annotation_drafts_project_id"), "annotation_drafts", ["project_id"])


def downgrade() -> None:
    """Reverts this revision."""
    op.drop_index(op.f("ix_annotation_drafts_project_id"), table_name="annotation_drafts")
    op.drop_index("ix_annotation_drafts_task_user", table_name="annotation_drafts")
    op.drop_table("annotation_drafts")
    op.drop_column("storage_connections", "ls_settings")
    op.drop_column("projects", "ls_settings")
