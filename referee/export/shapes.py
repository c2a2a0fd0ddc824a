"""What shape a dataset's prompts have, for the exports that lay out a chat (issue 22)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from referee.db.models import Pair

__all__ = ["has_conversations"]


def has_conversations(session: Session, dataset_id: int) -> bool:
    """Whether any pair of the dataset has a conversation prompt (``pairs.messages``).

    A JSON column may hold JSON ``null`` as well as SQL NULL for a single-turn pair, so the
    values are looked at, not only the SQL test; the scan stops at the first conversation.
    """
    found = session.scalars(
        select(Pair.messages)
        .where(Pair.dataset_id == dataset_id, Pair.messages.is_not(None))
        .execution_options(yield_per=1_000)
    )
    return any(messages is not None for messages in found)
