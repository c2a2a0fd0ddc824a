"""Who works on which of a job's items: claiming them for a chunk, the holder's heartbeat, and
re-arming the items of a stalled job.

Claim rule (times are UTC): an item may be claimed by a chunk enqueued at ``enqueued_at`` when it
is pending and either nobody touched it since (``updated_at <= enqueued_at``) or its last holder
went quiet for ``stale_after_s`` (``updated_at < now - stale_after_s``). Claiming sets
``updated_at = now`` and counts an attempt; a holder refreshes ``updated_at`` while it works.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import Engine, func, select, update

from referee.db.engine import transaction
from referee.db.models import Job, JobItem, as_utc
from referee.jobs.store._sql import batches, utcnow


def claim_items(
    engine: Engine,
    job_id: int,
    pair_ids: Sequence[str],
    *,
    enqueued_at: datetime,
    stale_after_s: float,
    max_attempts: int,
) -> list[str]:
    """Claim the pending items of ``pair_ids`` (see the module docstring); returns those claimed.

    Items claimed for more than ``max_attempts`` times (their holders kept dying) are marked
    failed instead of being returned.
    """
    now = utcnow()
    stale_before = now - timedelta(seconds=stale_after_s)
    claimed: list[str] = []
    abandoned: list[str] = []
    with transaction(engine) as session:
        for part in batches(list(pair_ids)):
            rows = session.execute(
                update(JobItem)
                .where(
                    JobItem.job_id == job_id,
                    JobItem.pair_id.in_(part),
                    JobItem.status == "pending",
                    (JobItem.updated_at <= enqueued_at) | (JobItem.updated_at < stale_before),
                )
                .values(updated_at=now, attempts=JobItem.attempts + 1)
                .returning(JobItem.pair_id, JobItem.attempts),
                execution_options={"synchronize_session": False},
            ).all()
            for pair_id, attempts in rows:
                (abandoned if attempts > max_attempts else claimed).append(pair_id)
        if abandoned:
            session.execute(
                update(JobItem)
                .where(JobItem.job_id == job_id, JobItem.pair_id.in_(abandoned))
                .values(
                    status="failed",
                    error=f"abandoned after {max_attempts} attempts: the worker was lost each time",
                ),
                execution_options={"synchronize_session": False},
            )
    return sorted(claimed)


def touch_items(engine: Engine, job_id: int, pair_ids: Sequence[str]) -> None:
    """Heartbeat: refresh ``updated_at`` of the still-pending items this holder works on."""
    if not pair_ids:
        return
    with transaction(engine) as session:
        session.execute(
            update(JobItem)
            .where(
                JobItem.job_id == job_id,
                JobItem.pair_id.in_(list(pair_ids)),
                JobItem.status == "pending",
            )
            .values(updated_at=utcnow()),
            execution_options={"synchronize_session": False},
        )


def take_stalled(engine: Engine, job_id: int, stale_after_s: float) -> tuple[list[str], datetime]:
    """Pending items of a running job that made no progress for ``stale_after_s``, re-armed.

    A job is stalled when it has pending items and none of its items (and not the job itself)
    changed for ``stale_after_s``: its chunk messages were lost (broker restarted) or its workers
    died. The caller re-enqueues the returned items with the returned ``enqueued_at``; the items'
    ``updated_at`` is set to that time so the new chunks may claim them. Only one caller wins the
    race (compare-and-set on the job's ``updated_at``); the others get an empty list.
    """
    now = utcnow()
    quiet_since = now - timedelta(seconds=stale_after_s)
    with transaction(engine) as session:
        job = session.execute(select(Job.status, Job.updated_at).where(Job.id == job_id)).first()
        if job is None or job[0] != "running":
            return [], now
        last_item = session.scalar(
            select(func.max(JobItem.updated_at)).where(JobItem.job_id == job_id)
        )
        last = max(as_utc(job[1]), as_utc(last_item) if last_item else as_utc(job[1]))
        if last >= quiet_since:
            return [], now
        pending = list(
            session.scalars(
                select(JobItem.pair_id)
                .where(JobItem.job_id == job_id, JobItem.status == "pending")
                .order_by(JobItem.pair_id)
            )
        )
        if not pending:
            return [], now
        won = session.execute(
            update(Job).where(Job.id == job_id, Job.updated_at == job[1]).values(updated_at=now),
            execution_options={"synchronize_session": False},
        )
        if not getattr(won, "rowcount", 0):
            return [], now
        for part in batches(pending):
            session.execute(
                update(JobItem)
                .where(
                    JobItem.job_id == job_id,
                    JobItem.pair_id.in_(list(part)),
                    JobItem.status == "pending",
                )
                .values(updated_at=now),
                execution_options={"synchronize_session": False},
            )
    return pending, now


__all__ = ["claim_items", "take_stalled", "touch_items"]
