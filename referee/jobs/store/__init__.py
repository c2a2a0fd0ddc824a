"""Every database read and write of a pre-labeling job, in short transactions.

The database, not the broker, is the source of truth: a job's items (``job_items``) say which pairs
are pending, done or failed; a chunk *claims* its pending items before judging them, so two
deliveries of the same chunk never judge the same pair at once (the claim rule is in
:mod:`referee.jobs.store.claims`), and a judgment is inserted with ``ON CONFLICT DO NOTHING`` on its
unique key, so a redelivered chunk never duplicates one (:mod:`referee.jobs.store.judgments`).

By job: :mod:`~referee.jobs.store.lifecycle` (the job row: create, status, finish, resume,
cancel), :mod:`~referee.jobs.store.claims` (who works on which item) and
:mod:`~referee.jobs.store.judgments` (the verdicts). The statuses and outcomes they store are
pure and live in :mod:`workers.outcomes`; the worker sees them through
:class:`referee.jobs.sql_store.SqlJobStore`.
"""

from __future__ import annotations

from referee.db.models import as_utc
from referee.jobs.store._sql import utcnow
from referee.jobs.store.claims import claim_items, take_stalled, touch_items
from referee.jobs.store.judgments import load_chunk, record_outcomes
from referee.jobs.store.lifecycle import (
    cancel_job,
    create_job,
    finish_if_complete,
    interrupt_job,
    job_item_ids,
    job_params,
    job_status,
    last_activity,
    reopen_job,
    running_jobs,
    set_job_status,
)
from workers.outcomes import (
    ACTIVE,
    FINISHED,
    UNSUCCESSFUL,
    JudgeKey,
    PairOutcome,
    final_status,
)

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
    "job_item_ids",
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
