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

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Engine, Table, bindparam, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from judge.labels import Order
from judge.types import OrderVerdict, PairText
from referee.db.engine import transaction
from referee.db.models import Dataset, Job, JobItem, Judgment, Pair
from workers.errors import JobNotFoundError, JobStateError, UnknownDatasetError

ACTIVE = ("pending", "running")
FINISHED = ("done", "failed", "cancelled")
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


@dataclass(frozen=True)
class JobSummary:
    """A job's state and progress, as ``referee jobs`` / ``referee job ID`` show it."""

    id: int
    dataset: str
    kind: str
    status: str
    judges: list[str]
    total: int
    done: int
    failed: int
    pending: int
    cost: float
    error: str | None
    created_at: datetime
    updated_at: datetime
    failures: list[dict[str, str]] = field(default_factory=list)

    @property
    def finished(self) -> bool:
        """True when the job will not change any more without ``--resume``."""
        return self.status in FINISHED

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "id": self.id,
            "dataset": self.dataset,
            "kind": self.kind,
            "status": self.status,
            "judges": self.judges,
            "total": self.total,
            "done": self.done,
            "failed": self.failed,
            "pending": self.pending,
            "cost": round(self.cost, 6),
            "error": self.error,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "failures": self.failures,
        }


def _insert(engine: Engine, table: Any) -> Any:
    """A dialect insert that supports ``on_conflict_do_nothing`` (PostgreSQL or SQLite)."""
    if engine.dialect.name == "postgresql":
        return postgresql.insert(table)
    if engine.dialect.name == "sqlite":
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


def finish_if_complete(engine: Engine, job_id: int) -> bool:
    """Mark a running job ``done`` when none of its items is pending; True when it did."""
    with transaction(engine) as session:
        pending = session.scalar(
            select(func.count())
            .select_from(JobItem)
            .where(JobItem.job_id == job_id, JobItem.status == "pending")
        )
    if pending:
        return False
    return set_job_status(engine, job_id, "done", only_from=("running",))


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
        last = max(_aware(job[1]), _aware(last_item) if last_item else _aware(job[1]))
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


def _aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; every time stored here is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def reopen_job(engine: Engine, job_id: int) -> tuple[list[str], datetime]:
    """Prepare ``--resume``: failed items become pending again and the job running.

    Returns the items to enqueue (pending and formerly failed) and their ``enqueued_at``.
    """
    now = utcnow()
    with transaction(engine) as session:
        job = session.get(Job, job_id)
        if job is None:
            raise JobNotFoundError(f"no job with id {job_id}; `referee jobs` lists them")
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


def summarize_jobs(
    engine: Engine, job_ids: Sequence[int] | None = None, *, failures: int = 0
) -> list[JobSummary]:
    """Summaries of the given jobs (all jobs, newest first, when ``job_ids`` is None).

    ``failures`` > 0 adds up to that many failed items with their reasons to each summary.
    """
    with transaction(engine) as session:
        query = select(Job, Dataset.name).join(Dataset, Dataset.id == Job.dataset_id)
        if job_ids is not None:
            query = query.where(Job.id.in_(list(job_ids)))
        jobs = session.execute(query.order_by(Job.id.desc())).all()
        ids = [job.id for job, _ in jobs]
        counts: dict[tuple[int, str], tuple[int, float]] = {}
        if ids:
            for jid, status, n, cost in session.execute(
                select(JobItem.job_id, JobItem.status, func.count(), func.sum(JobItem.cost))
                .where(JobItem.job_id.in_(ids))
                .group_by(JobItem.job_id, JobItem.status)
            ):
                counts[(jid, status)] = (int(n), float(cost or 0.0))
        out: list[JobSummary] = []
        for job, dataset in jobs:
            failed_rows: list[dict[str, str]] = []
            if failures:
                failed_rows = [
                    {"pair_id": pid, "error": err or ""}
                    for pid, err in session.execute(
                        select(JobItem.pair_id, JobItem.error)
                        .where(JobItem.job_id == job.id, JobItem.status == "failed")
                        .order_by(JobItem.pair_id)
                        .limit(failures)
                    )
                ]
            by = {s: counts.get((job.id, s), (0, 0.0)) for s in ("pending", "done", "failed")}
            params = job.params or {}
            out.append(
                JobSummary(
                    id=job.id,
                    dataset=dataset,
                    kind=job.kind,
                    status=job.status,
                    judges=list(params.get("judges", [])),
                    total=job.total_items,
                    done=by["done"][0],
                    failed=by["failed"][0],
                    pending=by["pending"][0],
                    cost=sum(c for _, c in by.values()),
                    error=job.error,
                    created_at=_aware(job.created_at),
                    updated_at=_aware(job.updated_at),
                    failures=failed_rows,
                )
            )
    return out


def summarize_job(engine: Engine, job_id: int, *, failures: int = 0) -> JobSummary:
    """One job's summary. Raises :class:`JobNotFoundError`."""
    found = summarize_jobs(engine, [job_id], failures=failures)
    if not found:
        raise JobNotFoundError(f"no job with id {job_id}; `referee jobs` lists them")
    return found[0]


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
    "JobSummary",
    "JudgeKey",
    "PairOutcome",
    "cancel_job",
    "claim_items",
    "create_job",
    "finish_if_complete",
    "job_params",
    "job_status",
    "load_chunk",
    "record_outcomes",
    "reopen_job",
    "running_jobs",
    "set_job_status",
    "summarize_job",
    "summarize_jobs",
    "take_stalled",
    "touch_items",
    "utcnow",
]
