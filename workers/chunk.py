"""The task body: judge one chunk of a job's pairs. Celery and the in-process runner both call it.

A chunk is ``(job id, pair ids, enqueued_at)``; everything else is re-read from the database, so
a redelivered or duplicated chunk is harmless (see :class:`workers.ports.JobStore` for the
claim rule).

Inside a chunk every (pair, judge) runs concurrently on the process's event loop, bounded by the
per-model limits; the task thread meanwhile writes finished pairs in small batches, refreshes its
claim, and watches for cancellation. Failures, by kind:

- transient (429/5xx/timeouts after the judge's own retries): the pair is tried again, up to
  the budget's ``pair_attempts`` in all in this chunk (:class:`judge.retry.RetryBudget`, the one
  place every retry limit is set), then marked failed with the reason;
- a problem with one pair (400, replay miss, anything unexpected): the pair is marked failed;
- a configuration error (bad spec, API key, unknown model: 401/403/404): the whole job fails at
  once with the judge's message, and every chunk still queued does nothing;
- an interrupt of this process (its :class:`workers.gate.CallGate` closed): calls not yet sent
  are not sent, the pairs they belong to stay pending (with the verdicts that did come back),
  and the chunk ends once its calls in flight are answered or, after ``abort``, cancelled.

The task thread stops draining when the coroutine says it is finished *or* is seen done, so a
chunk whose coroutine was cancelled before it ran (or while cleaning up) never waits forever.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from judge.errors import (
    JudgeConfigError,
    JudgeError,
    PermanentJudgeError,
    TransientProviderError,
)
from judge.labels import ORDERS, Order
from judge.pipeline import Judge, judge_pair
from judge.retry import RetryBudget
from judge.types import OrderVerdict, PairText
from workers.context import WorkerContext
from workers.gate import CallsStopped
from workers.outcomes import JudgeKey, PairOutcome

FLUSH_EVERY_S = 0.25
FLUSH_BATCH = 64
HEARTBEAT_EVERY_S = 5.0
CANCEL_WAIT_S = 5.0  # after a cancel, how long the drain waits for the coroutine's end marker
FATAL_STATUS_CODES = (401, 403, 404)
log = logging.getLogger("referee.workers")


@dataclass(frozen=True)
class ChunkReport:
    """What one chunk did (returned by the task; JSON-friendly through :meth:`to_json`)."""

    job_id: int
    claimed: int
    done: int
    failed: int
    new_verdicts: int
    skipped: str | None = None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (Celery's result)."""
        return {
            "job_id": self.job_id,
            "claimed": self.claimed,
            "done": self.done,
            "failed": self.failed,
            "new_verdicts": self.new_verdicts,
            "skipped": self.skipped,
        }


_NOTHING = object()


@dataclass(frozen=True)
class _JobFailure:
    message: str


def is_fatal(exc: BaseException) -> bool:
    """True when ``exc`` means the job's configuration is wrong (fail the job, not the pair)."""
    if isinstance(exc, JudgeConfigError):
        return True
    return isinstance(exc, PermanentJudgeError) and exc.status_code in FATAL_STATUS_CODES


def _describe(exc: BaseException) -> str:
    if isinstance(exc, JudgeError):
        return f"{type(exc).__name__}: {exc}"
    return f"unexpected {type(exc).__name__}: {exc}"


