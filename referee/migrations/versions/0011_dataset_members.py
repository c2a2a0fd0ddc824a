"""dataset membership: which datasets each reviewer's (and lead's) token may open

Revision ID: 0011
Revises: 0010

Before this revision every token opened every dataset. So that nobody loses work they were
doing, the upgrade grants:

* each reviewer (any role) every dataset in which they have answered at least one item (a
  completed review assignment, or a human label under their name);
* each lead every dataset that exists (the lead's page showed all of them before).

Later datasets are given with ``referee reviewers grant NAME --dataset D``.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ANSWERED = """
INSERT INTO dataset_members (reviewer_id, dataset_id, granted_at, granted_by)
SELECT DISTINCT r.id, p.dataset_id, CURRENT_TIMESTAMP, 'migration 0011'
FROM reviewers r JOIN pairs p ON (
    EXISTS (SELECT 1 FROM review_assignments a
            WHERE a.reviewer_id = r.id AND a.pair_id = p.id AND a.completed_at IS NOT NULL)
    OR EXISTS (SELECT 1 FROM human_labels h WHERE h.annotator = r.name AND h.pair_id = p.id)
)
"""

_LEADS = """
INSERT INTO dataset_members (reviewer_id, dataset_id, granted_at, granted_by)
SELECT r.id, d.id, CURRENT_TIMESTAMP, 'migration 0011'
FROM reviewers r CROSS JOIN datasets d
WHERE r.role = 'lead' AND NOT EXISTS (
    SELECT 1 FROM dataset_members m WHERE m.reviewer_id = r.id AND m.dataset_id = d.id
)
"""


def upgrade() -> None:
    op.create_table(
        "dataset_members",
        sa.Column("reviewer_id", sa.Integer, sa.ForeignKey("reviewers.id"), primary_key=True),
        sa.Column("dataset_id", sa.Integer, sa.ForeignKey("datasets.id"), primary_key=True),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("granted_by", sa.String(200), nullable=False),
    )
    op.execute(_ANSWERED)
    op.execute(_LEADS)


def downgrade() -> None:
    op.drop_table("dataset_members")
