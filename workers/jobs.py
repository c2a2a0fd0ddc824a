"""Pre-labeling jobs: create, enqueue in chunks, wait with progress, resume, sweep stalls.

This is the public entry of the package (the "real worker path" the demo calls)::

    store = SqlJobStore(engine)  # referee.jobs.sql_store: the storage the entry point chose
    ctx = WorkerContext(WorkerConfig(database_url=url), store)
    summary = run_prelabel(store, dataset="llmbar", runner=InProcessRunner(ctx),
                           judges=["replay:judgments.jsonl#gpt-4/vanilla"])
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from itertools import islice
from typing import TYPE_CHECKING, Any

from judge.errors import JudgeConfigError
from judge.retry import DEFAULT_BUDGET
from judge.spec import parse_judge_spec
from workers.errors import JobInputError, JobStateError
from workers.owner import describe, owner_alive
from workers.ports import JobStore
from workers.summaries import JobSummary

if TYPE_CHECKING:  # runners bring the judge stack; listing and inspecting jobs does not need it
    from workers.runner import InProcessRunner, TaskRunner

ProgressCallback = Callable[[JobSummary], None]

DEFAULT_CHUNK_SIZE = 50
DEFAULT_STALE_AFTER_S = 120.0
#: deliveries of a pair before it is failed as abandoned (the retry budget's last layer)
DEFAULT_MAX_ATTEMPTS = DEFAULT_BUDGET.max_claims


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
    pair_ids: Iterable[str],
    chunk_size: int,
    enqueued_at: datetime,
) -> int:
    """Send ``pair_ids`` to ``runner`` in chunks of ``chunk_size`` as they are read (one chunk
    in memory at a time); returns the chunk count."""
    count = 0
    ids = iter(pair_ids)
    while chunk := list(islice(ids, chunk_size)):
        runner.enqueue(job_id, chunk, enqueued_at)
        count += 1
    return count


def start_prelabel(
    store: JobStore,
    *,
    dataset: str,
    judges: Sequence[str],
    runner: TaskRunner,
    api_base: str | None = None,
    concurrency: int | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    stale_after_s: float = DEFAULT_STALE_AFTER_S,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    owner: Mapping[str, Any] | None = None,
    only: Collection[str] | None = None,
) -> int:
    """Create a pre-labeling job over every pair of ``dataset`` (or the pairs in ``only``) and
    enqueue it; returns its id.

    Frozen-evaluation pairs are included (routing keeps them out of training). ``owner``
    (:func:`workers.owner.this_process`) marks a job judged in this process only, so that
    ``--resume`` can take it over if the process dies.
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
    if owner is not None:
        params["owner"] = dict(owner)
    job_id, pair_ids, enqueued_at = store.create_job(dataset, params, only=only)
    enqueue_chunks(runner, job_id, pair_ids, chunk_size, enqueued_at)
    return job_id


def resume_prelabel(
    store: JobStore,
    job_id: int,
    *,
    runner: TaskRunner,
    concurrency: int | None = None,
    owner: Mapping[str, Any] | None = None,
) -> int:
    """Re-open a job and enqueue only its pending and failed pairs; returns how many.

    Verdicts already stored are reused, so finished orders are never paid for again. A job
    still ``running`` is refused, unless it was judged in a process that is gone
    (:func:`workers.owner.owner_alive`). ``concurrency`` replaces the job's own; ``owner``
    is the process taking the job over (in-process runs).
    """
    if concurrency is not None and concurrency < 1:
        raise JobInputError("--concurrency must be at least 1")
    status, params = store.job_params(job_id)
    if status == "running":
        _check_orphaned(store, job_id, params)
    update: dict[str, Any] = {"owner": dict(owner) if owner is not None else None}
    if concurrency is not None:
        update["concurrency"] = concurrency
    todo, enqueued_at = store.reopen_job(job_id, expect_status=status, params=update)
    enqueue_chunks(
        runner, job_id, todo, int(params.get("chunk_size", DEFAULT_CHUNK_SIZE)), enqueued_at
    )
    return len(todo)


def _orphaned(store: JobStore, job_id: int, params: Mapping[str, Any]) -> bool:
    """True when a running job was judged in a process that is gone (nobody will finish it)."""
    owner = params.get("owner")
    if not owner:
        return False  # judged by Celery workers: the sweeper looks after it
    stale = float(params.get("stale_after_s", DEFAULT_STALE_AFTER_S))
    return not owner_alive(
        owner, last_activity=store.last_activity(job_id), now=datetime.now(UTC),
        stale_after_s=stale,
    )  # fmt: skip


def _check_orphaned(store: JobStore, job_id: int, params: Mapping[str, Any]) -> None:
    """Raise :class:`JobStateError` unless the running job's in-process owner is gone."""
    if _orphaned(store, job_id, params):
        return
    owner = params.get("owner")
    if not owner:
        raise JobStateError(
            f"job {job_id} is still running on the workers; wait for it or "
            f"`referee job cancel {job_id}` first"
        )
    raise JobStateError(
        f"job {job_id} is still running in {describe(owner)}; wait for it, interrupt it "
        f"(Ctrl-C) or `referee job cancel {job_id}` first"
    )


def mark_orphaned_jobs(store: JobStore) -> list[int]:
    """Mark ``interrupted`` every running job whose in-process owner is gone; returns their ids.

    ``referee jobs`` and ``referee job ID`` call it, so a killed ``prelabel`` shows as
    interrupted (and ``--resume`` finishes it) instead of running forever.
    """
    marked: list[int] = []
    for job_id, params in store.running_jobs():
        if _orphaned(store, job_id, params):
            owner = params.get("owner") or {}
            reason = f"interrupted: {describe(owner)}, which judged it, is gone"
            if store.set_job_status(job_id, "interrupted", error=reason, only_from=("running",)):
                marked.append(job_id)
    return marked


