""":class:`SqlJobStore`: the worker's :class:`workers.ports.JobStore` on a SQLAlchemy engine
(PostgreSQL or SQLite), delegating to :mod:`referee.jobs.store` and :mod:`referee.jobs.summaries`.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from judge.labels import Order
from judge.types import OrderVerdict, PairText
from referee.jobs import store, summaries
from workers.outcomes import ACTIVE, JudgeKey, PairOutcome
from workers.summaries import JobSummary


class SqlJobStore:
    """A job store on ``engine``; :meth:`close` disposes of the engine's connections."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def create_job(
        self,
        dataset: str,
        params: dict[str, Any],
        *,
        kind: str = "prelabel",
        only: Collection[str] | None = None,
    ) -> tuple[int, Iterator[str], datetime]:
        return store.create_job(self.engine, dataset, params, kind=kind, only=only)

    def job_params(self, job_id: int) -> tuple[str, dict[str, Any]]:
        return store.job_params(self.engine, job_id)

    def job_status(self, job_id: int) -> str | None:
        return store.job_status(self.engine, job_id)

    def set_job_status(
        self,
        job_id: int,
        status: str,
        *,
        error: str | None = None,
        only_from: Sequence[str] = ACTIVE,
    ) -> bool:
        return store.set_job_status(self.engine, job_id, status, error=error, only_from=only_from)

    def finish_if_complete(self, job_id: int, *, only_from: Sequence[str] = ("running",)) -> bool:
        return store.finish_if_complete(self.engine, job_id, only_from=only_from)

    def interrupt_job(self, job_id: int, reason: str) -> str | None:
        return store.interrupt_job(self.engine, job_id, reason)

    def last_activity(self, job_id: int) -> datetime:
        return store.last_activity(self.engine, job_id)

    def reopen_job(
        self,
        job_id: int,
        *,
        expect_status: str | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> tuple[list[str], datetime]:
        return store.reopen_job(self.engine, job_id, expect_status=expect_status, params=params)

    def running_jobs(self) -> list[tuple[int, dict[str, Any]]]:
        return store.running_jobs(self.engine)

    def claim_items(
        self,
        job_id: int,
        pair_ids: Sequence[str],
        *,
        enqueued_at: datetime,
        stale_after_s: float,
        max_attempts: int,
    ) -> list[str]:
        return store.claim_items(
            self.engine,
            job_id,
            pair_ids,
            enqueued_at=enqueued_at,
            stale_after_s=stale_after_s,
            max_attempts=max_attempts,
        )

    def touch_items(self, job_id: int, pair_ids: Sequence[str]) -> None:
        store.touch_items(self.engine, job_id, pair_ids)

    def take_stalled(self, job_id: int, stale_after_s: float) -> tuple[list[str], datetime]:
        return store.take_stalled(self.engine, job_id, stale_after_s)

    def load_chunk(
        self, pair_ids: Sequence[str], judges: Sequence[JudgeKey]
    ) -> tuple[list[PairText], dict[str, dict[tuple[str, Order], OrderVerdict]]]:
        return store.load_chunk(self.engine, pair_ids, judges)

    def record_outcomes(self, job_id: int, outcomes: Sequence[PairOutcome]) -> None:
        store.record_outcomes(self.engine, job_id, outcomes)

    def summarize_job(self, job_id: int, *, failures: int = 0) -> JobSummary:
        return summaries.summarize_job(self.engine, job_id, failures=failures)

    def close(self) -> None:
        self.engine.dispose()


def open_job_store(database_url: str) -> SqlJobStore:
    """A store on a new engine for ``database_url`` (a worker process's ``open_store``)."""
    from referee.db.engine import make_engine

    return SqlJobStore(make_engine(database_url))


__all__ = ["SqlJobStore", "open_job_store"]
