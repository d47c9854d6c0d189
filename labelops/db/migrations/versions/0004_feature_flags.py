"""Feature flags: stored defaults and rollout percentages, and per-user / per-project overrides.

Revision ID: 0004_feature_flags
Revises: 0003_session_version
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_feature_flags"
down_revision: str | None = "0003_session_version"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Applies this revision: creates ``feature_flags`` and ``feature_flag_overrides``."""
    op.create_table(
        "feature_flags",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("default_enabled", sa.Boolean(), nullable=False),
        sa.Column("rollout_percent", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "rollout_percent IS NULL OR (rollout_percent >= 0 AND rollout_percent <= 100)",
            name=op.f("ck_feature_flags_rollout_range"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feature_flags")),
        sa.UniqueConstraint("key", name=op.f("uq_feature_flags_key")),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "feature_flag_overrides",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("flag_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("project_id", sa.Integer(), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "(user_id IS NULL) <> (project_id IS NULL)",
            name=op.f("ck_feature_flag_overrides_one_target"),
        ),
        sa.ForeignKeyConstraint(
            ["flag_id"],
            ["feature_flags.id"],
            name=op.f("fk_feature_flag_overrides_flag_id_feature_flags"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_feature_flag_overrides_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_feature_flag_overrides_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feature_flag_overrides")),
        sa.UniqueConstraint(
            "flag_id", "project_id", name=op.f("uq_feature_flag_overrides_flag_project")
        ),
        sa.UniqueConstraint("flag_id", "user_id", name=op.f("uq_feature_flag_overrides_flag_user")),
        sqlite_autoincrement=True,
    )
    for column in ("flag_id", "project_id", "user_id"):
        op.create_index(
            op.f(f"ix_feature_flag_overrides_{column}"), "feature_flag_overrides", [column]
        )


def downgrade() -> None:
    """Reverts this revision: drops both tables (their rows are lost)."""
    for column in ("flag_id", "project_id", "user_id"):
        op.drop_index(op.f(f"ix_feature_flag_overrides_{column}"), "feature_flag_overrides")
    op.drop_table("feature_flag_overrides")
    op.drop_table("feature_flags")
