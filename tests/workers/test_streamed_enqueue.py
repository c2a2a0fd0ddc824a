"""A job's items are written by the database and enqueued as they are read back, a page at a
time: every pair still goes out exactly once, and a replayed job stores one verdict per order."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine, func, select

from referee.db.engine import transaction
from referee.db.models import Job, JobItem, Judgment
from referee.jobs import store
from referee.jobs.sql_store import SqlJobStore
from tests.workers.seed import seed_dataset, write_replay
from workers.context import WorkerConfig, WorkerContext
from workers.jobs import enqueue_chunks, run_prelabel
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
