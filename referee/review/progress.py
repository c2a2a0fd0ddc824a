"""A reviewer's own progress in a dataset, for the review page's header.

* ``done_today``: items the reviewer answered since midnight UTC;
* ``done``: items they answered in this dataset, ever;
* ``remaining``: pending items of the dataset's queues, in the reviewer's view of
  :func:`~referee.review.stats.queue_stats`: real items plus the free gold-check slots reserved
  there (:mod:`referee.review.gold_slots`), so it counts the checks still to be shown and drops
  by one for any served item, whatever it was.

Hidden gold checks count as items in every figure, as in ``/v1/stats``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, time
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from referee.db.models import Pair, ReviewAssignment, Reviewer
from referee.review.config import QueueConfig
from referee.review.queue_build import get_dataset
from referee.review.service import resolve_now
from referee.review.stats import queue_stats


@dataclass(frozen=True, slots=True)
class Progress:
    """One reviewer's counts in one dataset."""

    dataset: str
    done_today: int
    done: int
    remaining: int

    def to_json(self) -> dict[str, Any]:
        """A plain dict for the API."""
        return asdict(self)


def reviewer_progress(
    session: Session,
    dataset: str,
    reviewer: Reviewer,
    *,
    now: datetime | None = None,
    config: QueueConfig | None = None,
) -> Progress:
    """``reviewer``'s progress in ``dataset`` at ``now`` (default: the current time);
    ``config``: the serving queue config (sizes the reserved gold-check slots)."""
    moment = resolve_now(now)
    midnight = datetime.combine(moment.date(), time(0), tzinfo=moment.tzinfo)
    ds = get_dataset(session, dataset)
    a = ReviewAssignment
    done, today = session.execute(
        select(
            func.coalesce(func.sum(case((a.completed_at.is_not(None), 1), else_=0)), 0),
            func.coalesce(func.sum(case((a.completed_at >= midnight, 1), else_=0)), 0),
        )
        .select_from(a)
        .join(Pair, Pair.id == a.pair_id)
        .where(a.reviewer_id == reviewer.id, Pair.dataset_id == ds.id)
    ).one()
    stats = queue_stats(session, dataset, reviewer, now=moment, config=config)
    remaining = sum(counts.pending for counts in stats.queues.values())
    return Progress(ds.name, int(today), int(done), remaining)


__all__ = ["Progress", "reviewer_progress"]
