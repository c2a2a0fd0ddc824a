"""review queue items: cached active-learning priority and k per routed pair

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "review_queue_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("decision_id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("pair_id", sa.String(length=200), nullable=False),
        sa.Column("queue", sa.String(length=16), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("uncertainty", sa.Float(), nullable=False),
        sa.Column("required_labels", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["dataset_id"], ["datasets.id"]),
        sa.ForeignKeyConstraint(["decision_id"], ["routing_decisions.id"]),
        sa.ForeignKeyConstraint(["pair_id"], ["pairs.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("decision_id"),
    )
    with op.batch_alter_table("review_queue_items", schema=None) as batch_op:
        batch_op.create_index(
            "ix_review_queue_items_dataset_rank", ["dataset_id", "rank"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_review_queue_items_pair_id"), ["pair_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("review_queue_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_review_queue_items_pair_id"))
        batch_op.drop_index("ix_review_queue_items_dataset_rank")
    op.drop_table("review_queue_items")
