"""Every database read and write of a pre-labeling job, in short transactions.

The database, not the broker, is the source of truth: a job's items (``job_items``) say which pairs
are pending, done or failed; a chunk *claims* its pending items before judging them, so two
deliveries of the same chunk never judge the same pair at once, and a judgment is inserted with
``ON CONFLICT DO NOTHING`` on its unique key, so a redelivered chunk never duplicates one.

Claim rule (times are UTC): an item may be claimed by a chunk enqueued at ``enqueued_at`` when it
is pending and either nobody touched it since (``updated_at <= enqueued_at``) or its last holder
went quiet for ``stale_after_s`` (``updated_at < now - stale_after_s``). Claiming sets
``updated_at = now`` and counts an attempt; a holder refreshes ``updated_at`` while it works.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Engine, Table, bindparam, func, select, update

from judge.labels import Order
from judge.types import OrderVerdict, PairText
from referee.db.engine import transaction
from referee.db.models import Dataset, Job, JobItem, Judgment, Pair, as_utc
from workers.errors import JobNotFoundError, JobStateError, UnknownDatasetError

ACTIVE = ("pending", "running")
#: a job's statuses once nothing more will happen without ``--resume``: ``done`` (every pair
#: judged), ``partial`` (some pairs failed), ``failed`` (every pair failed, or the job's
#: configuration is wrong: ``error`` says which), ``cancelled`` and ``interrupted`` (Ctrl-C)
FINISHED = ("done", "partial", "failed", "cancelled", "interrupted")
#: the finished statuses that mean some pairs have no verdicts (exit 1 at the CLI)
UNSUCCESSFUL = ("partial", "failed", "cancelled", "interrupted")
_BATCH = 500


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class JudgeKey:
    """What identifies a judge's stored judgments: its name and prompt version."""

    name: str
    prompt_version: str


@dataclass(frozen=True)
class PairOutcome:
    """What happened to one pair in a chunk.

    ``status`` is ``done`` (every judge answered both orders), ``failed`` (given up, ``error`` says
    why) or ``pending`` (a transient failure; another attempt will follow). ``new_verdicts`` are
    the verdicts paid for now, stored whatever the status, so they are never paid for twice.
    """

    pair_id: str
    status: str
    new_verdicts: tuple[tuple[str, OrderVerdict], ...] = ()
    error: str | None = None

    @property
    def cost(self) -> float:
        """Dollars spent on this pair in this attempt."""
        return sum(v.cost for _, v in self.new_verdicts)


def _insert(engine: Engine, table: Any) -> Any:
    """A dialect insert that supports ``on_conflict_do_nothing`` (PostgreSQL or SQLite).

    The dialect modules are imported here: the engine has already loaded its own, and readers
    of jobs (``referee jobs``) need neither.
    """
    if engine.dialect.name == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(table)
    if engine.dialect.name == "sqlite":
        from sqlalchemy.dialects import sqlite

        return sqlite.insert(table)
    raise NotImplementedError(f"database {engine.dialect.name!r} is not supported")


