"""Every database read and write of a pre-labeling job, in short transactions.

The database, not the broker, is the source of truth: a job's items (``job_items``) say which pairs
are pending, done or failed; a chunk *claims* its pending items before judging them, so two
deliveries of the same chunk never judge the same pair at once (the claim rule is in
:mod:`workers.store.claims`), and a judgment is inserted with ``ON CONFLICT DO NOTHING`` on its
unique key, so a redelivered chunk never duplicates one (:mod:`workers.store.judgments`).

By job: :mod:`~workers.store.lifecycle` (the job row: create, status, finish, resume, cancel),
:mod:`~workers.store.claims` (who works on which item) and :mod:`~workers.store.judgments` (the
verdicts). The statuses and outcomes they store are pure and live in :mod:`workers.outcomes`.
"""

from __future__ import annotations

from referee.db.models import as_utc
from workers.outcomes import (
    ACTIVE,
    FINISHED,
    UNSUCCESSFUL,
    JudgeKey,
    PairOutcome,
    final_status,
)
from workers.store._sql import utcnow
from workers.store.claims import claim_items, take_stalled, touch_items
from workers.store.judgments import load_chunk, record_outcomes
from workers.store.lifecycle import (
    cancel_job,
    create_job,
    finish_if_complete,
    interrupt_job,
    job_params,
    job_status,
    last_activity,
    reopen_job,
    running_jobs,
    set_job_status,
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
