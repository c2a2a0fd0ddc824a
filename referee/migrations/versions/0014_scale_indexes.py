"""indexes for paging a dataset's pairs by id (issue 24)

Revision ID: 0014
Revises: 0013

``ix_pairs_dataset_id_id`` on ``pairs (dataset_id, id)``: every command that streams a
dataset (route, calibrate, labels final, release, export) pages through its pairs with
``WHERE dataset_id = ? AND id > ? ORDER BY id LIMIT n``. With only ``ix_pairs_dataset_id`` each
page read every pair of the dataset and sorted them (quadratic over a run); with the composite
index a page is one index range scan, already in order. ``tests/storage/test_query_plans.py``
checks the plans on SQLite and PostgreSQL.

(0013 is another branch's revision: the chain is set at merge.)
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_pairs_dataset_id_id", "pairs", ["dataset_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_pairs_dataset_id_id", table_name="pairs")
