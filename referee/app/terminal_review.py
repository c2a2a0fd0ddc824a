"""``referee review``: a reviewer works through a dataset's queue in the terminal.

The command is a conversation (lease, ask, answer, lease again), so it gets one object whose
every step is its own transaction, as the REST API gives each request its own: a person can take
minutes over an item, and no transaction stays open while they read. The rules are the review
service's (:mod:`referee.review.service`); this only scopes its calls.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from referee.db.engine import transaction
from referee.db.models import Reviewer
from referee.errors import UserError
from referee.review.config import QueueConfig
from referee.review.priority import Embedder
from referee.review.schema import Schema, load_schema
from referee.review.service import LabelSubmission, Lease, lease_next, release_item, submit_label
from referee.review.tokens import get_reviewer

__all__ = ["TerminalReview"]


@dataclass(frozen=True)
class TerminalReview:
    """``reviewer``'s work on ``dataset``'s queue; each method runs in one transaction."""

    engine: Engine
    dataset: str
    reviewer: Reviewer
    schema: Schema
    config: QueueConfig
    embedder: Embedder | None

    @classmethod
    def open(
        cls,
        engine: Engine,
        dataset: str,
        reviewer: str,
        config: QueueConfig,
        embedder: Embedder | None,
    ) -> TerminalReview:
        """Start ``reviewer``'s session on ``dataset``; :class:`UserError` when the reviewer is
        deactivated, the review service's errors for an unknown reviewer or dataset."""
        with transaction(engine) as session:
            who = get_reviewer(session, reviewer)
            if not who.active:
                raise UserError(f"reviewer {reviewer!r} is deactivated")
            schema = load_schema(session, dataset)
        return cls(engine, dataset, who, schema, config, embedder)

    def next(self) -> Lease | None:
        """Lease the reviewer's next item, or None when nothing is left for them."""
        with transaction(self.engine) as session:
            return lease_next(
                session, self.dataset, self.reviewer, self.config, embedder=self.embedder
            )

    def skip(self, pair_id: str) -> None:
        """Give the leased item back (the reviewer is not offered it again)."""
        with transaction(self.engine) as session:
            release_item(session, pair_id, self.reviewer)

    def answer(self, pair_id: str, submission: LabelSubmission) -> None:
        """Store the reviewer's answer to the leased item (the pause rule applies)."""
        with transaction(self.engine) as session:
            submit_label(
                session, pair_id, self.reviewer, submission, pause_rule=self.config.pause_rule
            )
