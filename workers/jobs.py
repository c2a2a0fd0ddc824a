"""Pre-labeling jobs: create, enqueue in chunks, wait with progress, resume, sweep stalls.

This is the public entry of the package (the "real worker path" the demo calls)::

    engine = make_engine(url); ensure_schema(engine)
    ctx = WorkerContext(WorkerConfig(database_url=url), engine)
    summary = run_prelabel(engine, dataset="llmbar", runner=InProcessRunner(ctx),
                           judges=["replay:judgments.jsonl#gpt-4/vanilla"])
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from judge.errors import JudgeConfigError
from judge.spec import parse_judge_spec
from workers import store
from workers.errors import JobInputError, JobStateError
from workers.runner import TaskRunner
from workers.store import JobSummary

ProgressCallback = Callable[[JobSummary], None]

DEFAULT_CHUNK_SIZE = 50
DEFAULT_STALE_AFTER_S = 120.0
DEFAULT_MAX_ATTEMPTS = 5


def validate_judges(judges: Sequence[str]) -> list[str]:
    """Check every judge spec parses (replay files are read); raise :class:`JobInputError`."""
    specs = [j.strip() for j in judges if j.strip()]
    if not specs:
        raise JobInputError("give at least one judge: --judge MODEL (e.g. openai/gpt-4o-mini)")
    names: list[str] = []
    for text in specs:
        try:
            names.append(parse_judge_spec(text).name)
        except JudgeConfigError as exc:
            raise JobInputError(str(exc)) from exc
    if len(set(names)) != len(names):
        raise JobInputError(f"judges need distinct names, got {names}; add ?name=... to one")
    return specs


def enqueue_chunks(
    runner: TaskRunner,
    job_id: int,
    pair_ids: Sequence[str],
    chunk_size: int,
    enqueued_at: datetime,
) -> int:
    """Send ``pair_ids`` to ``runner`` in chunks of ``chunk_size``; returns the chunk count."""
    count = 0
    for start in range(0, len(pair_ids), chunk_size):
        runner.enqueue(job_id, pair_ids[start : start + chunk_size], enqueued_at)
        count += 1
    return count


def start_prelabel(
    engine: Engine,
    *,
    dataset: str,
    judges: Sequence[str],
    runner: TaskRunner,
    api_base: str | None = None,
    concurrency: int | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    stale_after_s: float = DEFAULT_STALE_AFTER_S,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
) -> int:
    """Create a pre-labeling job over every pair of ``dataset`` and enqueue it; returns its id.

    Frozen-evaluation pairs are included (routing keeps them out of training).
    Raises :class:`JobInputError` for an unknown dataset or a bad judge spec.
    """
    if chunk_size < 1:
        raise JobInputError("--chunk-size must be at least 1")
    if concurrency is not None and concurrency < 1:
        raise JobInputError("--concurrency must be at least 1")
    specs = validate_judges(judges)
    params: dict[str, Any] = {
        "judges": specs,
        "api_base": api_base,
        "concurrency": concurrency,
        "chunk_size": chunk_size,
        "stale_after_s": stale_after_s,
        "max_attempts": max_attempts,
    }
    job_id, pair_ids, enqueued_at = store.create_job(engine, dataset, params)
    enqueue_chunks(runner, job_id, pair_ids, chunk_size, enqueued_at)
    return job_id


def resume_prelabel(engine: Engine, job_id: int, *, runner: TaskRunner) -> int:
    """Re-open a job and enqueue only its pending and failed pairs; returns how many.

    Verdicts already stored are reused, so finished orders are never paid for again.
    """
    status, params = store.job_params(engine, job_id)
    if status == "running":
        raise JobStateError(
            f"job {job_id} is still running; wait for it or `referee job cancel {job_id}` first"
        )
    todo, enqueued_at = store.reopen_job(engine, job_id)
    enqueue_chunks(
        runner, job_id, todo, int(params.get("chunk_size", DEFAULT_CHUNK_SIZE)), enqueued_at
    )
    return len(todo)


def sweep_stalled(engine: Engine, runner: TaskRunner, job_id: int | None = None) -> int:
    """Re-enqueue the pending items of stalled running jobs (lost messages, dead workers).

    Checks ``job_id`` only, or every running job. Returns how many items were re-enqueued.
    """
    jobs = store.running_jobs(engine)
    total = 0
    for jid, params in jobs:
        if job_id is not None and jid != job_id:
            continue
        stale = float(params.get("stale_after_s", DEFAULT_STALE_AFTER_S))
        items, enqueued_at = store.take_stalled(engine, jid, stale)
        if items:
            size = int(params.get("chunk_size", DEFAULT_CHUNK_SIZE))
            enqueue_chunks(runner, jid, items, size, enqueued_at)
            total += len(items)
    return total


def wait_for_job(
    engine: Engine,
    job_id: int,
    *,
    runner: TaskRunner | None = None,
    progress_callback: ProgressCallback | None = None,
    poll_s: float = 0.5,
    timeout_s: float | None = None,
) -> JobSummary:
    """Poll the database until the job finishes; report progress; re-arm it if it stalls.

    Returns the final summary (or the current one after ``timeout_s``).
    """
    started = time.monotonic()
    while True:
        if runner is not None:
            runner.check()
        summary = store.summarize_job(engine, job_id)
        if progress_callback is not None:
            progress_callback(summary)
        if summary.finished:
            return store.summarize_job(engine, job_id, failures=20)
        if timeout_s is not None and time.monotonic() - started > timeout_s:
            return summary
        if runner is not None:
            sweep_stalled(engine, runner, job_id)
        time.sleep(poll_s)


def run_prelabel(
    engine: Engine,
    *,
    dataset: str,
    judges: Sequence[str],
    runner: TaskRunner,
    api_base: str | None = None,
    concurrency: int | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    progress_callback: ProgressCallback | None = None,
    poll_s: float = 0.5,
    stale_after_s: float = DEFAULT_STALE_AFTER_S,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
) -> JobSummary:
    """Create, enqueue and wait for a pre-labeling job; returns its final summary."""
    job_id = start_prelabel(
        engine,
        dataset=dataset,
        judges=judges,
        runner=runner,
        api_base=api_base,
        concurrency=concurrency,
        chunk_size=chunk_size,
        stale_after_s=stale_after_s,
        max_attempts=max_attempts,
    )
    return wait_for_job(
        engine, job_id, runner=runner, progress_callback=progress_callback, poll_s=poll_s
    )


__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "ProgressCallback",
    "enqueue_chunks",
    "resume_prelabel",
    "run_prelabel",
    "start_prelabel",
    "sweep_stalled",
    "validate_judges",
    "wait_for_job",
]