async def _judge_one(
    pair: PairText,
    judges: Sequence[Judge],
    existing: Mapping[tuple[str, Order], OrderVerdict],
    budget: RetryBudget,
) -> PairOutcome:
    """Every judge on one pair, both orders; a judge failing transiently is tried again, up to
    ``budget.pair_attempts`` times in all, ``budget.pair_pause_s * attempt`` seconds apart."""
    pair_attempts = budget.pair_attempts
    known: dict[tuple[str, Order], OrderVerdict] = dict(existing)
    new: list[tuple[str, OrderVerdict]] = []

    def keep(judge_name: str, verdict: OrderVerdict) -> None:
        if verdict.reused or verdict.status == "failed":
            return
        if (judge_name, verdict.order) not in known or known[(judge_name, verdict.order)].reused:
            new.append((judge_name, verdict))
        known[(judge_name, verdict.order)] = verdict

    async def run(judge: Judge) -> None:
        for attempt in range(1, pair_attempts + 1):
            mine = {o: known[(judge.name, o)] for o in ORDERS if (judge.name, o) in known}
            try:
                result = await judge_pair(pair, judge, mine)
            except TransientProviderError as exc:
                for (name, _order), verdict in exc.partial.items():
                    keep(name, verdict)
                if attempt == pair_attempts:
                    raise
                await asyncio.sleep(budget.pair_pause_s * attempt)
                continue
            except JudgeError as exc:
                for (name, _order), verdict in exc.partial.items():
                    keep(name, verdict)
                raise
            for verdict in result.verdicts():
                keep(judge.name, verdict)
            return

    results = await asyncio.gather(*(run(j) for j in judges), return_exceptions=True)
    errors = [r for r in results if isinstance(r, BaseException)]
    fatal = [e for e in errors if is_fatal(e)]
    if fatal:
        raise fatal[0]
    cancelled = [e for e in errors if isinstance(e, asyncio.CancelledError)]
    if cancelled:
        raise cancelled[0]
    if any(isinstance(e, CallsStopped) for e in errors):
        # interrupted before every call was sent: keep what came back, leave the pair pending
        return PairOutcome(pair.pair_id, "pending", tuple(new))
    if errors:
        reason = "; ".join(_describe(e) for e in errors)
        return PairOutcome(pair.pair_id, "failed", tuple(new), error=reason[:2000])
    return PairOutcome(pair.pair_id, "done", tuple(new))


async def _judge_chunk(
    pairs: Sequence[PairText],
    judges: Sequence[Judge],
    existing: Mapping[str, Mapping[tuple[str, Order], OrderVerdict]],
    out: queue.Queue[PairOutcome | _JobFailure | None],
    budget: RetryBudget,
) -> None:
    """Judge every pair concurrently, pushing each outcome to ``out`` as soon as it is known."""

    async def one(pair: PairText) -> None:
        try:
            outcome = await _judge_one(pair, judges, existing.get(pair.pair_id, {}), budget)
        except asyncio.CancelledError:
            raise
        except BaseException as exc:
            if is_fatal(exc):
                out.put(_JobFailure(str(exc)))
                raise
            outcome = PairOutcome(pair.pair_id, "failed", (), error=_describe(exc)[:2000])
        out.put(outcome)

    tasks = [asyncio.ensure_future(one(p)) for p in pairs]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
    finally:
        try:
            for task in tasks:
                if not task.done():
                    task.cancel()
            # a cancel arriving now (the drain stopping the chunk) must not skip the end marker
            await asyncio.gather(*tasks, return_exceptions=True)
        finally:
            out.put(None)


def process_chunk(
    ctx: WorkerContext,
    job_id: int,
    pair_ids: Sequence[str],
    enqueued_at: datetime,
    *,
    pair_attempts: int | None = None,
) -> ChunkReport:
    """Judge the claimable pairs of ``pair_ids`` for job ``job_id`` and store the results.

    Idempotent: pairs already done, or held by another live delivery, are skipped; verdicts
    already stored are reused, never paid for again. Retry limits come from the context's
    :class:`judge.retry.RetryBudget` (``pair_attempts``, when given, replaces its own) and the
    job's ``max_attempts`` (the budget's ``max_claims`` when the job was created).
    """
    budget = ctx.config.retry
    if pair_attempts is not None:
        budget = replace(budget, pair_attempts=pair_attempts)
    store = ctx.store
    if ctx.gate.closed:
        return ChunkReport(job_id, 0, 0, 0, 0, skipped="interrupted")
    status, params = store.job_params(job_id)
    if status != "running":
        return ChunkReport(job_id, 0, 0, 0, 0, skipped=f"job is {status}")
    try:
        judges = ctx.judges_for(params)
    except JudgeError as exc:
        store.set_job_status(job_id, "failed", error=str(exc))
        return ChunkReport(job_id, 0, 0, 0, 0, skipped=f"job failed: {exc}")
    stale_after_s = float(params.get("stale_after_s", 120.0))
    claimed = store.claim_items(
        job_id,
        pair_ids,
        enqueued_at=enqueued_at,
        stale_after_s=stale_after_s,
        max_attempts=int(params.get("max_attempts", budget.max_claims)),
    )
    if not claimed:
        store.finish_if_complete(job_id)
        return ChunkReport(job_id, 0, 0, 0, 0, skipped="nothing to claim")
    keys = [JudgeKey(j.name, j.prompt_version, j.conversation_version) for j in judges]
    pairs, existing = store.load_chunk(claimed, keys)
    out: queue.Queue[PairOutcome | _JobFailure | None] = queue.Queue()
    future = ctx.loop.submit(_judge_chunk(pairs, judges, existing, out, budget))
    started = time.monotonic()
    report = _drain(
        ctx, job_id, claimed, out, future, heartbeat_s=min(HEARTBEAT_EVERY_S, stale_after_s / 3)
    )
    store.finish_if_complete(job_id)
    elapsed = time.monotonic() - started
    log.info(
        "job %d: chunk of %d pair(s): %d done, %d failed, %d new verdict(s) in %.1f s "
        "(%.1f verdicts/s)%s",
        job_id, report.claimed, report.done, report.failed, report.new_verdicts, elapsed,
        report.new_verdicts / elapsed if elapsed > 0 else 0.0,
        f"; stopped: {report.skipped}" if report.skipped else "",
    )  # fmt: skip
    return report


