"""review queue generations and open items: /v1/next without a scan per request (issue 24)

Revision ID: 0015
Revises: 0014

* ``datasets.queue_generation``: a counter bumped (at commit) by every write that changes what
  a dataset's review queue holds: routing decisions written or changed, gold labels added or
  removed (:mod:`referee.db.queue_generation`).
* ``review_queue_states``: one row per dataset whose queue was built, with the generation it
  was built from. The queue is stale when the two differ: one primary-key read per request
  instead of two ``EXISTS`` over the dataset's decisions and items.
* ``review_queue_items.full``: the item has all its k answers (kept by ``submit_label``, undo
  and the rebuild), with the index ``ix_review_queue_items_open`` on ``(dataset_id, full,
  rank)``: a lease reads the open items in rank order and never walks past answered ones.

Existing queues have no state row, so each is rebuilt once (and ``full`` computed) on the
first lease or at ``referee serve`` start-up.

(Other branches may add revisions after 0014: the chain is set at merge.)
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "datasets",
        sa.Column("queue_generation", sa.Integer, nullable=False, server_default="0"),
    )
    op.create_table(
        "review_queue_states",
        sa.Column("dataset_id", sa.Integer, sa.ForeignKey("datasets.id"), primary_key=True),
        sa.Column("built_generation", sa.Integer, nullable=False),
        sa.Column("items", sa.Integer, nullable=False),
        sa.Column("labels_needed", sa.Integer, nullable=False),
        sa.Column("built_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.add_column(
        "review_queue_items",
        sa.Column("full", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.create_index(
        "ix_review_queue_items_open", "review_queue_items", ["dataset_id", "full", "rank"]
    )


def downgrade() -> None:
    # plain ALTER TABLE … DROP COLUMN (SQLite 3.35+): a batch copy of ``datasets`` would drop
    # a table other tables' foreign keys point at
    op.drop_index("ix_review_queue_items_open", table_name="review_queue_items")
    op.drop_column("review_queue_items", "full")
    op.drop_table("review_queue_states")
    op.drop_column("datasets", "queue_generation")
