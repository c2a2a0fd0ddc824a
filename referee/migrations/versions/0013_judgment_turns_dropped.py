"""judgments.turns_dropped: earlier turns of a conversation left out to fit the judge's context

Revision ID: 0013
Revises: 0012

A conversation longer than the judge's context budget is judged without its oldest turns
(:mod:`judge.conversation_prompt`); the verdict records how many. NULL for single-turn prompts,
replayed verdicts and every existing row.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # plain ADD COLUMN (nullable, no default): in place on SQLite and PostgreSQL
    op.add_column("judgments", sa.Column("turns_dropped", sa.Integer(), nullable=True))


def downgrade() -> None:
    op.drop_column("judgments", "turns_dropped")  # SQLite 3.35+ drops a plain column in place
