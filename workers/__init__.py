"""Bulk pre-labeling jobs: chunks of pairs judged on Celery workers (or in-process), resumable,
idempotent and failure-tolerant. Start at :func:`workers.jobs.run_prelabel`.

The names below are loaded on first use (PEP 562), so ``import workers.summaries`` -- what
``referee jobs`` needs -- does not import the judge stack that ``workers.chunk`` brings.

Pure of storage: the worker reads and writes jobs through :class:`workers.ports.JobStore`,
which the entry points implement (:mod:`referee.jobs`).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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
    from workers.ports import JobStore
    from workers.runner import CeleryRunner, InProcessRunner, TaskRunner
    from workers.summaries import JobSummary

# public name -> the module that defines it
_HOME: dict[str, str] = {
    "ChunkReport": "chunk",
    "process_chunk": "chunk",
    "WorkerConfig": "context",
    "WorkerContext": "context",
    "BrokerUnavailableError": "errors",
    "JobInputError": "errors",
    "JobNotFoundError": "errors",
    "JobStateError": "errors",
    "UnknownDatasetError": "errors",
    "WorkerError": "errors",
    "resume_prelabel": "jobs",
    "run_prelabel": "jobs",
    "start_prelabel": "jobs",
    "sweep_stalled": "jobs",
    "wait_for_job": "jobs",
    "CeleryRunner": "runner",
    "InProcessRunner": "runner",
    "TaskRunner": "runner",
    "JobStore": "ports",
    "JobSummary": "summaries",
}


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module 'workers' has no attribute {name!r}")
    return getattr(importlib.import_module(f"workers.{home}"), name)


__all__ = [
    "BrokerUnavailableError",
    "CeleryRunner",
    "ChunkReport",
    "InProcessRunner",
    "JobInputError",
    "JobNotFoundError",
    "JobStateError",
    "JobStore",
    "JobSummary",
    "TaskRunner",
    "UnknownDatasetError",
    "WorkerConfig",
    "WorkerContext",
    "WorkerError",
    "process_chunk",
    "resume_prelabel",
    "run_prelabel",
    "start_prelabel",
    "sweep_stalled",
    "wait_for_job",
]
