"""A job's items are written by the database and enqueued as they are read back, a page at a
time: every pair still goes out exactly once, and a replayed job stores one verdict per order.
The waiting client polls a large job less often and sweeps for stalls by the stall period."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select

from referee.db.engine import transaction
from referee.db.models import Job, JobItem, Judgment
from referee.jobs import store
from referee.jobs.sql_store import SqlJobStore
from tests.workers.seed import seed_dataset, write_replay
from workers.context import WorkerConfig, WorkerContext
from workers.jobs import enqueue_chunks, poll_interval, run_prelabel, sweep_interval
from workers.runner import InProcessRunner


class RecordingRunner:
    """A runner that only remembers the chunks it was given."""

    def __init__(self) -> None:
        self.chunks: list[list[str]] = []

    def enqueue(self, job_id: int, pair_ids: Sequence[str], enqueued_at: datetime) -> None:
        self.chunks.append(list(pair_ids))

    def check(self) -> None:
        """Nothing runs here."""


def test_items_are_paged_back_in_id_order_each_once(sqlite_engine: Engine) -> None:
    ids = seed_dataset(sqlite_engine, "toy", 23)
    job_id, _, at = store.create_job(sqlite_engine, "toy", {"judges": []})
    runner = RecordingRunner()
    # pages of 4 ids cut across chunks of 5: no id lost or repeated at a page boundary
    count = enqueue_chunks(runner, job_id, store.job_item_ids(sqlite_engine, job_id, page=4), 5, at)
    assert count == 5 and [len(c) for c in runner.chunks] == [5, 5, 5, 5, 3]
    assert [p for c in runner.chunks for p in c] == sorted(ids)
    with transaction(sqlite_engine) as s:
        job = s.get(Job, job_id)
        assert job is not None and (job.total_items, job.status) == (23, "running")
        items = s.execute(select(JobItem.status, JobItem.attempts, JobItem.cost)).all()
    assert set(items) == {("pending", 0, 0.0)} and len(items) == 23


def test_only_subset_and_empty_job(sqlite_engine: Engine) -> None:
    ids = seed_dataset(sqlite_engine, "toy", 9)
    subset = {ids[1], ids[4], "not-in-the-dataset"}
    job_id, stream, _ = store.create_job(sqlite_engine, "toy", {"judges": []}, only=subset)
    assert list(stream) == sorted({ids[1], ids[4]})
    empty_id, empty, _ = store.create_job(sqlite_engine, "toy", {"judges": []}, only=set())
    assert list(empty) == []
    with transaction(sqlite_engine) as s:
        assert s.get(Job, job_id).total_items == 2  # type: ignore[union-attr]
        assert s.get(Job, empty_id).status == "done"  # type: ignore[union-attr]


def test_streamed_job_stores_each_order_once(
    sqlite_engine: Engine, sqlite_url: str, tmp_path: Path
) -> None:
    ids = seed_dataset(sqlite_engine, "toy", 31)
    replay = write_replay(tmp_path / "j.jsonl", ids)
    context = WorkerContext(WorkerConfig(database_url=sqlite_url), SqlJobStore(sqlite_engine))
    try:
        summary = run_prelabel(
            context.store, dataset="toy", judges=[f"replay:{replay}"],
            runner=InProcessRunner(context), chunk_size=4, poll_s=0.05,
        )  # fmt: skip
    finally:
        context.close()
    assert (summary.status, summary.done, summary.total) == ("done", 31, 31)
    with transaction(sqlite_engine) as s:
        rows = s.scalar(select(func.count()).select_from(Judgment))
        distinct = s.execute(select(Judgment.pair_id, Judgment.order).distinct()).all()
    assert rows == len(distinct) == 2 * 31


class CountingStore:
    """A job store that counts the stall sweeps' reads (``take_stalled``) and the polls."""

    def __init__(self, inner: SqlJobStore) -> None:
        self.inner = inner
        self.calls: Counter[str] = Counter()

    def __getattr__(self, name: str) -> Any:
        if name in ("take_stalled", "summarize_job"):
            self.calls[name] += 1
        return getattr(self.inner, name)


def test_waiting_client_polls_by_size_and_sweeps_by_staleness(
    sqlite_engine: Engine, sqlite_url: str, tmp_path: Path
) -> None:
    assert poll_interval(0.5, 2_000) == 0.5 and poll_interval(0.5, 1_000_000) == 10.0
    assert sweep_interval(0.2, 3.0) == 0.75 and sweep_interval(0.5, 120.0) == 30.0
    ids = seed_dataset(sqlite_engine, "toy", 12)
    replay = write_replay(tmp_path / "j.jsonl", ids)
    context = WorkerContext(WorkerConfig(database_url=sqlite_url), SqlJobStore(sqlite_engine))
    counting = CountingStore(SqlJobStore(sqlite_engine))
    try:
        summary = run_prelabel(
            counting, dataset="toy", judges=[f"replay:{replay}"],  # type: ignore[arg-type]
            runner=InProcessRunner(context), chunk_size=3, poll_s=0.01,
        )  # fmt: skip
    finally:
        context.close()
    assert summary.status == "done"
    # polled many times at 10 ms, but a stall (120 s quiet) is looked for only every 30 s
    assert counting.calls["summarize_job"] >= 2 and counting.calls["take_stalled"] == 0
