"""reviewer role: 'reviewer' (labels items) or 'lead' (also opens the lead's page)

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # plain ADD COLUMN: no batch table copy of ``reviewers``, which foreign keys point at
    op.add_column(
        "reviewers", sa.Column("role", sa.String(16), nullable=False, server_default="reviewer")
    )


def downgrade() -> None:
    op.drop_column("reviewers", "role")