def _chunks(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def create_job(
    engine: Engine, dataset: str, params: dict[str, Any], *, kind: str = "prelabel"
) -> tuple[int, list[str], datetime]:
    """Create a running job with one pending item per pair of ``dataset``.

    Returns the job id, the pair ids in a stable order and the items' ``updated_at`` (pass it as
    the chunks' ``enqueued_at``). Raises :class:`UnknownDatasetError`.
    """
    now = utcnow()
    with transaction(engine) as session:
        ds = session.scalar(select(Dataset).where(Dataset.name == dataset))
        if ds is None:
            known = session.scalars(select(Dataset.name).order_by(Dataset.name)).all()
            hint = f"; known: {', '.join(known)}" if known else "; ingest one first"
            raise UnknownDatasetError(f"no dataset named {dataset!r}{hint}")
        pair_ids = list(
            session.scalars(select(Pair.id).where(Pair.dataset_id == ds.id).order_by(Pair.id))
        )
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
        for part in _chunks(pair_ids, _BATCH):
            session.execute(
                _insert(engine, JobItem),
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
        for part in _chunks(list(pair_ids), _BATCH):
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


def load_chunk(
    engine: Engine, pair_ids: Sequence[str], judges: Sequence[JudgeKey]
) -> tuple[list[PairText], dict[str, dict[tuple[str, Order], OrderVerdict]]]:
    """The chunk's pair texts and, in one query, the verdicts already stored for them."""
    names = sorted({j.name for j in judges})
    versions = sorted({j.prompt_version for j in judges})
    wanted = {(j.name, j.prompt_version) for j in judges}
    with transaction(engine) as session:
        pairs = [
            PairText(
                pair_id=p.id, prompt=p.prompt, response_a=p.response_a, response_b=p.response_b
            )
            for p in session.scalars(
                select(Pair).where(Pair.id.in_(list(pair_ids))).order_by(Pair.id)
            )
        ]
        rows = session.scalars(
            select(Judgment).where(
                Judgment.pair_id.in_(list(pair_ids)),
                Judgment.judge.in_(names),
                Judgment.prompt_version.in_(versions),
                Judgment.status.in_(("ok", "unparseable")),
            )
        ).all()
    existing: dict[str, dict[tuple[str, Order], OrderVerdict]] = {}
    for row in rows:
        if (row.judge, row.prompt_version) not in wanted or row.order not in ("AB", "BA"):
            continue
        order: Order = "AB" if row.order == "AB" else "BA"
        existing.setdefault(row.pair_id, {})[(row.judge, order)] = OrderVerdict(
            order=order,
            winner=row.winner,  # type: ignore[arg-type]
            status="ok" if row.status == "ok" else "unparseable",
            prompt_version=row.prompt_version,
            confidence=row.confidence,
            logprob_confidence=row.logprob_confidence,
            rationale=row.rationale,
            raw=row.raw,
            tokens_in=row.tokens_in,
            tokens_out=row.tokens_out,
            cost=row.cost,
            latency_ms=row.latency_ms,
            error=row.error,
            injection_suspected=row.injection_suspected,
            reused=True,
        )
    return pairs, existing


def _judgment_row(job_id: int, pair_id: str, judge: str, v: OrderVerdict) -> dict[str, Any]:
    return {
        "pair_id": pair_id,
        "judge": judge,
        "order": v.order,
        "prompt_version": v.prompt_version,
        "winner": v.winner,
        "confidence": v.confidence,
        "logprob_confidence": v.logprob_confidence,
        "rationale": v.rationale,
        "raw": v.raw,
        "tokens_in": v.tokens_in,
        "tokens_out": v.tokens_out,
        "cost": v.cost,
        "latency_ms": v.latency_ms,
        "status": v.status,
        "error": v.error,
        "injection_suspected": v.injection_suspected,
        "job_id": job_id,
        "created_at": utcnow(),
    }


def record_outcomes(engine: Engine, job_id: int, outcomes: Sequence[PairOutcome]) -> None:
    """Store new verdicts (idempotently) and move each item to its new status, in one transaction.

    Only ``ok`` and ``unparseable`` verdicts are stored; an item that is no longer pending (another
    delivery finished it) keeps its status.
    """
    if not outcomes:
        return
    rows = [
        _judgment_row(job_id, o.pair_id, judge, v)
        for o in outcomes
        for judge, v in o.new_verdicts
        if v.status in ("ok", "unparseable")
    ]
    now = utcnow()
    with transaction(engine) as session:
        # Core statements on the session's connection: one executemany each, no ORM bulk
        # bookkeeping (psycopg pipelines the parameter sets in one round trip).
        conn = session.connection()
        for part in _chunks(rows, _BATCH):
            stmt = _insert(engine, Judgment).on_conflict_do_nothing(
                index_elements=["pair_id", "judge", "order", "prompt_version"]
            )
            conn.execute(stmt, list(part))
        items = cast(Table, JobItem.__table__)
        conn.execute(
            update(items)
            .where(
                items.c.job_id == job_id,
                items.c.pair_id == bindparam("item_pair"),
                items.c.status == "pending",
            )
            .values(
                status=bindparam("item_status"),
                error=bindparam("item_error"),
                cost=items.c.cost + bindparam("item_cost"),
                updated_at=now,
            ),
            [
                {
                    "item_pair": o.pair_id,
                    "item_status": o.status,
                    "item_error": o.error,
                    "item_cost": o.cost,
                }
                for o in outcomes
            ],
        )


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


def final_status(counts: Mapping[str, int]) -> str:
    """A finished job's status from its items' counts: ``done``, ``partial`` or ``failed``."""
    failed = counts.get("failed", 0)
    if not failed:
        return "done"
    return "failed" if not counts.get("done", 0) else "partial"


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
        for part in _chunks(pending, _BATCH):
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
    "ACTIVE",
    "FINISHED",
    "UNSUCCESSFUL",
    "JudgeKey",
    "PairOutcome",
    "as_utc",
    "cancel_job",
    "claim_items",
    "create_job",
    "final_status",
    "finish_if_complete",
    "interrupt_job",
    "job_params",
    "job_status",
    "last_activity",
    "load_chunk",
    "record_outcomes",
    "reopen_job",
    "running_jobs",
    "set_job_status",
    "take_stalled",
    "touch_items",
    "utcnow",
]
