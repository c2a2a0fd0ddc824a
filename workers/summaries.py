"""What ``referee jobs`` and ``referee job ID`` show: a job's status, progress, spend and, for
its failed pairs, the reasons (the commonest first). Read-only; :mod:`workers.store` writes.

The queries use the light table clauses of :mod:`referee.db.tables` on a plain connection: no
ORM, so ``referee jobs`` and ``referee job ID`` start fast."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func, select

from referee.db.tables import datasets, job_items, jobs, judgments
from workers.errors import JobNotFoundError
from workers.outcomes import FINISHED


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
    reasons: list[tuple[str, int]] = field(default_factory=list)

    @property
    def finished(self) -> bool:
        """True when the job will not change any more without ``--resume``."""
        return self.status in FINISHED

    @property
    def succeeded(self) -> bool:
        """True when the job finished with a verdict for every pair."""
        return self.status == "done"

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
            "failure_reasons": [{"reason": r, "pairs": n} for r, n in self.reasons],
        }


def failure_reasons(engine: Engine, job_id: int, *, top: int = 3) -> list[tuple[str, int]]:
    """The most common reasons the job's pairs failed, with how many pairs each, most first.

    A pair's own id is blanked out of its reason, so one cause counts once.
    """
    counts: Counter[str] = Counter()
    item = job_items.c
    with engine.connect() as conn:
        rows = conn.execute(
            select(item.pair_id, item.error).where(item.job_id == job_id, item.status == "failed")
        )
        for pair_id, error in rows:
            text = (error or "no reason recorded").replace(pair_id, "<pair>")
            counts[text[:300]] += 1
    return counts.most_common(top)


def summarize_jobs(
    engine: Engine, job_ids: Sequence[int] | None = None, *, failures: int = 0
) -> list[JobSummary]:
    """Summaries of the given jobs (all jobs, newest first, when ``job_ids`` is None).

    ``failures`` > 0 adds up to that many failed items with their reasons to each summary.
    """
    job, item = jobs.c, job_items.c
    with engine.connect() as conn:
        query = select(jobs, datasets.c.name.label("dataset")).join(
            datasets, datasets.c.id == job.dataset_id
        )
        if job_ids is not None:
            query = query.where(job.id.in_(list(job_ids)))
        rows = conn.execute(query.order_by(job.id.desc())).all()
        ids = [row.id for row in rows]
        counts: dict[tuple[int, str], tuple[int, float]] = {}
        if ids:
            for jid, status, n, cost in conn.execute(
                select(item.job_id, item.status, func.count(), func.sum(item.cost))
                .where(item.job_id.in_(ids))
                .group_by(item.job_id, item.status)
            ):
                counts[(jid, status)] = (int(n), float(cost or 0.0))
        out: list[JobSummary] = []
        for row in rows:
            failed_rows: list[dict[str, str]] = []
            if failures:
                failed_rows = [
                    {"pair_id": pid, "error": err or ""}
                    for pid, err in conn.execute(
                        select(item.pair_id, item.error)
                        .where(item.job_id == row.id, item.status == "failed")
                        .order_by(item.pair_id)
                        .limit(failures)
                    )
                ]
            by = {s: counts.get((row.id, s), (0, 0.0)) for s in ("pending", "done", "failed")}
            params = row.params or {}
            out.append(
                JobSummary(
                    id=row.id,
                    dataset=row.dataset,
                    kind=row.kind,
                    status=row.status,
                    judges=list(params.get("judges", [])),
                    total=row.total_items,
                    done=by["done"][0],
                    failed=by["failed"][0],
                    pending=by["pending"][0],
                    cost=sum(c for _, c in by.values()),
                    error=row.error,
                    created_at=row.created_at,  # aware UTC (referee.db.tables.UtcDateTime)
                    updated_at=row.updated_at,
                    failures=failed_rows,
                )
            )
    if failures:
        out = [replace(s, reasons=failure_reasons(engine, s.id)) if s.failed else s for s in out]
    return out


@dataclass(frozen=True)
class JobCalls:
    """What a job's judge calls did, from the verdicts it stored and its items' claims.

    ``verdicts`` paid for by this job (reused ones are not counted), ``unparseable`` of them;
    ``latency_ms`` percentiles (``p50``, ``p90``, ``p99``, ``max``; nearest rank) of one verdict,
    re-asks and retries included; ``deliveries``: claims of the job's pairs by chunks (one per
    pair unless a worker was lost), ``redelivered``: pairs claimed more than once. How many HTTP
    retries and re-asks the calls took is not stored (the worker logs it: ``--log-level INFO``).
    """

    verdicts: int
    unparseable: int
    tokens_in: int
    tokens_out: int
    latency_ms: dict[str, float]
    deliveries: int
    redelivered: int

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "verdicts": self.verdicts,
            "unparseable": self.unparseable,
            "tokens_in": self.tokens_in,
            "tokens_out": self.tokens_out,
            "latency_ms": {k: round(v, 1) for k, v in self.latency_ms.items()},
            "deliveries": self.deliveries,
            "redelivered": self.redelivered,
        }


def percentiles(values: Sequence[float], ranks: Sequence[int] = (50, 90, 99)) -> dict[str, float]:
    """Nearest-rank percentiles ``p50``... and ``max`` of ``values`` (empty: no keys)."""
    ordered = sorted(values)
    if not ordered:
        return {}
    found = {f"p{r}": ordered[max(0, math.ceil(r / 100 * len(ordered)) - 1)] for r in ranks}
    return {**found, "max": ordered[-1]}


def job_calls(engine: Engine, job_id: int) -> JobCalls:
    """The job's :class:`JobCalls` (all zero for a job that stored nothing)."""
    judgment, item = judgments.c, job_items.c
    with engine.connect() as conn:
        rows = conn.execute(
            select(judgment.status, judgment.tokens_in, judgment.tokens_out, judgment.latency_ms)
            .where(judgment.job_id == job_id)
        ).all()  # fmt: skip
        deliveries, redelivered = conn.execute(
            select(
                func.coalesce(func.sum(item.attempts), 0),
                func.count().filter(item.attempts > 1),
            ).where(item.job_id == job_id)
        ).one()
    return JobCalls(
        verdicts=len(rows),
        unparseable=sum(1 for r in rows if r.status == "unparseable"),
        tokens_in=sum(int(r.tokens_in or 0) for r in rows),
        tokens_out=sum(int(r.tokens_out or 0) for r in rows),
        latency_ms=percentiles([float(r.latency_ms or 0.0) for r in rows]),
        deliveries=int(deliveries),
        redelivered=int(redelivered),
    )


def summarize_job(engine: Engine, job_id: int, *, failures: int = 0) -> JobSummary:
    """One job's summary. Raises :class:`JobNotFoundError`."""
    found = summarize_jobs(engine, [job_id], failures=failures)
    if not found:
        raise JobNotFoundError(f"no job with id {job_id}; `referee jobs` lists them")
    return found[0]


__all__ = [
    "JobCalls",
    "JobSummary",
    "failure_reasons",
    "job_calls",
    "percentiles",
    "summarize_job",
    "summarize_jobs",
]
