"""Build a dataset's review queue from its current routing decisions, ranks cached in the DB.

One :class:`~referee.db.models.ReviewQueueItem` per current ``human_review`` / ``spot_check``
decision of a pair without a ``gold`` label: a pair whose answer is known is never a paid
review item (it may still be served as a hidden gold check, see
:mod:`referee.review.service`). The queue is rebuilt (all ranks recomputed) only when the set
of current decisions changed, i.e. after ``referee route``, or a queued pair gained a gold
label; checking that is one query, so :func:`ensure_queue` is cheap to call before every
lease."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, case, delete, exists, or_, select
from sqlalchemy.orm import Session

from referee.db.datasets import find_dataset
from referee.db.models import HumanLabel, Pair, ReviewQueueItem, RoutingDecision
from referee.review.config import DECISION_QUEUE, QueueConfig
from referee.review.priority import (
    Embedder,
    SelectFn,
    hybrid_select,
    item_text,
    priority_order,
    uncertainty_of,
)

get_dataset = find_dataset  # the one lookup (referee.db.datasets); NotFound for the API


def has_gold(pair_column: Any) -> Any:
    """SQL: the pair has a ``gold`` label (its answer is known)."""
    return exists().where(HumanLabel.pair_id == pair_column, HumanLabel.kind == "gold")


def _current_queue_decisions(dataset_id: int) -> Select[RoutingDecision, Pair]:
    return (
        select(RoutingDecision, Pair)
        .join(Pair, Pair.id == RoutingDecision.pair_id)
        .where(
            Pair.dataset_id == dataset_id,
            RoutingDecision.current.is_(True),
            RoutingDecision.decision.in_(tuple(DECISION_QUEUE)),
            ~has_gold(Pair.id),
        )
    )


def _queue_to_decision_case() -> Any:
    """SQL: the routing decision that puts an item in its queue."""
    return case(
        *((ReviewQueueItem.queue == q, d) for d, q in DECISION_QUEUE.items()),
        else_="",
    )


def queue_is_stale(session: Session, dataset_id: int) -> bool:
    """True when a current queue decision of a pair without gold has no queue item, or an
    item's decision is no longer current or no longer sends the pair to that queue (re-routed
    in place), or its pair has gained a gold label."""
    missing = session.scalar(
        select(
            exists()
            .where(
                RoutingDecision.pair_id == Pair.id,
                Pair.dataset_id == dataset_id,
                RoutingDecision.current.is_(True),
                RoutingDecision.decision.in_(tuple(DECISION_QUEUE)),
                ~has_gold(Pair.id),
            )
            .where(~exists().where(ReviewQueueItem.decision_id == RoutingDecision.id))
        )
    )
    if missing:
        return True
    outdated = session.scalar(
        select(
            exists().where(
                ReviewQueueItem.dataset_id == dataset_id,
                ReviewQueueItem.decision_id == RoutingDecision.id,
                or_(
                    RoutingDecision.current.is_(False),
                    RoutingDecision.decision != _queue_to_decision_case(),
                    has_gold(ReviewQueueItem.pair_id),
                ),
            )
        )
    )
    return bool(outdated)


def rebuild_queue(
    session: Session,
    dataset_id: int,
    config: QueueConfig,
    *,
    embedder: Embedder | None = None,
    select_fn: SelectFn = hybrid_select,
) -> int:
    """Replace the dataset's queue items with fresh ranks; returns the number of items."""
    rows = session.execute(
        _current_queue_decisions(dataset_id).order_by(RoutingDecision.pair_id)
    ).all()
    texts = [item_text(p.prompt, p.response_a, p.response_b) for _, p in rows]
    unc = [uncertainty_of(d.confidence) for d, _ in rows]
    order = priority_order(
        texts,
        unc,
        embedder=embedder,
        weight=config.weight,
        budget=config.hybrid_budget,
        select=select_fn,
    )
    session.execute(delete(ReviewQueueItem).where(ReviewQueueItem.dataset_id == dataset_id))
    for rank, index in enumerate(order):
        decision, pair = rows[index]
        queue = DECISION_QUEUE[decision.decision]
        session.add(
            ReviewQueueItem(
                decision_id=decision.id,
                dataset_id=dataset_id,
                pair_id=pair.id,
                queue=queue,
                rank=rank,
                uncertainty=unc[index],
                required_labels=config.k_for(queue),
            )
        )
    session.flush()
    return len(order)


def ensure_queue(
    session: Session,
    dataset_id: int,
    config: QueueConfig,
    *,
    embedder: Embedder | None = None,
    select_fn: SelectFn = hybrid_select,
) -> bool:
    """Rebuild the queue when routing changed since it was built; True when it rebuilt."""
    if not queue_is_stale(session, dataset_id):
        return False
    rebuild_queue(session, dataset_id, config, embedder=embedder, select_fn=select_fn)
    return True


__all__ = ["ensure_queue", "get_dataset", "has_gold", "queue_is_stale", "rebuild_queue"]
