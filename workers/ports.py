"""The one interface through which the worker reads and writes a job: :class:`JobStore`.

``workers`` never imports storage: an entry point (``referee prelabel``, ``referee worker``)
builds a store -- :class:`referee.jobs.sql_store.SqlJobStore` over SQLAlchemy -- and hands it
to :class:`workers.context.WorkerContext` or to the functions of :mod:`workers.jobs`.

The database, not the broker, is the source of truth: a chunk *claims* its pending items before
judging them (two deliveries of one chunk never judge the same pair at once), and a stored
verdict is never duplicated by a redelivered chunk. Implementations keep those two promises.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from judge.labels import Order
from judge.types import OrderVerdict, PairText
from workers.outcomes import ACTIVE, JudgeKey, PairOutcome
from workers.summaries import JobSummary


class JobStore(Protocol):
    """A job's rows: the job (status, parameters), its items (claims) and its verdicts."""

    def create_job(
        self,
        dataset: str,
        params: dict[str, Any],
        *,
        kind: str = "prelabel",
        only: Collection[str] | None = None,
    ) -> tuple[int, Iterator[str], datetime]:
        """A running job with one pending item per pair: (job id, pair ids, enqueued at).

        The pair ids come as an iterator that reads them from storage a page at a time after
        the job is committed, so enqueueing a million-pair job never holds every id."""
        ...

    def job_params(self, job_id: int) -> tuple[str, dict[str, Any]]:
        """The job's status and parameters."""
        ...

    def job_status(self, job_id: int) -> str | None:
        """The job's status (None when there is no such job)."""
        ...

    def set_job_status(
        self,
        job_id: int,
        status: str,
        *,
        error: str | None = None,
        only_from: Sequence[str] = ACTIVE,
    ) -> bool:
        """Move the job to ``status`` if it is in ``only_from``; True when it moved."""
        ...

    def finish_if_complete(self, job_id: int, *, only_from: Sequence[str] = ("running",)) -> bool:
        """Give the job its final status when no item is pending; True when it did."""
        ...

    def interrupt_job(self, job_id: int, reason: str) -> str | None:
        """Release the job's claims after an interrupt; the job's status."""
        ...

    def last_activity(self, job_id: int) -> datetime:
        """When the job or one of its items last changed."""
        ...

    def reopen_job(
        self,
        job_id: int,
        *,
        expect_status: str | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> tuple[list[str], datetime]:
        """Failed items pending again and the job running: (pair ids to do, enqueued at)."""
        ...

    def running_jobs(self) -> list[tuple[int, dict[str, Any]]]:
        """(id, parameters) of every running job."""
        ...

    def claim_items(
        self,
        job_id: int,
        pair_ids: Sequence[str],
        *,
        enqueued_at: datetime,
        stale_after_s: float,
        max_attempts: int,
    ) -> list[str]:
        """Claim the pending items of ``pair_ids`` no live delivery holds; the claimed ids."""
        ...

    def touch_items(self, job_id: int, pair_ids: Sequence[str]) -> None:
        """Heartbeat: the claims on ``pair_ids`` are still alive."""
        ...

    def take_stalled(self, job_id: int, stale_after_s: float) -> tuple[list[str], datetime]:
        """Pending items nobody touched for ``stale_after_s``, re-stamped to be enqueued again."""
        ...

    def load_chunk(
        self, pair_ids: Sequence[str], judges: Sequence[JudgeKey]
    ) -> tuple[list[PairText], dict[str, dict[tuple[str, Order], OrderVerdict]]]:
        """The pairs' texts and the verdicts already stored for them by ``judges``."""
        ...

    def record_outcomes(self, job_id: int, outcomes: Sequence[PairOutcome]) -> None:
        """Store the pairs' new verdicts and item statuses (idempotent)."""
        ...

    def summarize_job(self, job_id: int, *, failures: int = 0) -> JobSummary:
        """The job's summary. Raises :class:`workers.errors.JobNotFoundError`."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


__all__ = ["JobStore"]
