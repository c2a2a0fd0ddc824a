"""review schema (scale, dimensions, rationale rule, guidelines per dataset), the schema's fields
on each label, and what each review assignment showed of the AI pre-label

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # plain ADD COLUMN / CREATE TABLE: a batch copy of ``human_labels`` or
    # ``review_assignments`` on SQLite would break the foreign keys of other tables
    op.create_table(
        "review_configs",
        sa.Column("dataset_id", sa.Integer(), sa.ForeignKey("datasets.id"), primary_key=True),
        sa.Column("scale", sa.Integer(), nullable=False, server_default="3"),
        sa.Column("dimensions", sa.JSON(), nullable=False),
        sa.Column("require_rationale", sa.String(length=16), nullable=False),
        sa.Column("guidelines", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.add_column("human_labels", sa.Column("strength", sa.String(length=8), nullable=True))
    op.add_column("human_labels", sa.Column("ratings", sa.JSON(), nullable=True))
    op.add_column("human_labels", sa.Column("rubric_version", sa.String(length=64), nullable=True))
    op.add_column("review_assignments", sa.Column("ai_label", sa.String(length=16), nullable=True))
    op.add_column("review_assignments", sa.Column("ai_shown", sa.String(length=16), nullable=True))
    op.add_column(
        "review_assignments",
        sa.Column("trap", sa.Boolean(), nullable=False, server_default=sa.text("false")),
    )


def downgrade() -> None:
    for name in ("trap", "ai_shown", "ai_label"):
        op.drop_column("review_assignments", name)
    for name in ("rubric_version", "ratings", "strength"):
        op.drop_column("human_labels", name)
    op.drop_table("review_configs")