def sweep_stalled(store: JobStore, runner: TaskRunner, job_id: int | None = None) -> int:
    """Re-enqueue the pending items of stalled running jobs (lost messages, dead workers).

    Checks ``job_id`` only, or every running job. Returns how many items were re-enqueued.
    """
    jobs = store.running_jobs()
    total = 0
    for jid, params in jobs:
        if job_id is not None and jid != job_id:
            continue
        stale = float(params.get("stale_after_s", DEFAULT_STALE_AFTER_S))
        items, enqueued_at = store.take_stalled(jid, stale)
        if items:
            size = int(params.get("chunk_size", DEFAULT_CHUNK_SIZE))
            enqueue_chunks(runner, jid, items, size, enqueued_at)
            total += len(items)
    return total


#: job items one progress poll may count per second of polling: a larger job is polled less
#: often (a 1M-pair job every 10 s), so the waiting client's counting stays a bounded load
POLL_ITEMS_PER_S = 100_000


def poll_interval(poll_s: float, total_items: int) -> float:
    """Seconds between progress polls of a job of ``total_items``: ``poll_s``, or longer so
    that counting the items (one grouped count over them) reads at most
    :data:`POLL_ITEMS_PER_S` items per second."""
    return max(poll_s, total_items / POLL_ITEMS_PER_S)


def sweep_interval(poll_s: float, stale_after_s: float) -> float:
    """Seconds between the waiting client's stall sweeps: a stall is only declared after
    ``stale_after_s`` quiet seconds, so looking four times per that period is enough (each look
    reads the job's items)."""
    return max(poll_s, stale_after_s / 4)


def wait_for_job(
    store: JobStore,
    job_id: int,
    *,
    runner: TaskRunner | None = None,
    progress_callback: ProgressCallback | None = None,
    poll_s: float = 0.5,
    timeout_s: float | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> JobSummary:
    """Poll the database until the job finishes; report progress; re-arm it if it stalls.

    Polls every :func:`poll_interval` and sweeps for stalls every :func:`sweep_interval`.
    Returns the final summary (or the current one after ``timeout_s``, or as soon as
    ``should_stop()`` says so: an interrupt).
    """
    started = last_sweep = time.monotonic()
    _, params = store.job_params(job_id)
    sweep_s = sweep_interval(poll_s, float(params.get("stale_after_s", DEFAULT_STALE_AFTER_S)))
    while True:
        if runner is not None:
            runner.check()
        summary = store.summarize_job(job_id)
        if progress_callback is not None:
            progress_callback(summary)
        if summary.finished:
            return store.summarize_job(job_id, failures=20)
        if timeout_s is not None and time.monotonic() - started > timeout_s:
            return summary
        if should_stop is not None and should_stop():
            return summary
        if runner is not None and time.monotonic() - last_sweep >= sweep_s:
            sweep_stalled(store, runner, job_id)
            last_sweep = time.monotonic()
        _sleep(poll_interval(poll_s, summary.total), should_stop)


def _sleep(seconds: float, should_stop: Callable[[], bool] | None) -> None:
    """Sleep ``seconds``, waking early (within 50 ms) when ``should_stop()`` turns true."""
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        if should_stop is not None and should_stop():
            return
        time.sleep(min(left, 0.05))


def interrupt_prelabel(
    store: JobStore, job_id: int, runner: InProcessRunner, *, reason: str, grace_s: float = 2.0
) -> JobSummary:
    """Wind an in-process job down after an interrupt; returns its summary.

    No new judge call starts; calls in flight get ``grace_s`` seconds to be answered (their
    verdicts are stored) and are then cancelled; the job is left ``interrupted`` (or finished,
    if nothing was left), so ``--resume`` completes it without paying twice.
    """
    runner.context.gate.close()
    store.set_job_status(job_id, "interrupted", error=reason, only_from=("running",))
    runner.interrupt(grace_s=grace_s)
    store.interrupt_job(job_id, reason)
    return store.summarize_job(job_id, failures=20)


def outcome_message(summary: JobSummary) -> str | None:
    """What a user must know about a job that ended without a verdict for every pair.

    How many pairs failed and why (the commonest reasons), or that it was interrupted or
    cancelled, and the commands that show and finish it; ``None`` for a job that is ``done``.
    """
    if summary.succeeded or not summary.finished:
        return None
    jid = summary.id
    if summary.status in ("interrupted", "cancelled"):
        head = f"job {jid} {summary.status}: {summary.done} of {summary.total} pairs done"
    else:
        head = f"job {jid} {summary.status}: {summary.failed} of {summary.total} pairs failed"
        if summary.pending:
            head += f", {summary.pending} not judged"
    lines = [head]
    if summary.status == "failed" and summary.error and not summary.failed:
        lines.append(f"  error: {summary.error}")
    for reason, count in summary.reasons:
        lines.append(f"  {count} pair(s): {reason}")
    if summary.status in ("interrupted", "cancelled"):
        lines.append(f"finish it: `referee prelabel --resume {jid}`")
    else:
        lines.append(
            f"see them: `referee job {jid}`; retry them: `referee prelabel --resume {jid}`"
        )
    return "\n".join(lines)


def run_prelabel(
    store: JobStore,
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
        store,
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
        store, job_id, runner=runner, progress_callback=progress_callback, poll_s=poll_s
    )


__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "ProgressCallback",
    "enqueue_chunks",
    "interrupt_prelabel",
    "mark_orphaned_jobs",
    "outcome_message",
    "poll_interval",
    "resume_prelabel",
    "run_prelabel",
    "start_prelabel",
    "sweep_interval",
    "sweep_stalled",
    "validate_judges",
    "wait_for_job",
]
