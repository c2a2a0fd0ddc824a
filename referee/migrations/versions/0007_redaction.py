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
    with op.batch_alter_table("datasets", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "redaction_required", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
        batch_op.add_column(sa.Column("redaction_patterns", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("redaction_state", sa.JSON(), nullable=True))
    with op.batch_alter_table("pairs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("redaction_version", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("pairs", schema=None) as batch_op:
        batch_op.drop_column("redaction_version")
    with op.batch_alter_table("datasets", schema=None) as batch_op:
        batch_op.drop_column("redaction_state")
        batch_op.drop_column("redaction_patterns")
        batch_op.drop_column("redaction_required")
