"""Build a dataset's review queue from its current routing decisions, ranks cached in the DB.

One :class:`~referee.db.models.ReviewQueueItem` per current ``human_review`` / ``spot_check``
decision of a pair without a ``gold`` label: a pair whose answer is known is never a paid
review item (it may still be served as a hidden gold check, see
:mod:`referee.review.service`). The queue is rebuilt (all ranks recomputed) only when the set
of current decisions may have changed, i.e. after ``referee route``, or a pair gained or lost a
gold label: those writes bump the dataset's ``queue_generation``
(:mod:`referee.db.queue_generation`) and the build records the generation it was made from
(``review_queue_states``), so :func:`ensure_queue` is one primary-key read before every lease.

Each item's ``full`` flag says that all its k answers are in (kept by :func:`refresh_full` on
every answer and undo, and set for the whole queue at a build): a lease reads open items only,
by the index on ``(dataset_id, full, rank)``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, delete, exists, func, insert, select, update
from sqlalchemy.orm import Session

from referee.db.datasets import find_dataset
from referee.db.models import (
    Dataset,
    HumanLabel,
    Pair,
    ReviewAssignment,
    ReviewQueueItem,
    ReviewQueueState,
    RoutingDecision,
)
from referee.db.queue_generation import apply_marks
from referee.review.config import DECISION_QUEUE, QueueConfig
from referee.review.priority import (
    Embedder,
    SelectFn,
    hybrid_select,
    item_text,
    priority_order,
    uncertainty_of,
)

_INSERT_ROWS = 1000  # queue items per INSERT statement

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


def _generations(session: Session, dataset_id: int) -> tuple[int, int | None]:
    """(the dataset's queue generation, the generation its queue was built from or None)."""
    row = session.execute(
        select(Dataset.queue_generation, ReviewQueueState.built_generation)
        .outerjoin(ReviewQueueState, ReviewQueueState.dataset_id == Dataset.id)
        .where(Dataset.id == dataset_id)
    ).one()
    return int(row[0]), None if row[1] is None else int(row[1])


def queue_is_stale(session: Session, dataset_id: int) -> bool:
    """True when the queue was never built, or something that changes what it holds (routing
    decisions, gold labels: :mod:`referee.db.queue_generation`) was written since it was built.

    Changes marked earlier in this transaction are applied first (their generation bump); then
    it is one primary-key read, whatever the size of the dataset."""
    apply_marks(session)
    generation, built = _generations(session, dataset_id)
    return built != generation


def _answered(pair: Any, queue: Any) -> Select[int]:
    """SQL: the count of answered assignments of ``pair`` in ``queue`` (columns or values)."""
    a = ReviewAssignment
    return (
        select(func.count())
        .select_from(a)
        .where(a.pair_id == pair, a.queue == queue, a.completed_at.is_not(None))
    )


def done_count(pair_column: Any, queue_column: Any) -> Any:
    """SQL: answered assignments of a pair in a queue (a scalar subquery per item)."""
    return _answered(pair_column, queue_column).scalar_subquery()


def refresh_full(session: Session, pair_id: str, queue: str) -> None:
    """Recompute ``full`` (all k answers in) of the pair's item in ``queue`` after an answer
    arrived or was undone (no item: a gold check or an escalation, nothing to do).

    The item's row is locked first and the answers counted by a later statement: two
    reviewers giving the last two answers at once would otherwise each count only their own
    (PostgreSQL: a statement's snapshot predates the lock wait) and leave it open."""
    if queue not in DECISION_QUEUE.values():
        return
    q = ReviewQueueItem
    ids = list(
        session.scalars(
            select(q.id).where(q.pair_id == pair_id, q.queue == queue).with_for_update()
        )
    )
    if not ids:
        return
    done = session.scalar(_answered(pair_id, queue))
    session.execute(
        update(q)
        .where(q.id.in_(ids))
        .values(full=int(done or 0) >= q.required_labels)
        .execution_options(synchronize_session=False)
    )


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
    items: list[dict[str, Any]] = []
    needed = 0
    for rank, index in enumerate(order):
        decision, pair = rows[index]
        queue = DECISION_QUEUE[decision.decision]
        needed += config.k_for(queue)
        items.append(
            {
                "decision_id": decision.id,
                "dataset_id": dataset_id,
                "pair_id": pair.id,
                "queue": queue,
                "rank": rank,
                "uncertainty": unc[index],
                "required_labels": config.k_for(queue),
            }
        )
    for start in range(0, len(items), _INSERT_ROWS):
        session.execute(insert(ReviewQueueItem), items[start : start + _INSERT_ROWS])
    q = ReviewQueueItem
    session.execute(  # answers given before this build (a re-route keeps them)
        update(q)
        .where(q.dataset_id == dataset_id)
        .values(full=done_count(q.pair_id, q.queue) >= q.required_labels)
        .execution_options(synchronize_session=False)
    )
    _record_build(session, dataset_id, len(items), needed)
    return len(order)


def _record_build(session: Session, dataset_id: int, items: int, labels: int) -> None:
    """Store that the queue now matches the dataset's current generation."""
    generation, _ = _generations(session, dataset_id)
    state = session.get(ReviewQueueState, dataset_id, populate_existing=True)
    if state is None:
        state = ReviewQueueState(dataset_id=dataset_id)
        session.add(state)
    state.built_generation = generation
    state.items = items
    state.labels_needed = labels
    state.built_at = datetime.now(UTC)
    session.flush()


def ensure_queue(
    session: Session,
    dataset_id: int,
    config: QueueConfig,
    *,
    embedder: Embedder | None = None,
    select_fn: SelectFn = hybrid_select,
) -> bool:
    """Rebuild the queue when routing changed since it was built; True when it rebuilt a
    queue that holds or held items (a dataset with nothing to review is recorded as built,
    not reported).

    Fresh: one primary-key read. Stale: the dataset's row is locked and the check repeated,
    so of several processes finding it stale at once one rebuilds and the others wait and
    then find it fresh."""
    if not queue_is_stale(session, dataset_id):
        return False
    session.execute(
        update(Dataset)
        .where(Dataset.id == dataset_id)
        .values(queue_generation=Dataset.queue_generation)
        .execution_options(synchronize_session=False)
    )
    if not queue_is_stale(session, dataset_id):
        return False
    state = session.get(ReviewQueueState, dataset_id, populate_existing=True)
    before = state.items if state is not None else _item_count(session, dataset_id)
    built = rebuild_queue(session, dataset_id, config, embedder=embedder, select_fn=select_fn)
    return built > 0 or before > 0


def _item_count(session: Session, dataset_id: int) -> int:
    q = ReviewQueueItem
    return int(session.scalar(select(func.count()).where(q.dataset_id == dataset_id)) or 0)


__all__ = [
    "done_count",
    "ensure_queue",
    "get_dataset",
    "has_gold",
    "queue_is_stale",
    "rebuild_queue",
    "refresh_full",
]
