"""Which pairs of a dataset carry gold labels (``referee prelabel --gold-only`` judges them)."""

from __future__ import annotations

from sqlalchemy import Engine

from referee.db.engine import transaction
from referee.db.routing import dataset_by_name, gold_pair_ids

__all__ = ["gold_pairs"]


def gold_pairs(engine: Engine, dataset: str) -> list[str]:
    """The ids of ``dataset``'s pairs with a gold label, sorted; the dataset must exist."""
    with transaction(engine) as session:
        return sorted(gold_pair_ids(session, dataset_by_name(session, dataset).id))
