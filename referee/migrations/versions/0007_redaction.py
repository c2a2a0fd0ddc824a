"""redaction: dataset settings (required, patterns, pseudonym state) and each pair's version

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # plain ADD COLUMN (no batch table copy): copying ``datasets`` or ``pairs`` on SQLite would
    # break the foreign keys that point at them
    op.add_column(
        "datasets",
        sa.Column(
            "redaction_required", sa.Boolean(), nullable=False, server_default=sa.text("false")
        ),
    )
    op.add_column("datasets", sa.Column("redaction_patterns", sa.JSON(), nullable=True))
    op.add_column("datasets", sa.Column("redaction_state", sa.JSON(), nullable=True))
    op.add_column("pairs", sa.Column("redaction_version", sa.String(length=64), nullable=True))


def downgrade() -> None:
    op.drop_column("pairs", "redaction_version")
    for name in ("redaction_state", "redaction_patterns", "redaction_required"):
        op.drop_column("datasets", name)
