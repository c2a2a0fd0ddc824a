"""A job's row through its life: create it with one item per pair, read and move its status,
finish, interrupt, reopen for ``--resume``, cancel, and list the running ones."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func, insert, literal, select, update

from referee.db.datasets import DatasetNotFound, find_dataset
from referee.db.engine import transaction
from referee.db.models import Job, JobItem, Pair, as_utc
from referee.jobs.store._sql import batches, utcnow
from workers.errors import JobNotFoundError, JobStateError, UnknownDatasetError
from workers.outcomes import ACTIVE, final_status

#: pair ids read per query when a job's items are streamed to the broker
ITEM_PAGE = 1000


def create_job(
    engine: Engine,
    dataset: str,
    params: dict[str, Any],
    *,
    kind: str = "prelabel",
    only: Collection[str] | None = None,
) -> tuple[int, Iterator[str], datetime]:
    """Create a running job with one pending item per pair of ``dataset`` (or per pair whose id
    is in ``only``: a cascade stage, the gold pairs).

    The items are written by the database (``INSERT ... SELECT``), so no list of the dataset's
    pair ids is built. Returns the job id, the items' pair ids as an iterator that reads them
    back :data:`ITEM_PAGE` at a time in id order (:func:`job_item_ids`), and the items'
    ``updated_at`` (pass it as the chunks' ``enqueued_at``). Raises :class:`UnknownDatasetError`.
    """
    now = utcnow()
    with transaction(engine) as session:
        try:
            ds = find_dataset(session, dataset)  # the one lookup, the one message
        except DatasetNotFound as exc:
            raise UnknownDatasetError(str(exc)) from exc
        job = Job(dataset_id=ds.id, kind=kind, status="running", params=params,
                  total_items=0, created_at=now, updated_at=now)  # fmt: skip
        session.add(job)
        session.flush()
        job_id = job.id
        _insert_items(session, job_id, ds.id, now, only)
        job.total_items = (
            session.scalar(
                select(func.count()).select_from(JobItem).where(JobItem.job_id == job_id)
            )
            or 0
        )
        if not job.total_items:
            job.status = "done"
    return job_id, job_item_ids(engine, job_id), now


def _insert_items(
    session: Any, job_id: int, dataset_id: int, now: datetime, only: Collection[str] | None
) -> None:
    """One pending item per pair of the dataset (in ``only`` when given), in bulk."""
    stamp = literal(now, JobItem.__table__.c.updated_at.type)
    rows = select(literal(job_id), Pair.id, literal("pending"), stamp).where(
        Pair.dataset_id == dataset_id
    )
    columns = ["job_id", "pair_id", "status", "updated_at"]
    if only is None:
        session.execute(insert(JobItem).from_select(columns, rows))
        return
    for part in batches(sorted(only)):
        session.execute(insert(JobItem).from_select(columns, rows.where(Pair.id.in_(part))))


def job_item_ids(engine: Engine, job_id: int, *, page: int = ITEM_PAGE) -> Iterator[str]:
    """The job's item pair ids in id order, read ``page`` at a time by keyset (the primary key
    ``(job_id, pair_id)`` serves each page), so a million-pair job is never one list."""
    after = ""
    while True:
        with transaction(engine) as session:
            ids = list(
                session.scalars(
                    select(JobItem.pair_id)
                    .where(JobItem.job_id == job_id, JobItem.pair_id > after)
                    .order_by(JobItem.pair_id)
                    .limit(page)
                )
            )
        yield from ids
        if len(ids) < page:
            return
        after = ids[-1]


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
    "job_item_ids",
    "job_params",
    "job_status",
    "last_activity",
    "reopen_job",
    "running_jobs",
    "set_job_status",
]
