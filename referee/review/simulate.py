"""A simulated reviewer for the demo: answers the queue from known labels, via the real path.

Every item goes through :func:`~referee.review.service.lease_next` and
:func:`~referee.review.service.submit_label` (or :func:`release_item` when the answer is not
known), exactly as the API and the terminal reviewer do.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import datetime, timedelta

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from referee.db.engine import transaction
from referee.db.models import Reviewer
from referee.review.config import QueueConfig
from referee.review.priority import Embedder, SelectFn, hybrid_select
from referee.review.service import LabelSubmission, lease_next, release_item, submit_label
from referee.review.tokens import add_reviewer


def answer_queue_from_gold(
    engine: Engine,
    dataset: str,
    gold: Mapping[str, str],
    reviewer_name: str = "simulated-reviewer-1",
    *,
    config: QueueConfig | None = None,
    max_items: int | None = None,
    seconds_per_item: float = 30.0,
    embedder: Embedder | None = None,
    select_fn: SelectFn = hybrid_select,
    now: datetime | None = None,
) -> dict[str, int]:
    """Lease and answer items until the queue is empty for this reviewer; returns counts.

    ``gold`` maps pair ids to the label to give. Items whose pair is not in ``gold`` are
    released (skipped). The reviewer is created when missing (its token is discarded).
    Counts: ``labeled``, ``skipped`` and labeled items per queue (``review``, ``spot_check``,
    ``gold`` for hidden gold checks). ``seconds_per_item`` is the recorded duration; with
    ``now`` given, the simulated clock advances by it for each item.
    """
    config = config or QueueConfig()
    counts: Counter[str] = Counter(labeled=0, skipped=0)
    with transaction(engine) as session:
        reviewer = session.scalar(select(Reviewer).where(Reviewer.name == reviewer_name))
        if reviewer is None:
            reviewer, _token = add_reviewer(session, reviewer_name, actor="simulation")
        reviewer_id = reviewer.id
    clock = now
    while max_items is None or counts["labeled"] + counts["skipped"] < max_items:
        with transaction(engine) as session:
            reviewer = session.get_one(Reviewer, reviewer_id)
            lease = lease_next(
                session,
                dataset,
                reviewer,
                config,
                now=clock,
                embedder=embedder,
                select_fn=select_fn,
            )
            if lease is None:
                break
            outcome = _answer(
                session, lease.item.pair_id, reviewer, gold, seconds_per_item, clock, config
            )
            counts[outcome] += 1
            if outcome == "labeled":
                counts[lease.queue] += 1
        if clock is not None:
            clock += timedelta(seconds=seconds_per_item)
    return dict(counts)


__all__ = ["answer_queue_from_gold"]


def _answer(
    session: Session,
    pair_id: str,
    reviewer: Reviewer,
    gold: Mapping[str, str],
    seconds_per_item: float,
    clock: datetime | None,
    config: QueueConfig,
) -> str:
    """Answer the leased item from ``gold`` (``"labeled"``), or release it (``"skipped"``)."""
    answer = gold.get(pair_id)
    if answer is None:
        release_item(session, pair_id, reviewer, now=clock)
        return "skipped"
    reason = "simulated: both responses judged bad" if answer == "both_bad" else None
    submission = LabelSubmission(
        answer,
        rationale="simulated reviewer (recorded gold label)",
        reason=reason,
        duration_s=seconds_per_item,
    )
    submit_label(session, pair_id, reviewer, submission, now=clock, pause_rule=config.pause_rule)
    return "labeled"
