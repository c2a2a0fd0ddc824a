"""Bulk pre-labeling jobs: chunks of pairs judged on Celery workers (or in-process), resumable,
idempotent and failure-tolerant. Start at :func:`workers.jobs.run_prelabel`."""

from workers.chunk import ChunkReport, process_chunk
from workers.context import WorkerConfig, WorkerContext
from workers.errors import (
    BrokerUnavailableError,
    JobInputError,
    JobNotFoundError,
    JobStateError,
    UnknownDatasetError,
    WorkerError,
)
from workers.jobs import (
    resume_prelabel,
    run_prelabel,
    start_prelabel,
    sweep_stalled,
    wait_for_job,
)
from workers.runner import CeleryRunner, InProcessRunner, TaskRunner
from workers.store import cancel_job
from workers.summaries import JobSummary, summarize_job, summarize_jobs

__all__ = [
    "BrokerUnavailableError",
    "CeleryRunner",
    "ChunkReport",
    "InProcessRunner",
    "JobInputError",
    "JobNotFoundError",
    "JobStateError",
    "JobSummary",
    "TaskRunner",
    "UnknownDatasetError",
    "WorkerConfig",
    "WorkerContext",
    "WorkerError",
    "cancel_job",
    "process_chunk",
    "resume_prelabel",
    "run_prelabel",
    "start_prelabel",
    "summarize_job",
    "summarize_jobs",
    "sweep_stalled",
    "wait_for_job",
]
