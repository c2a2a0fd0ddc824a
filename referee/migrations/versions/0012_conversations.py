"""conversations and k-wise responses: pairs.messages, pairs.group_id, response refs

Revision ID: 0012
Revises: 0011

A pair's prompt may be a conversation (``messages``: the turns before the two replies, JSON;
``prompt`` keeps their flat rendering). Pairs made from one k-wise record share ``group_id``;
``response_a_ref`` / ``response_b_ref`` say which of the record's responses they compare. Every
existing pair is single-turn and stands alone: all four are NULL.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # plain ADD COLUMN (nullable, no default): SQLite does it in place, where a batch copy of
    # ``pairs`` would trip the foreign keys that point at it
    op.add_column("pairs", sa.Column("messages", sa.JSON(), nullable=True))
    op.add_column("pairs", sa.Column("group_id", sa.String(length=200), nullable=True))
    op.add_column("pairs", sa.Column("response_a_ref", sa.String(length=200), nullable=True))
    op.add_column("pairs", sa.Column("response_b_ref", sa.String(length=200), nullable=True))
    op.create_index("ix_pairs_group_id", "pairs", ["group_id"])


def downgrade() -> None:
    op.drop_index("ix_pairs_group_id", table_name="pairs")
    for column in ("response_b_ref", "response_a_ref", "group_id", "messages"):
        op.drop_column("pairs", column)  # SQLite 3.35+ drops a plain column in place
