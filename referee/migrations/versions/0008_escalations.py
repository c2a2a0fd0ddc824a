"""escalations (spot-check adjudication, incidents) and reviewers' unsafe flag on a label

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # plain ADD COLUMN / CREATE TABLE: no batch table copy of ``human_labels`` (SQLite would
    # break the foreign keys of other tables while copying)
    op.add_column(
        "human_labels",
        sa.Column("unsafe", sa.Boolean(), nullable=False, server_default=sa.text("false")),
    )
    op.create_table(
        "escalations",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("dataset_id", sa.Integer(), sa.ForeignKey("datasets.id"), nullable=False),
        sa.Column("pair_id", sa.String(length=200), sa.ForeignKey("pairs.id"), nullable=False),
        sa.Column("queue", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False, server_default="open"),
        sa.Column("routing_reasons", sa.JSON(), nullable=False),
        sa.Column("human_reasons", sa.JSON(), nullable=False),
        sa.Column("flagged_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_by", sa.String(length=200), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolution", sa.String(length=16), nullable=True),
        sa.UniqueConstraint("pair_id", "queue", name="uq_escalation"),
    )
    op.create_index("ix_escalations_dataset_id", "escalations", ["dataset_id"])
    op.create_index("ix_escalations_pair_id", "escalations", ["pair_id"])


def downgrade() -> None:
    op.drop_index("ix_escalations_pair_id", table_name="escalations")
    op.drop_index("ix_escalations_dataset_id", table_name="escalations")
    op.drop_table("escalations")
    op.drop_column("human_labels", "unsafe")
