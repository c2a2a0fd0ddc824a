"""reviewer pause: a paused reviewer is served no new items until a lead unpauses them

Revision ID: 0005
Revises: 0003
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # plain ADD COLUMN (no batch table copy): SQLite adds a NOT NULL column with a constant
    # default in place, and copying ``reviewers`` would break the foreign keys pointing at it
    op.add_column(
        "reviewers",
        sa.Column("paused", sa.Boolean(), nullable=False, server_default=sa.text("false")),
    )
    op.add_column("reviewers", sa.Column("paused_reason", sa.Text(), nullable=True))
    op.add_column("reviewers", sa.Column("paused_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("reviewers", sa.Column("unpaused_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    # plain DROP COLUMN (SQLite 3.35+, PostgreSQL), for the same reason as above
    for name in ("unpaused_at", "paused_at", "paused_reason", "paused"):
        op.drop_column("reviewers", name)