def _cancel(future: Future[None]) -> float:
    """Ask the chunk's coroutine to stop; returns when it was asked."""
    future.cancel()
    return time.monotonic()


def _gone(future: Future[None], cancelled_at: float | None) -> bool:
    """True when no end marker will come: the coroutine finished without one, or it was
    cancelled ``CANCEL_WAIT_S`` ago and is still silent (cancelled before it ever ran)."""
    if cancelled_at is None:
        return future.done()
    return time.monotonic() - cancelled_at > CANCEL_WAIT_S


def _drain(
    ctx: WorkerContext,
    job_id: int,
    claimed: Sequence[str],
    out: queue.Queue[PairOutcome | _JobFailure | None],
    future: Future[None],
    *,
    heartbeat_s: float,
) -> ChunkReport:
    """Write outcomes in batches, heartbeat the claim, stop on cancellation or job failure.
    Ends at the coroutine's end marker, or when the coroutine is done and nothing is left to
    read (it was cancelled before it could say so)."""
    remaining = set(claimed)
    batch: list[PairOutcome] = []
    tally: Counter[str] = Counter()  # pairs done, pairs failed, new verdicts
    last_flush = last_beat = time.monotonic()
    stopped: str | None = None  # why the chunk stopped early
    cancelled_at: float | None = None

    def flush() -> None:
        nonlocal last_flush
        ctx.store.record_outcomes(job_id, batch)
        batch.clear()
        last_flush = time.monotonic()

    while True:
        item: PairOutcome | _JobFailure | object | None
        try:
            item = out.get(timeout=FLUSH_EVERY_S)
        except queue.Empty:
            if _gone(future, cancelled_at) and out.empty():
                break
            item = _NOTHING
        if item is None:
            break
        if ctx.gate.aborted and cancelled_at is None:
            stopped = stopped or "interrupted"
            cancelled_at = _cancel(future)
        if isinstance(item, _JobFailure):
            ctx.store.set_job_status(job_id, "failed", error=item.message)
            stopped = "job failed"
            cancelled_at = cancelled_at or _cancel(future)
        elif isinstance(item, PairOutcome):
            batch.append(item)
            remaining.discard(item.pair_id)
            tally["new_verdicts"] += len(item.new_verdicts)
            tally[item.status] += 1
        now = time.monotonic()
        if batch and (len(batch) >= FLUSH_BATCH or now - last_flush >= FLUSH_EVERY_S):
            flush()
        if now - last_beat >= heartbeat_s and stopped is None:
            last_beat = now
            if (reason := _heartbeat(ctx, job_id, remaining)) is not None:
                stopped = reason
                cancelled_at = cancelled_at or _cancel(future)
    if batch:
        flush()
    done, failed, new = tally["done"], tally["failed"], tally["new_verdicts"]
    return ChunkReport(job_id, len(claimed), done, failed, new, skipped=stopped)


def _heartbeat(ctx: WorkerContext, job_id: int, remaining: set[str]) -> str | None:
    """Extend the claim on the pairs still being judged while the job runs; otherwise the
    reason to stop (``None`` while an interrupt winds down through the gate instead)."""
    status = ctx.store.job_status(job_id)
    if status == "running":
        ctx.store.touch_items(job_id, sorted(remaining))
        return None
    return None if ctx.gate.closed else f"job is {status}"


__all__ = ["ChunkReport", "is_fatal", "process_chunk"]
