"""A job's row through its life: create it with one item per pair, read and move its status,
finish, interrupt, reopen for ``--resume``, cancel, and list the running ones."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func, select, update

from referee.db.datasets import DatasetNotFound, find_dataset
from referee.db.engine import transaction
from referee.db.models import Job, JobItem, Pair, as_utc
from referee.jobs.store._sql import batches, insert_for, utcnow
from workers.errors import JobNotFoundError, JobStateError, UnknownDatasetError
from workers.outcomes import ACTIVE, final_status


def create_job(
    engine: Engine,
    dataset: str,
    params: dict[str, Any],
    *,
    kind: str = "prelabel",
    only: Collection[str] | None = None,
) -> tuple[int, list[str], datetime]:
    """Create a running job with one pending item per pair of ``dataset`` (or per pair whose id
    is in ``only``: a cascade stage, the gold pairs).

    Returns the job id, the pair ids in a stable order and the items' ``updated_at`` (pass it as
    the chunks' ``enqueued_at``). Raises :class:`UnknownDatasetError`.
    """
    now = utcnow()
    with transaction(engine) as session:
        try:
            ds = find_dataset(session, dataset)  # the one lookup, the one message
        except DatasetNotFound as exc:
            raise UnknownDatasetError(str(exc)) from exc
        pair_ids = list(
            session.scalars(select(Pair.id).where(Pair.dataset_id == ds.id).order_by(Pair.id))
        )
        if only is not None:
            pair_ids = [p for p in pair_ids if p in only]
        job = Job(
            dataset_id=ds.id,
            kind=kind,
            status="running",
            params=params,
            total_items=len(pair_ids),
            created_at=now,
            updated_at=now,
        )
        session.add(job)
        session.flush()
        job_id = job.id
        for part in batches(pair_ids):
            session.execute(
                insert_for(engine, JobItem),
                [
                    {"job_id": job_id, "pair_id": p, "status": "pending", "updated_at": now}
                    for p in part
                ],
            )
        if not pair_ids:
            job.status = "done"
    return job_id, pair_ids, now


def job_params(engine: Engine, job_id: int) -> tuple[str, dict[str, Any]]:
    """The job's status and parameters. Raises :class:`JobNotFoundError`."""
    with transaction(engine) as session:
        row = session.execute(select(Job.status, Job.params).where(Job.id == job_id)).first()
    if row is None:
        raise JobNotFoundError(f"no job with id {job_id}; `referee jobs` lists them")
    return row[0], dict(row[1] or {})


def job_status(engine: Engine, job_id: int) -> str | None:
    """The job's status, or None when it does not exist."""
    with transaction(engine) as session:
        return session.scalar(select(Job.status).where(Job.id == job_id))


def set_job_status(
    engine: Engine,
    job_id: int,
    status: str,
    *,
    error: str | None = None,
    only_from: Sequence[str] = ACTIVE,
) -> bool:
    """Move the job to ``status`` if it is currently in ``only_from``; True when it moved."""
    with transaction(engine) as session:
        result = session.execute(
            update(Job)
            .where(Job.id == job_id, Job.status.in_(list(only_from)))
            .values(status=status, error=error, updated_at=utcnow()),
            execution_options={"synchronize_session": False},
        )
        return bool(getattr(result, "rowcount", 0))


def _item_counts(session: Any, job_id: int) -> dict[str, int]:
    return {
        str(status): int(n)
        for status, n in session.execute(
            select(JobItem.status, func.count())
            .where(JobItem.job_id == job_id)
            .group_by(JobItem.status)
        )
    }


def finish_if_complete(
    engine: Engine, job_id: int, *, only_from: Sequence[str] = ("running",)
) -> bool:
    """Finish a job none of whose items is pending: ``done``, or ``partial``/``failed`` when
    some or all of its pairs failed (see :func:`final_status`); True when it moved."""
    with transaction(engine) as session:
        counts = _item_counts(session, job_id)
    if counts.get("pending", 0):
        return False
    status = final_status(counts)
    error = None
    if status != "done":
        failed, total = counts.get("failed", 0), sum(counts.values())
        error = f"{failed} of {total} pairs failed; `referee job {job_id}` lists them"
    return set_job_status(engine, job_id, status, error=error, only_from=only_from)


