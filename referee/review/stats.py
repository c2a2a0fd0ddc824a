"""Queue statistics: items pending, leased and done per queue, and one reviewer's own counts.

Item states (k = the item's ``required_labels``): *done* when k labels are in; *leased* when not
done and at least one live lease is out; *pending* otherwise.

Hidden gold checks are not queue items, but a reviewer must not be able to tell them apart by
watching the counts. So in a reviewer's view (``reviewer`` given, as the API does) the queues
also count the check slots reserved for them (:mod:`referee.review.gold_slots`, sized from
``config``): a free slot is ``pending``, a slot whose check is under a live lease ``leased``,
an answered one ``done``. A check served to anyone takes the next slot, so it moves the counts
exactly as a served real item of that slot's queue does, and totals stay put. A reviewer's own
``labeled`` and ``leased`` count gold checks like any other item. Operators (no reviewer) see
the real queues.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from referee.db.models import Pair, ReviewAssignment, Reviewer, ReviewQueueItem
from referee.review.config import QUEUES, QueueConfig
from referee.review.gold_slots import gold_slots
from referee.review.queue_build import get_dataset
from referee.review.service import resolve_now


@dataclass(frozen=True, slots=True)
class QueueCounts:
    """Item counts of one queue."""

    pending: int = 0
    leased: int = 0
    done: int = 0

    @property
    def total(self) -> int:
        """Every item of the queue."""
        return self.pending + self.leased + self.done


@dataclass(frozen=True)
class QueueStats:
    """Counts per queue, and (when asked for a reviewer) their labeled and leased items."""

    dataset: str
    queues: dict[str, QueueCounts] = field(default_factory=dict)
    reviewer: str | None = None
    labeled: int = 0
    leased: int = 0

    def to_json(self) -> dict[str, Any]:
        """A plain dict for the API and ``--json``."""
        doc: dict[str, Any] = {
            "dataset": self.dataset,
            "queues": {
                name: {"pending": c.pending, "leased": c.leased, "done": c.done, "total": c.total}
                for name, c in self.queues.items()
            },
        }
        if self.reviewer is not None:
            doc["you"] = {"reviewer": self.reviewer, "labeled": self.labeled, "leased": self.leased}
        return doc


def queue_stats(
    session: Session,
    dataset: str,
    reviewer: Reviewer | None = None,
    *,
    now: datetime | None = None,
    config: QueueConfig | None = None,
) -> QueueStats:
    """Statistics of ``dataset``'s queues as they stand (the queue as last built).

    ``config``: the serving queue config, whose gold and trap rates size the check slots of a
    reviewer's view (default: :class:`QueueConfig`'s defaults)."""
    moment = resolve_now(now)
    ds = get_dataset(session, dataset)
    a = ReviewAssignment
    q = ReviewQueueItem
    live = and_(a.completed_at.is_(None), a.lease_expires_at > moment)
    done_n = func.sum(case((a.completed_at.is_not(None), 1), else_=0))
    live_n = func.sum(case((live, 1), else_=0))
    per_item = (
        select(q.queue, q.required_labels, done_n, live_n)
        .select_from(q)
        .outerjoin(a, (a.pair_id == q.pair_id) & (a.queue == q.queue))
        .where(q.dataset_id == ds.id)
        .group_by(q.id, q.queue, q.required_labels)
    )
    tallies: dict[str, list[int]] = {name: [0, 0, 0] for name in QUEUES}
    for queue, k, done, leased in session.execute(per_item):
        slot = tallies.setdefault(queue, [0, 0, 0])
        if int(done or 0) >= k:
            slot[2] += 1
        elif int(leased or 0) > 0:
            slot[1] += 1
        else:
            slot[0] += 1
    if reviewer is None:
        return QueueStats(ds.name, {name: QueueCounts(*c) for name, c in tallies.items()})
    slots = gold_slots(session, ds.id, config or QueueConfig(), moment)
    for queue, (free, leased_checks, done_checks) in slots.per_queue().items():
        slot = tallies.setdefault(queue, [0, 0, 0])
        slot[0] += free
        slot[1] += leased_checks
        slot[2] += done_checks
    queues = {name: QueueCounts(*counts) for name, counts in tallies.items()}
    mine = session.execute(
        select(
            func.coalesce(func.sum(case((a.completed_at.is_not(None), 1), else_=0)), 0),
            func.coalesce(func.sum(case((live, 1), else_=0)), 0),
        )
        .select_from(a)
        .join(Pair, Pair.id == a.pair_id)
        .where(a.reviewer_id == reviewer.id, Pair.dataset_id == ds.id)
    ).one()
    return QueueStats(ds.name, queues, reviewer.name, int(mine[0]), int(mine[1]))


__all__ = ["QueueCounts", "QueueStats", "queue_stats"]
