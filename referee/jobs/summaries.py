"""The queries behind ``referee jobs`` and ``referee job ID``: a job's status, progress, spend and
failure reasons. Read-only; :mod:`referee.jobs.store` writes.

The queries use the light table clauses of :mod:`referee.db.tables` on a plain connection: no
ORM, so ``referee jobs`` and ``referee job ID`` start fast. The values they return are the
worker's own (:mod:`workers.summaries`)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import replace

from sqlalchemy import Engine, func, select

from referee.db.tables import datasets, job_items, jobs, judgments
from workers.errors import JobNotFoundError
from workers.summaries import JobCalls, JobSummary, percentiles


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


__all__ = ["failure_reasons", "job_calls", "summarize_job", "summarize_jobs"]


def mark_orphaned_jobs(engine: Engine) -> None:
    """Mark interrupted the running jobs whose in-process owner is gone (a killed ``prelabel``
    then shows as interrupted). With no running job, the usual case, there is nothing to check
    and the job machinery (``workers.jobs``, the ORM) is not loaded."""
    from sqlalchemy import exists

    with engine.connect() as conn:
        if not conn.scalar(select(exists().where(jobs.c.status == "running"))):
            return
    from referee.jobs.sql_store import SqlJobStore
    from workers.jobs import mark_orphaned_jobs as mark_in_store

    mark_in_store(SqlJobStore(engine))
