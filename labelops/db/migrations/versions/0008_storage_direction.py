"""Storage connections get a direction: "import" (source files) or "export" (target storage).

Existing connections are import connections (``server_default``). A plain ``ADD COLUMN``, which
SQLite applies without rebuilding the table, so ``storage_connections`` keeps its AUTOINCREMENT.

Revision ID: 0008_storage_direction
Revises: 0007_organizations
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_storage_direction"
down_revision: str | None = "0007_organizations"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Applies this revision."""
    op.add_column(
        "storage_connections",
        sa.Column("direction", sa.String(10), nullable=False, server_default="import"),
    )


def downgrade() -> None:
    """Reverts this revision."""
    op.drop_column("storage_connections", "direction")