def interrupt_job(engine: Engine, job_id: int, reason: str) -> str | None:
    """Mark a running job ``interrupted`` (``reason`` as its error); returns its new status.

    A job that had nothing left to do is finished instead (``done``/``partial``/``failed``).
    """
    set_job_status(engine, job_id, "interrupted", error=reason, only_from=("running",))
    finish_if_complete(engine, job_id, only_from=("interrupted",))
    return job_status(engine, job_id)


def last_activity(engine: Engine, job_id: int) -> datetime:
    """When the job or any of its items last changed (chunks refresh their items as they work)."""
    with transaction(engine) as session:
        job = session.scalar(select(Job.updated_at).where(Job.id == job_id))
        if job is None:
            raise JobNotFoundError(f"no job with id {job_id}; `referee jobs` lists them")
        item = session.scalar(select(func.max(JobItem.updated_at)).where(JobItem.job_id == job_id))
    return max(as_utc(job), as_utc(item)) if item is not None else as_utc(job)


def reopen_job(
    engine: Engine,
    job_id: int,
    *,
    expect_status: str | None = None,
    params: Mapping[str, Any] | None = None,
) -> tuple[list[str], datetime]:
    """Prepare ``--resume``: failed items become pending again and the job running.

    ``expect_status``: refuse (:class:`JobStateError`) if the job's status changed since the
    caller looked; ``params`` are merged into the job's parameters (a new owner, concurrency).
    Returns the items to enqueue (pending and formerly failed) and their ``enqueued_at``.
    """
    now = utcnow()
    with transaction(engine) as session:
        job = session.get(Job, job_id)
        if job is None:
            raise JobNotFoundError(f"no job with id {job_id}; `referee jobs` lists them")
        if expect_status is not None and job.status != expect_status:
            raise JobStateError(f"job {job_id} is now {job.status}; look again: `referee jobs`")
        if params:
            job.params = {**(job.params or {}), **params}
        session.execute(
            update(JobItem)
            .where(JobItem.job_id == job_id, JobItem.status == "failed")
            .values(status="pending", attempts=0, error=None),
            execution_options={"synchronize_session": False},
        )
        session.execute(
            update(JobItem)
            .where(JobItem.job_id == job_id, JobItem.status == "pending")
            .values(updated_at=now),
            execution_options={"synchronize_session": False},
        )
        todo = list(
            session.scalars(
                select(JobItem.pair_id)
                .where(JobItem.job_id == job_id, JobItem.status == "pending")
                .order_by(JobItem.pair_id)
            )
        )
        job.status = "running" if todo else "done"
        job.error = None
        job.updated_at = now
    return todo, now


def cancel_job(engine: Engine, job_id: int) -> None:
    """Cancel an unfinished job; its remaining chunks do nothing. Raises if it is finished."""
    if set_job_status(engine, job_id, "cancelled", error="cancelled by the user"):
        return
    status = job_status(engine, job_id)
    if status is None:
        raise JobNotFoundError(f"no job with id {job_id}; `referee jobs` lists them")
    raise JobStateError(f"job {job_id} is already {status}; nothing to cancel")


def running_jobs(engine: Engine) -> list[tuple[int, dict[str, Any]]]:
    """Ids and parameters of every running job (the stall sweeper's work list)."""
    with transaction(engine) as session:
        return [
            (jid, dict(params or {}))
            for jid, params in session.execute(
                select(Job.id, Job.params).where(Job.status == "running").order_by(Job.id)
            )
        ]


__all__ = [
    "cancel_job",
    "create_job",
    "finish_if_complete",
    "interrupt_job",
    "job_params",
    "job_status",
    "last_activity",
    "reopen_job",
    "running_jobs",
    "set_job_status",
]
